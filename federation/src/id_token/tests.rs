use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeZone, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::json;

use super::*;
use crate::logout_token::{self, LogoutTokenError};

const ISS: &str = "https://idp.example";
const NOW: i64 = 1_800_000_000;

/// An ES256 key with its JWK, as a provider publishes it.
pub(crate) struct Key {
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

impl Key {
    pub(crate) fn new(kid: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let public = pair.public_key().as_ref();
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&public[33..65]),
        });
        Self {
            kid: kid.into(),
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk,
        }
    }

    fn sign(&self, claims: &Value, kid: &str) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.into());
        encode(&header, claims, &self.encoding).unwrap()
    }

    fn set(keys: &[&Key]) -> Vec<u8> {
        serde_json::to_vec(&json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()}))
            .unwrap()
    }
}

fn claims() -> Value {
    json!({
        "iss": ISS, "sub": "u-1", "aud": "pforte", "exp": NOW + 300, "iat": NOW,
        "nonce": "n-1", "sid": "s-1", "email": "p@partner.example", "groups": ["g"],
    })
}

fn now() -> DateTime<Utc> {
    Utc.timestamp_opt(NOW, 0).unwrap()
}

fn expected() -> Expected<'static> {
    Expected {
        issuer: ISS,
        client_id: "pforte",
        nonce: "n-1",
    }
}

fn check(key: &Key, claims: &Value) -> Result<UpstreamClaims, IdTokenError> {
    verify(
        &key.sign(claims, &key.kid),
        expected(),
        &Key::set(&[key]),
        now(),
    )
}

#[test]
fn a_good_token_gives_every_claim() {
    let key = Key::new("k1");
    let got = check(&key, &claims()).unwrap();
    assert_eq!(got.sub, "u-1");
    assert_eq!(got.sid.as_deref(), Some("s-1"));
    assert_eq!(got.all["groups"], json!(["g"]));
    assert_eq!(got.all["email"], "p@partner.example");
}

#[test]
fn each_claim_is_checked() {
    let key = Key::new("k1");
    let with = |field: &str, value: Value| {
        let mut c = claims();
        c[field] = value;
        check(&key, &c)
    };
    assert!(matches!(
        with("iss", json!("https://evil.example")),
        Err(IdTokenError::Issuer(_))
    ));
    assert!(matches!(
        with("aud", json!("other")),
        Err(IdTokenError::Audience(_))
    ));
    assert!(matches!(
        with("aud", json!(["pforte", "untrusted"])),
        Err(IdTokenError::Audience(_))
    ));
    assert!(matches!(
        with("exp", json!(NOW - 1)),
        Err(IdTokenError::Expired(_))
    ));
    assert!(matches!(
        with("iat", json!(NOW + 3600)),
        Err(IdTokenError::Expired(_))
    ));
    assert!(matches!(
        with("nonce", json!("n-2")),
        Err(IdTokenError::Nonce(_))
    ));
    let mut no_nonce = claims();
    no_nonce.as_object_mut().unwrap().remove("nonce");
    assert!(matches!(
        check(&key, &no_nonce),
        Err(IdTokenError::Nonce(_))
    ));
}

#[test]
fn keys_and_signatures_are_checked() {
    let key = Key::new("k1");
    let other = Key::new("k2");
    // Signed by a key the set does not hold: told apart, so the gateway refetches once.
    let unknown = other.sign(&claims(), "k2");
    assert_eq!(
        verify(&unknown, expected(), &Key::set(&[&key]), now()),
        Err(IdTokenError::UnknownKey)
    );
    // Signed by another key under the published key's id.
    let forged = other.sign(&claims(), "k1");
    assert!(matches!(
        verify(&forged, expected(), &Key::set(&[&key]), now()),
        Err(IdTokenError::Signature(_))
    ));
    // An HMAC token keyed with anything is refused, as is an unsigned one.
    let hs = encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(b"client-secret"),
    )
    .unwrap();
    assert!(matches!(
        verify(&hs, expected(), &Key::set(&[&key]), now()),
        Err(IdTokenError::Signature(_))
    ));
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims().to_string());
    assert!(
        verify(
            &format!("{header}.{body}."),
            expected(),
            &Key::set(&[&key]),
            now()
        )
        .is_err()
    );
    assert!(matches!(
        verify("not a token", expected(), &Key::set(&[&key]), now()),
        Err(IdTokenError::Malformed(_))
    ));
    assert!(matches!(
        verify(&key.sign(&claims(), "k1"), expected(), b"[]", now()),
        Err(IdTokenError::KeySet(_))
    ));
}

fn logout_claims() -> Value {
    json!({
        "iss": ISS, "aud": "pforte", "iat": NOW, "jti": "j-1", "sid": "s-1",
        "events": {logout_token::LOGOUT_EVENT: {}},
    })
}

fn logout(key: &Key, claims: &Value) -> Result<logout_token::LogoutRequest, LogoutTokenError> {
    logout_token::verify(
        &key.sign(claims, &key.kid),
        ISS,
        "pforte",
        &Key::set(&[key]),
        NOW as u64,
    )
}

#[test]
fn a_logout_token_names_the_session() {
    let key = Key::new("k1");
    let got = logout(&key, &logout_claims()).unwrap();
    assert_eq!(got.sid.as_deref(), Some("s-1"));
    assert_eq!(got.sub, None);
}

#[test]
fn a_logout_token_is_checked_like_an_id_token_and_more() {
    let key = Key::new("k1");
    let with = |field: &str, value: Value| {
        let mut c = logout_claims();
        c[field] = value;
        logout(&key, &c)
    };
    assert!(matches!(
        with("iss", json!("https://evil.example")),
        Err(LogoutTokenError::Invalid(_))
    ));
    assert!(matches!(
        with("aud", json!("other")),
        Err(LogoutTokenError::Invalid(_))
    ));
    assert_eq!(with("iat", json!(NOW + 3600)), Err(LogoutTokenError::Time));
    assert_eq!(with("exp", json!(NOW - 1)), Err(LogoutTokenError::Time));
    assert!(matches!(
        with("events", json!({})),
        Err(LogoutTokenError::Malformed(_))
    ));
    assert!(matches!(
        with("nonce", json!("n")),
        Err(LogoutTokenError::Malformed(_))
    ));
    let mut anonymous = logout_claims();
    anonymous.as_object_mut().unwrap().remove("sid");
    assert!(matches!(
        logout(&key, &anonymous),
        Err(LogoutTokenError::Malformed(_))
    ));
    let other = Key::new("k2");
    assert!(matches!(
        logout_token::verify(
            &other.sign(&logout_claims(), "k1"),
            ISS,
            "pforte",
            &Key::set(&[&key]),
            NOW as u64
        ),
        Err(LogoutTokenError::Invalid(_))
    ));
    assert_eq!(
        logout_token::verify(
            &other.sign(&logout_claims(), "k2"),
            ISS,
            "pforte",
            &Key::set(&[&key]),
            NOW as u64
        ),
        Err(LogoutTokenError::UnknownKey)
    );
}
