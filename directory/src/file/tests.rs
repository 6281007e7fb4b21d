use super::*;

fn reason(result: Result<UserRecord, AuthError>) -> FailureReason {
    match result {
        Err(AuthError::InvalidCredentials(reason)) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn every_demo_password_verifies() {
    let demo = FileDirectory::demo().unwrap();
    for name in ["alice", "bob", "carol", "erin"] {
        let user = demo.authenticate(name, &format!("{name}pw")).await.unwrap();
        assert_eq!(user.username, name);
    }
    assert_eq!(
        reason(demo.authenticate("dave", "davepw").await),
        FailureReason::Disabled,
        "dave's password is right, his account is disabled"
    );
    assert_eq!(
        reason(demo.authenticate("dave", "wrong").await),
        FailureReason::Disabled,
        "disabled whatever the password, as with LDAP"
    );
}

#[test]
fn a_mail_address_finds_one_enabled_person_without_case() {
    let demo = FileDirectory::demo().unwrap();
    let carol = demo.find_by_mail("Carol@Example.org").unwrap().unwrap();
    assert_eq!(carol.username, "carol");
    assert_eq!(demo.find_by_mail("nobody@example.org").unwrap(), None);
    assert_eq!(demo.find_by_mail("*").unwrap(), None);
}

#[tokio::test]
async fn demo_people_mirror_the_ldap_demo() {
    let demo = FileDirectory::demo().unwrap();
    let carol = demo.lookup("Carol").unwrap().unwrap();
    assert_eq!(carol.groups, ["finance", "staff"]);
    assert_eq!(carol.display_name, "Carol Danvers");
    assert_eq!(carol.email.as_deref(), Some("carol@example.org"));
    let alice = demo.lookup("alice").unwrap().unwrap();
    assert_eq!(alice.groups, ["admins", "staff"]);
    assert_eq!(
        demo.lookup("dave").unwrap(),
        None,
        "disabled accounts are not found"
    );
    let names: Vec<String> = demo.users().into_iter().map(|u| u.username).collect();
    assert_eq!(names, ["alice", "bob", "carol", "erin"]);
}

#[tokio::test]
async fn wrong_password_unknown_user_and_malformed_input() {
    let demo = FileDirectory::demo().unwrap();
    assert_eq!(
        reason(demo.authenticate("alice", "bobpw").await),
        FailureReason::WrongPassword
    );
    assert_eq!(
        reason(demo.authenticate("mallory", "alicepw").await),
        FailureReason::UnknownUser
    );
    assert!(matches!(
        demo.authenticate("alice", "").await,
        Err(AuthError::Malformed(_))
    ));
    assert!(matches!(
        demo.authenticate("alice\0", "alicepw").await,
        Err(AuthError::Malformed(_))
    ));
    assert!(demo.lookup("").is_err());
}

#[tokio::test]
async fn reload_swaps_in_a_good_file_and_keeps_the_last_good_one_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.toml");
    std::fs::write(&path, DEMO_PEOPLE).unwrap();
    let people = FileDirectory::load(&FileSettings { path: path.clone() }).unwrap();
    assert_eq!(people.users().len(), 4);

    let only_bob: String = DEMO_PEOPLE
        .split("[[user]]")
        .filter(|part| part.contains("username = \"bob\""))
        .map(|part| format!("[[user]]{part}"))
        .collect();
    std::fs::write(&path, &only_bob).unwrap();
    assert_eq!(people.reload().unwrap(), 1);
    assert_eq!(people.lookup("alice").unwrap(), None);
    assert!(people.authenticate("bob", "bobpw").await.is_ok());

    std::fs::write(&path, "[[user]]\nusername = \"x\"\n").unwrap();
    let err = people.reload().unwrap_err();
    assert!(err.to_string().contains("people.toml:"), "{err}");
    assert!(
        people.authenticate("bob", "bobpw").await.is_ok(),
        "last good users kept"
    );
    let health = people.health();
    assert!(health.is_ready());
    assert!(health.servers[0].last_error.is_some());

    std::fs::remove_file(&path).unwrap();
    assert!(matches!(people.reload(), Err(FileError::Read { .. })));
    assert!(people.lookup("bob").unwrap().is_some());
}

#[test]
fn settings_need_a_path() {
    let err = FileSettings::default().validate().unwrap_err();
    assert_eq!(err.0[0].field, "directory.path");
    assert!(
        FileSettings {
            path: "people.toml".into()
        }
        .validate()
        .is_ok()
    );
}
