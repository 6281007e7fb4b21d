//! Broken directories are refused with errors that name the file to fix.

use pforte_keys::{KeyDir, KeyError, KeySpec};

use crate::support::{NOW, empty_dir};

fn two_keys() -> (tempfile::TempDir, KeyDir, String, String) {
    let (tmp, dir) = empty_dir();
    let active = dir.generate(KeySpec::Es256, NOW).unwrap();
    let next = dir.generate(KeySpec::Es256, NOW).unwrap();
    (tmp, dir, active, next)
}

fn load_error(dir: &KeyDir) -> (KeyError, String) {
    let err = dir.load(NOW).unwrap_err();
    let text = err.to_string();
    (err, text)
}

#[test]
fn metadata_without_its_key_names_both_files() {
    let (_tmp, dir, _, next) = two_keys();
    std::fs::remove_file(dir.path().join(format!("{next}.pem"))).unwrap();
    let (err, text) = load_error(&dir);
    assert!(matches!(err, KeyError::MissingKey { .. }));
    assert!(
        text.contains(&format!("{next}.toml")) && text.contains(&format!("{next}.pem")),
        "{text}"
    );
}

#[test]
fn an_unparsable_key_names_its_file() {
    let (_tmp, dir, active, _) = two_keys();
    let pem = dir.path().join(format!("{active}.pem"));
    std::fs::write(
        &pem,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let (err, text) = load_error(&dir);
    assert!(matches!(err, KeyError::BadKey { .. }));
    assert!(text.starts_with(&pem.display().to_string()), "{text}");
}

#[test]
fn a_key_of_another_algorithm_than_its_metadata_names_its_file() {
    let (_tmp, dir, active, _) = two_keys();
    let meta = dir.path().join(format!("{active}.toml"));
    let text = std::fs::read_to_string(&meta)
        .unwrap()
        .replace("ES256", "EdDSA");
    std::fs::write(&meta, text).unwrap();
    let (err, text) = load_error(&dir);
    assert!(matches!(err, KeyError::BadKey { .. }));
    assert!(text.contains(&format!("{active}.pem")), "{text}");
}

#[test]
fn invalid_metadata_names_its_file() {
    let (_tmp, dir, _, next) = two_keys();
    let meta = dir.path().join(format!("{next}.toml"));
    std::fs::write(&meta, "alg = \"HS256\"\nstate = \"next\"\ncreated = 1\n").unwrap();
    let (err, text) = load_error(&dir);
    assert!(matches!(err, KeyError::Metadata { .. }));
    assert!(text.starts_with(&meta.display().to_string()), "{text}");
    let odd = dir.path().join("not a kid.toml");
    std::fs::rename(&meta, &odd).unwrap();
    assert!(load_error(&dir).1.contains("not a kid.toml"));
}

#[test]
fn two_active_keys_are_refused_and_listed() {
    let (_tmp, dir, active, next) = two_keys();
    let meta = dir.path().join(format!("{next}.toml"));
    let text = std::fs::read_to_string(&meta)
        .unwrap()
        .replace("\"next\"", "\"active\"");
    std::fs::write(&meta, text).unwrap();
    let (err, text) = load_error(&dir);
    assert!(matches!(err, KeyError::SeveralActiveKeys { .. }));
    assert!(text.contains(&active) && text.contains(&next), "{text}");
    assert!(matches!(
        dir.rotate(NOW),
        Err(KeyError::SeveralActiveKeys { .. })
    ));
    dir.retire(&active, NOW).unwrap();
    assert_eq!(
        dir.load(NOW).unwrap().active().kid(),
        next,
        "retiring the extra repairs it"
    );
    assert!(matches!(
        dir.retire(&next, NOW),
        Err(KeyError::RetireActive { .. })
    ));
}

#[test]
fn no_active_key_is_refused_and_the_next_generated_key_becomes_active() {
    let (_tmp, dir) = empty_dir();
    std::fs::create_dir_all(dir.path()).unwrap();
    assert!(matches!(dir.load(NOW), Err(KeyError::NoActiveKey { .. })));
    let kid = dir.generate(KeySpec::Es256, NOW).unwrap();
    assert_eq!(dir.load(NOW).unwrap().active().kid(), kid);
}

#[test]
fn a_missing_directory_names_itself() {
    let (_tmp, dir) = empty_dir();
    let text = load_error(&dir).1;
    assert!(
        text.starts_with(&dir.path().display().to_string()),
        "{text}"
    );
}

#[test]
fn stray_files_are_ignored() {
    let (_tmp, dir, active, _) = two_keys();
    std::fs::write(dir.path().join("orphan.pem"), "junk").unwrap();
    std::fs::write(dir.path().join(".tmp-half"), "junk").unwrap();
    std::fs::write(dir.path().join("README"), "junk").unwrap();
    assert_eq!(dir.load(NOW).unwrap().active().kid(), active);
}
