//! The published JWK Set.

use std::time::Duration;

use pforte_keys::{KeySpec, KeyState};
use serde_json::Value;

use crate::support::{NOW, dir_with, empty_dir};

fn only_key(spec: KeySpec) -> Value {
    let (_tmp, _dir, set) = dir_with(spec);
    let keys = set.jwks()["keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 1);
    let key = keys[0].clone();
    assert_eq!(key["kid"], set.active().kid());
    assert_eq!(key["use"], "sig");
    assert!(
        key.get("d").is_none() && key.get("p").is_none(),
        "no private parts: {key}"
    );
    key
}

#[test]
fn es256_key_is_an_ec_p256_jwk() {
    let key = only_key(KeySpec::Es256);
    assert_eq!(
        (&key["kty"], &key["crv"], &key["alg"]),
        (&"EC".into(), &"P-256".into(), &"ES256".into())
    );
    assert_eq!(key["x"].as_str().unwrap().len(), 43);
    assert_eq!(key["y"].as_str().unwrap().len(), 43);
}

#[test]
fn rs256_key_is_an_rsa_jwk() {
    let key = only_key(KeySpec::Rs256Bits2048);
    assert_eq!(
        (&key["kty"], &key["alg"], &key["e"]),
        (&"RSA".into(), &"RS256".into(), &"AQAB".into())
    );
    assert_eq!(key["n"].as_str().unwrap().len(), 342, "2048-bit modulus");
}

#[test]
fn eddsa_key_is_an_okp_ed25519_jwk() {
    let key = only_key(KeySpec::Ed25519);
    assert_eq!(
        (&key["kty"], &key["crv"], &key["alg"]),
        (&"OKP".into(), &"Ed25519".into(), &"EdDSA".into())
    );
    assert_eq!(key["x"].as_str().unwrap().len(), 43);
}

#[test]
fn publishes_active_next_and_recently_retired_until_the_window_ends() {
    let (_tmp, dir) = empty_dir();
    let dir = dir.with_retire_after(Duration::from_secs(600));
    dir.generate(KeySpec::Es256, NOW).unwrap();
    dir.generate(KeySpec::Es256, NOW).unwrap();
    let r = dir.rotate(NOW + 10).unwrap();
    let kids = |now| -> Vec<String> {
        let set = dir.load(now).unwrap();
        set.jwks()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        kids(NOW + 609),
        vec![r.activated.clone(), r.next.clone(), r.retired.clone()]
    );
    assert_eq!(kids(NOW + 610), vec![r.activated.clone(), r.next.clone()]);
    let set = dir.load(NOW + 610).unwrap();
    assert!(set.find(&r.retired).is_none());
    assert_eq!(set.find(&r.next).unwrap().state(), KeyState::Next);
}
