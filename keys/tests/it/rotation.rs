//! The state machine: generate, rotate, retire, prune.

use pforte_keys::{KeyError, KeySpec, KeyState};

use crate::support::{NOW, active_count, empty_dir};

#[test]
fn first_key_signs_and_the_second_waits_as_next() {
    let (_tmp, dir) = empty_dir();
    let first = dir.generate(KeySpec::Es256, NOW).unwrap();
    let second = dir.generate(KeySpec::Es256, NOW + 1).unwrap();
    let keys = dir.list().unwrap();
    let state = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().state;
    assert_eq!(state(&first), KeyState::Active);
    assert_eq!(state(&second), KeyState::Next);
    assert_eq!(dir.load(NOW + 1).unwrap().active().kid(), first);
}

#[test]
fn a_second_next_key_is_refused() {
    let (_tmp, dir) = empty_dir();
    dir.generate(KeySpec::Es256, NOW).unwrap();
    let next = dir.generate(KeySpec::Es256, NOW).unwrap();
    let err = dir.generate(KeySpec::Ed25519, NOW).unwrap_err();
    assert!(matches!(err, KeyError::NextExists { kid } if kid == next));
}

#[test]
fn rotate_promotes_next_retires_active_and_publishes_a_fresh_next() {
    let (_tmp, dir) = empty_dir();
    let mut active = dir.generate(KeySpec::Ed25519, NOW).unwrap();
    let mut next = dir.generate(KeySpec::Ed25519, NOW).unwrap();
    for step in 1..=4 {
        let now = NOW + step * 100;
        let r = dir.rotate(now).unwrap();
        assert_eq!(
            (r.activated.as_str(), r.retired.as_str()),
            (next.as_str(), active.as_str())
        );
        assert_eq!(
            active_count(&dir),
            1,
            "exactly one active after rotation {step}"
        );
        let keys = dir.list().unwrap();
        let info = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().clone();
        assert_eq!(info(&r.activated).activated, Some(now));
        assert_eq!(info(&r.retired).retired, Some(now));
        assert_eq!(info(&r.next).state, KeyState::Next);
        assert_eq!(
            info(&r.next).alg,
            pforte_keys::Alg::EdDsa,
            "fresh next keeps the kind"
        );
        assert_eq!(dir.load(now).unwrap().active().kid(), r.activated);
        (active, next) = (r.activated, r.next);
    }
}

#[test]
fn rotate_keeps_the_rsa_size_of_the_promoted_key() {
    let (_tmp, dir) = empty_dir();
    dir.generate(KeySpec::Es256, NOW).unwrap();
    dir.generate(KeySpec::Rs256Bits3072, NOW).unwrap();
    let r = dir.rotate(NOW + 1).unwrap();
    let set = dir.load(NOW + 1).unwrap();
    let n = set.find(&r.next).unwrap().jwk()["n"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(n.len(), 512, "3072-bit modulus in base64url");
}

#[test]
fn rotate_without_a_published_next_key_is_refused() {
    let (_tmp, dir) = empty_dir();
    let only = dir.generate(KeySpec::Es256, NOW).unwrap();
    assert!(matches!(dir.rotate(NOW), Err(KeyError::NoNextKey { .. })));
    assert_eq!(
        dir.load(NOW).unwrap().active().kid(),
        only,
        "nothing changed"
    );
}

#[test]
fn retire_takes_a_next_key_out_of_service_but_never_the_active_one() {
    let (_tmp, dir) = empty_dir();
    let active = dir.generate(KeySpec::Es256, NOW).unwrap();
    let next = dir.generate(KeySpec::Es256, NOW).unwrap();
    assert!(matches!(
        dir.retire(&active, NOW),
        Err(KeyError::RetireActive { .. })
    ));
    dir.retire(&next, NOW + 5).unwrap();
    dir.retire(&next, NOW + 9).unwrap();
    let keys = dir.list().unwrap();
    let retired = keys.iter().find(|k| k.kid == next).unwrap();
    assert_eq!(
        (retired.state, retired.retired),
        (KeyState::Retired, Some(NOW + 5))
    );
    assert_eq!(active_count(&dir), 1);
    assert!(matches!(dir.rotate(NOW), Err(KeyError::NoNextKey { .. })));
}

#[test]
fn retire_refuses_unknown_and_path_like_kids() {
    let (_tmp, dir) = empty_dir();
    dir.generate(KeySpec::Es256, NOW).unwrap();
    for kid in ["nope", "../keys/x", ""] {
        assert!(
            matches!(dir.retire(kid, NOW), Err(KeyError::UnknownKid { .. })),
            "{kid}"
        );
    }
}

#[test]
fn prune_deletes_only_keys_that_left_the_jwks() {
    let (_tmp, dir) = empty_dir();
    let dir = dir.with_retire_after(std::time::Duration::from_secs(100));
    dir.generate(KeySpec::Es256, NOW).unwrap();
    dir.generate(KeySpec::Es256, NOW).unwrap();
    let first = dir.rotate(NOW).unwrap();
    let second = dir.rotate(NOW + 50).unwrap();
    assert_eq!(dir.prune(NOW + 120).unwrap(), vec![first.retired.clone()]);
    let kids: Vec<_> = dir.list().unwrap().into_iter().map(|k| k.kid).collect();
    assert!(!kids.contains(&first.retired));
    assert!(kids.contains(&second.retired));
    assert!(!dir.path().join(format!("{}.pem", first.retired)).exists());
    dir.load(NOW + 120).unwrap();
}
