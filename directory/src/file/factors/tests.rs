use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::error::{DirectoryError, Field, InputError};
use crate::factors::{MAX_FACTOR_VALUE_BYTES, MAX_FACTORS_PER_KIND};
use crate::file::{DEMO_PEOPLE, FileDirectory, FileError, FileSettings, format};

/// A copy of the demo people in a temporary folder, opened as the gateway opens it.
fn demo() -> (tempfile::TempDir, FileSettings, FileDirectory) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.toml");
    std::fs::write(&path, DEMO_PEOPLE).unwrap();
    let settings = FileSettings { path };
    let people = FileDirectory::load(&settings).unwrap();
    (dir, settings, people)
}

fn text(settings: &FileSettings) -> String {
    std::fs::read_to_string(&settings.path).unwrap()
}

fn invalid(result: Result<(), DirectoryError>) -> InputError {
    match result {
        Err(DirectoryError::InvalidInput(e)) => e,
        other => panic!("expected refused input, got {other:?}"),
    }
}

#[test]
fn the_demo_people_load_without_factors() {
    let demo = FileDirectory::demo().unwrap();
    assert_eq!(
        demo.factors("alice").unwrap(),
        Some(StoredFactors::default())
    );
    assert_eq!(demo.factors("dave").unwrap(), None, "disabled");
    assert_eq!(demo.factors("mallory").unwrap(), None);
}

#[tokio::test]
async fn added_factors_are_seen_at_once_and_by_a_fresh_load() {
    let (_dir, settings, people) = demo();
    people
        .add_factor("Alice", FactorKind::Totp, "sealed:t1")
        .await
        .unwrap();
    for code in ["r1", "r2", "r3"] {
        people
            .add_factor("alice", FactorKind::RecoveryCode, code)
            .await
            .unwrap();
    }
    people
        .add_factor("alice", FactorKind::RecoveryCode, "r1")
        .await
        .unwrap();
    let expected = StoredFactors {
        totp: vec!["sealed:t1".into()],
        passkeys: Vec::new(),
        recovery_codes: vec!["r1".into(), "r2".into(), "r3".into()],
    };
    assert_eq!(
        people.factors("alice").unwrap(),
        Some(expected.clone()),
        "a value held already is not added twice"
    );
    let fresh = FileDirectory::load(&settings).unwrap();
    assert_eq!(fresh.factors("ALICE").unwrap(), Some(expected));
    let after = text(&settings);
    assert!(
        after.starts_with(&DEMO_PEOPLE[..DEMO_PEOPLE.find("[[user]]").unwrap()]),
        "the head comment stays"
    );
    assert!(after.contains("totp = [\"sealed:t1\"]\n"), "{after}");
    assert_eq!(
        fresh.factors("bob").unwrap(),
        Some(StoredFactors::default())
    );
}

