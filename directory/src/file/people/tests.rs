use super::*;
use crate::FileDirectory;
use crate::error::{AuthError, FailureReason};
use crate::file::DEMO_PEOPLE;

/// A copy of the demo people in a temporary folder.
fn demo() -> (tempfile::TempDir, PeopleFile, FileSettings) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.toml");
    std::fs::write(&path, DEMO_PEOPLE).unwrap();
    let settings = FileSettings { path };
    (dir, PeopleFile::new(&settings), settings)
}

fn text(settings: &FileSettings) -> String {
    std::fs::read_to_string(&settings.path).unwrap()
}

fn frank(groups: &[&str], password: Option<&str>) -> NewUser {
    NewUser {
        username: "frank".into(),
        display_name: "Frank Zappa".into(),
        email: Some("frank@example.org".into()),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        password: password.map(Secret::new),
    }
}

async fn login(settings: &FileSettings, user: &str, password: &str) -> Result<(), AuthError> {
    FileDirectory::load(settings)
        .unwrap()
        .authenticate(user, password)
        .await
        .map(|_| ())
}

fn refusal(result: Result<(), AuthError>) -> FailureReason {
    match result {
        Err(AuthError::InvalidCredentials(reason)) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn an_added_user_logs_in_and_the_comments_stay() {
    let (_dir, file, settings) = demo();
    let account = file
        .add_user(&frank(&["staff", "staff"], Some("frankpw")))
        .unwrap();
    assert!(
        uuid::Uuid::parse_str(&account.subject).is_ok(),
        "{account:?}"
    );
    let after = text(&settings);
    assert!(
        after.starts_with(DEMO_PEOPLE),
        "the old text is kept as it was"
    );
    assert!(after.contains("groups = [\"staff\"]\n"), "{after}");
    assert!(login(&settings, "frank", "frankpw").await.is_ok());
    let people = FileDirectory::load(&settings).unwrap();
    assert_eq!(people.lookup("frank").unwrap().unwrap().groups, ["staff"]);
}

#[tokio::test]
async fn a_user_added_without_a_password_cannot_log_in_until_one_is_set() {
    let (_dir, file, settings) = demo();
    file.add_user(&frank(&[], None)).unwrap();
    assert_eq!(
        refusal(login(&settings, "frank", "frankpw").await),
        FailureReason::WrongPassword
    );
    file.set_password("Frank", &Secret::new("first")).unwrap();
    assert!(login(&settings, "frank", "first").await.is_ok());
    file.set_password("frank", &Secret::new("second")).unwrap();
    assert_eq!(
        refusal(login(&settings, "frank", "first").await),
        FailureReason::WrongPassword
    );
    assert!(login(&settings, "frank", "second").await.is_ok());
}

#[test]
fn refused_commands_leave_the_file_byte_for_byte() {
    let (_dir, file, settings) = demo();
    let before = text(&settings);
    let cases: Vec<(AdminError, &str)> = vec![
        (
            file.add_user(&frank(&["staff", "nosuch"], None))
                .unwrap_err(),
            "no group \"nosuch\"",
        ),
        (
            file.add_user(&NewUser {
                username: "Alice".into(),
                ..frank(&[], None)
            })
            .unwrap_err(),
            "already exists",
        ),
        (
            file.set_password("nobody", &Secret::new("x")).unwrap_err(),
            "no user \"nobody\"",
        ),
        (
            file.set_disabled("dave", true).unwrap_err(),
            "already disabled",
        ),
        (
            file.set_disabled("alice", false).unwrap_err(),
            "already enabled",
        ),
        (file.delete_user("nobody").unwrap_err(), "no user"),
        (file.add_group("staff").unwrap_err(), "already exists"),
        (
            file.add_member("staff", "alice").unwrap_err(),
            "already a member",
        ),
        (file.add_member("nosuch", "alice").unwrap_err(), "no group"),
        (
            file.remove_member("finance", "alice").unwrap_err(),
            "not a direct member",
        ),
    ];
    for (error, wanted) in cases {
        assert!(
            error.to_string().contains(wanted),
            "{error} (wanted {wanted:?})"
        );
    }
    assert_eq!(text(&settings), before);
}

#[tokio::test]
async fn disable_enable_and_delete_take_effect_at_login() {
    let (_dir, file, settings) = demo();
    assert!(file.set_disabled("erin", true).unwrap().disabled);
    assert_eq!(
        refusal(login(&settings, "erin", "erinpw").await),
        FailureReason::Disabled
    );
    assert!(!file.set_disabled("erin", false).unwrap().disabled);
    assert!(login(&settings, "erin", "erinpw").await.is_ok());
    let gone = file.delete_user("bob").unwrap();
    assert_eq!(gone.subject, "157181d0-ea94-4e83-8181-53e529155301");
    assert_eq!(
        refusal(login(&settings, "bob", "bobpw").await),
        FailureReason::UnknownUser
    );
    let after = text(&settings);
    assert!(!after.contains("Bob Builder"), "{after}");
    assert!(
        after.starts_with("# The people of `pforte demo`"),
        "the head comment stays"
    );
    let groups = FileDirectory::load(&settings).unwrap().groups();
    let partners = groups.iter().find(|g| g.name == "partners").unwrap();
    assert!(
        partners.members.is_empty(),
        "the group outlives its last member"
    );
}

#[test]
fn groups_and_memberships() {
    let (_dir, file, settings) = demo();
    file.add_group("video").unwrap();
    file.add_member("video", "bob").unwrap();
    file.add_member("video", "Dave").unwrap();
    file.remove_member("partners", "bob").unwrap();
    let groups = FileDirectory::load(&settings).unwrap().groups();
    let video = groups.iter().find(|g| g.name == "video").unwrap();
    let members: Vec<(&str, bool)> = video
        .members
        .iter()
        .map(|m| (m.name.as_str(), m.disabled))
        .collect();
    assert_eq!(members, [("bob", false), ("dave", true)]);
    assert!(
        groups
            .iter()
            .any(|g| g.name == "partners" && g.members.is_empty())
    );
    let staff = groups.iter().find(|g| g.name == "staff").unwrap();
    assert_eq!(staff.members.len(), 4, "alice, carol, dave, erin");
}

#[test]
fn a_broken_file_is_refused_with_its_places_and_kept() {
    let (_dir, file, settings) = demo();
    let broken = format!("{DEMO_PEOPLE}\n[[user]]\nusername = \"x\"\n");
    std::fs::write(&settings.path, &broken).unwrap();
    let err = file.add_group("video").unwrap_err();
    assert!(matches!(err, AdminError::File(_)), "{err}");
    assert!(err.to_string().contains("people.toml:"), "{err}");
    assert_eq!(text(&settings), broken);
}