#[tokio::test]
async fn remove_and_replace_compare_with_the_file_not_the_memory() {
    let (_dir, settings, people) = demo();
    people
        .add_factor("carol", FactorKind::Passkey, "k1")
        .await
        .unwrap();
    let other = FileDirectory::load(&settings).unwrap();
    assert!(
        other
            .replace_factor("carol", FactorKind::Passkey, "k1", "k2")
            .await
            .unwrap()
    );
    assert_eq!(
        people.factors("carol").unwrap().unwrap().passkeys,
        ["k1"],
        "this copy has not reloaded yet"
    );
    assert!(
        !people
            .replace_factor("carol", FactorKind::Passkey, "k1", "k3")
            .await
            .unwrap(),
        "k1 is gone from the file: the compare-and-set fails"
    );
    assert!(
        !people
            .remove_factor("carol", FactorKind::Passkey, "k1")
            .await
            .unwrap()
    );
    assert_eq!(people.factors("carol").unwrap().unwrap().passkeys, ["k2"]);
    let before = text(&settings);
    assert!(
        !people
            .remove_factor("carol", FactorKind::Totp, "k2")
            .await
            .unwrap(),
        "another kind's value does not count"
    );
    assert_eq!(text(&settings), before, "a failed compare writes nothing");
    assert!(
        people
            .remove_factor("carol", FactorKind::Passkey, "k2")
            .await
            .unwrap()
    );
    assert_eq!(text(&settings), DEMO_PEOPLE, "the emptied list goes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_removals_of_one_value_exactly_one_succeeds() {
    let (_dir, settings, people) = demo();
    for code in ["r1", "r2", "r3"] {
        people
            .add_factor("erin", FactorKind::RecoveryCode, code)
            .await
            .unwrap();
    }
    // Each task is a replica with its own copy in memory; they all hold r2 as present.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let replica = Arc::new(FileDirectory::load(&settings).unwrap());
            tokio::spawn(async move {
                replica
                    .remove_factor("erin", FactorKind::RecoveryCode, "r2")
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        won += usize::from(task.await.unwrap());
    }
    assert_eq!(won, 1);
    let fresh = FileDirectory::load(&settings).unwrap();
    assert_eq!(
        fresh.factors("erin").unwrap().unwrap().recovery_codes,
        ["r1", "r3"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_lose_no_update() {
    let (_dir, settings, _people) = demo();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let replica = FileDirectory::load(&settings).unwrap();
            tokio::spawn(async move {
                replica
                    .add_factor("bob", FactorKind::Passkey, &format!("key-{i}"))
                    .await
                    .unwrap();
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let mut keys = FileDirectory::load(&settings)
        .unwrap()
        .factors("bob")
        .unwrap()
        .unwrap()
        .passkeys;
    keys.sort();
    let expected: Vec<String> = (0..8).map(|i| format!("key-{i}")).collect();
    assert_eq!(keys, expected);
}

#[tokio::test]
async fn bad_values_and_one_too_many_are_refused_and_nothing_is_written() {
    let (_dir, settings, people) = demo();
    let field = Field::Factor(FactorKind::Totp);
    let add = |value: String| {
        let people = &people;
        async move { people.add_factor("alice", FactorKind::Totp, &value).await }
    };
    assert_eq!(invalid(add(String::new()).await), InputError::Empty(field));
    assert_eq!(
        invalid(add("a\nb".into()).await),
        InputError::ControlCharacter(field)
    );
    assert_eq!(
        invalid(add("x".repeat(MAX_FACTOR_VALUE_BYTES + 1)).await),
        InputError::TooLong {
            field,
            max: MAX_FACTOR_VALUE_BYTES
        }
    );
    assert!(matches!(
        people.remove_factor("alice\0", FactorKind::Totp, "x").await,
        Err(DirectoryError::InvalidInput(_))
    ));
    assert!(matches!(
        people
            .replace_factor("alice", FactorKind::Totp, "x", "")
            .await,
        Err(DirectoryError::InvalidInput(InputError::Empty(_)))
    ));
    assert_eq!(text(&settings), DEMO_PEOPLE);

    for i in 0..MAX_FACTORS_PER_KIND {
        add(format!("t{i}")).await.unwrap();
    }
    let full = text(&settings);
    assert_eq!(
        invalid(add("one more".into()).await),
        InputError::TooMany {
            field,
            max: MAX_FACTORS_PER_KIND
        }
    );
    assert_eq!(text(&settings), full);
    add("t3".into()).await.unwrap();
}

#[tokio::test]
async fn disabled_unknown_and_compiled_in_people_keep_no_factors() {
    let (_dir, settings, people) = demo();
    for name in ["dave", "mallory"] {
        assert_eq!(
            people.add_factor(name, FactorKind::Totp, "t").await,
            Err(DirectoryError::UnknownAccount(name.into()))
        );
        assert_eq!(
            people.remove_factor(name, FactorKind::Totp, "t").await,
            Err(DirectoryError::UnknownAccount(name.into()))
        );
    }
    assert_eq!(text(&settings), DEMO_PEOPLE);
    let compiled = FileDirectory::demo().unwrap();
    let err = compiled
        .add_factor("alice", FactorKind::Totp, "t")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DirectoryError::PeopleFile { message, .. } if message.contains("compiled in")),
        "{err}"
    );
}

#[tokio::test]
async fn an_admin_reads_and_resets_any_account() {
    let (_dir, settings, people) = demo();
    let file = PeopleFile::new(&settings);
    people
        .add_factor("bob", FactorKind::Totp, "t1")
        .await
        .unwrap();
    people
        .add_factor("bob", FactorKind::RecoveryCode, "r1")
        .await
        .unwrap();
    assert_eq!(file.factors("Bob").unwrap().counts().recovery_codes, 1);
    assert_eq!(file.factors("dave").unwrap(), StoredFactors::default());
    let removed = file.reset_factors("bob").unwrap();
    assert_eq!((removed.totp.len(), removed.recovery_codes.len()), (1, 1));
    assert_eq!(text(&settings), DEMO_PEOPLE, "back to the file as it was");
    assert!(file.reset_factors("bob").unwrap().is_empty());
    assert!(matches!(
        file.reset_factors("mallory"),
        Err(AdminError::UnknownUser(_))
    ));
}

#[test]
fn a_file_with_unusable_factors_is_refused_naming_line_and_key() {
    let alice = DEMO_PEOPLE
        .find("groups = [\"admins\", \"staff\"]\n")
        .unwrap();
    let at = alice + "groups = [\"admins\", \"staff\"]\n".len();
    let many: Vec<String> = (0..=MAX_FACTORS_PER_KIND)
        .map(|i| format!("\"p{i}\""))
        .collect();
    let lines = format!(
        "totp = [\"\"]\nrecovery_codes = [\"r1\", \"r1\"]\npasskeys = [{}]\n",
        many.join(", ")
    );
    let text = format!("{}{lines}{}", &DEMO_PEOPLE[..at], &DEMO_PEOPLE[at..]);
    let Err(FileError::Invalid { problems, .. }) = format::parse(Path::new("p.toml"), &text) else {
        panic!("loaded")
    };
    let keys: Vec<&str> = problems.iter().filter_map(|p| p.key.as_deref()).collect();
    assert_eq!(
        keys,
        [
            "user[0].totp[0]",
            "user[0].recovery_codes[1]",
            "user[0].passkeys[20]"
        ]
    );
    let line = text[..at].matches('\n').count() + 1;
    assert_eq!(problems[0].line, line);
    assert!(
        problems[0].message.contains("empty"),
        "{}",
        problems[0].message
    );
}

#[test]
fn debug_output_shows_no_factor_value() {
    let text = DEMO_PEOPLE.replace(
        "groups = [\"partners\"]\n",
        "groups = [\"partners\"]\ntotp = [\"sealed-seed\"]\n",
    );
    let people = format::parse(Path::new("p.toml"), &text).unwrap();
    let shown = format!("{:?}", people.by_name["bob"]);
    assert!(!shown.contains("sealed-seed"), "{shown}");
}
