//! Signing and verifying JWTs, and forgeries that must be refused.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use pforte_keys::{KeySet, KeySpec, TokenError, VerifyOptions};
use serde::{Deserialize, Serialize};

use crate::support::{ALL_SPECS, NOW, dir_with, empty_dir};

const ISS: &str = "https://login.example.org";

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
}

fn claims(exp: u64) -> Claims {
    Claims {
        iss: ISS.into(),
        aud: "mail".into(),
        sub: "alice".into(),
        exp,
        nbf: None,
    }
}

fn options() -> VerifyOptions {
    VerifyOptions::new(ISS, ["mail"]).with_leeway(0)
}

fn verify(set: &KeySet, token: &str) -> Result<Claims, TokenError> {
    set.verify(token, &options(), NOW)
}

fn part(value: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

#[test]
fn tokens_round_trip_for_every_algorithm() {
    for spec in ALL_SPECS {
        let (_tmp, _dir, set) = dir_with(spec);
        let token = set.sign(&claims(NOW + 300), "at+jwt").unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(set.active().kid()));
        assert_eq!(
            serde_json::to_value(header.alg).unwrap(),
            spec.alg().as_str()
        );
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        let opts = options().with_typ("application/AT+JWT");
        assert_eq!(
            set.verify::<Claims>(&token, &opts, NOW).unwrap(),
            claims(NOW + 300),
            "{spec:?}"
        );
    }
}

#[test]
fn tokens_of_a_retired_key_verify_until_its_window_ends() {
    let (_tmp, dir) = empty_dir();
    let dir = dir.with_retire_after(Duration::from_secs(3600));
    dir.generate(KeySpec::Es256, NOW).unwrap();
    dir.generate(KeySpec::Es256, NOW).unwrap();
    let token = dir
        .load(NOW)
        .unwrap()
        .sign(&claims(NOW + 7200), "JWT")
        .unwrap();
    dir.rotate(NOW + 10).unwrap();
    let opts = options();
    dir.load(NOW + 20)
        .unwrap()
        .verify::<Claims>(&token, &opts, NOW + 20)
        .unwrap();
    let later = dir.load(NOW + 3610).unwrap();
    assert!(matches!(
        later.verify::<Claims>(&token, &opts, NOW + 3610),
        Err(TokenError::UnknownKid)
    ));
}

#[test]
fn alg_none_is_refused() {
    let (_tmp, _dir, set) = dir_with(KeySpec::Es256);
    let header = serde_json::json!({"alg": "none", "kid": set.active().kid(), "typ": "JWT"});
    let body = serde_json::to_value(claims(NOW + 300)).unwrap();
    for sig in ["", "AAAA"] {
        let token = format!("{}.{}.{sig}", part(&header), part(&body));
        assert!(matches!(
            verify(&set, &token),
            Err(TokenError::Malformed(_))
        ));
    }
}

#[test]
fn hmac_signed_with_the_public_key_is_refused() {
    for spec in ALL_SPECS {
        let (_tmp, _dir, set) = dir_with(spec);
        let public = set.active().jwk();
        let secrets = [
            public.to_string(),
            public["x"].to_string(),
            public["n"].to_string(),
        ];
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            for secret in &secrets {
                let mut header = Header::new(alg);
                header.kid = Some(set.active().kid().to_owned());
                let key = EncodingKey::from_secret(secret.as_bytes());
                let token = jsonwebtoken::encode(&header, &claims(NOW + 300), &key).unwrap();
                assert!(
                    matches!(verify(&set, &token), Err(TokenError::AlgorithmMismatch)),
                    "{spec:?} {alg:?}"
                );
            }
        }
    }
}

#[test]
fn unknown_or_missing_kid_is_refused() {
    let (_tmp, _dir, set) = dir_with(KeySpec::Es256);
    let (_tmp2, _dir2, other) = dir_with(KeySpec::Es256);
    let foreign = other.sign(&claims(NOW + 300), "JWT").unwrap();
    assert!(matches!(
        verify(&set, &foreign),
        Err(TokenError::UnknownKid)
    ));

    let token = set.sign(&claims(NOW + 300), "JWT").unwrap();
    let (header, rest) = token.split_once('.').unwrap();
    let mut header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header.as_object_mut().unwrap().remove("kid");
    let no_kid = format!("{}.{rest}", part(&header));
    assert!(matches!(verify(&set, &no_kid), Err(TokenError::UnknownKid)));
}

#[test]
fn a_key_of_another_algorithm_under_our_kid_is_refused() {
    let (_tmp, _dir, set) = dir_with(KeySpec::Es256);
    let (_tmp2, _dir2, ed) = dir_with(KeySpec::Ed25519);
    let token = ed.sign(&claims(NOW + 300), "JWT").unwrap();
    let (header, rest) = token.split_once('.').unwrap();
    let mut header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"] = set.active().kid().into();
    let swapped = format!("{}.{rest}", part(&header));
    assert!(matches!(
        verify(&set, &swapped),
        Err(TokenError::AlgorithmMismatch)
    ));
}

#[test]
fn a_tampered_payload_is_refused() {
    for spec in ALL_SPECS {
        let (_tmp, _dir, set) = dir_with(spec);
        let token = set.sign(&claims(NOW + 300), "JWT").unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let mut evil = claims(NOW + 300);
        evil.sub = "admin".into();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            part(&serde_json::to_value(evil).unwrap()),
            parts[2]
        );
        assert!(
            matches!(
                verify(&set, &forged),
                Err(TokenError::Rejected("bad signature"))
            ),
            "{spec:?}"
        );
    }
}

#[test]
fn time_bounds_are_checked_against_the_given_now() {
    let (_tmp, _dir, set) = dir_with(KeySpec::Es256);
    let expired = set.sign(&claims(NOW), "JWT").unwrap();
    assert!(matches!(verify(&set, &expired), Err(TokenError::Expired)));
    let opts = options().with_leeway(30);
    set.verify::<Claims>(&expired, &opts, NOW + 29).unwrap();

    let early = Claims {
        nbf: Some(NOW + 60),
        ..claims(NOW + 300)
    };
    let early = set.sign(&early, "JWT").unwrap();
    assert!(matches!(verify(&set, &early), Err(TokenError::NotYetValid)));
    set.verify::<Claims>(&early, &options(), NOW + 60).unwrap();

    let endless = set
        .sign(&serde_json::json!({"iss": ISS, "aud": "mail"}), "JWT")
        .unwrap();
    assert!(matches!(
        verify(&set, &endless),
        Err(TokenError::MissingExpiry)
    ));
}

#[test]
fn issuer_audience_and_type_must_match() {
    let (_tmp, _dir, set) = dir_with(KeySpec::Es256);
    let token = set.sign(&claims(NOW + 300), "logout+jwt").unwrap();
    let other_iss = VerifyOptions::new("https://evil.example", ["mail"]);
    let other_aud = VerifyOptions::new(ISS, ["docs"]);
    let other_typ = options().with_typ("at+jwt");
    assert!(matches!(
        set.verify::<Claims>(&token, &other_iss, NOW),
        Err(TokenError::Rejected("wrong issuer"))
    ));
    assert!(matches!(
        set.verify::<Claims>(&token, &other_aud, NOW),
        Err(TokenError::Rejected("wrong audience"))
    ));
    assert!(matches!(
        set.verify::<Claims>(&token, &other_typ, NOW),
        Err(TokenError::Rejected("wrong token type"))
    ));
    set.verify::<Claims>(&token, &options().with_typ("logout+jwt"), NOW)
        .unwrap();
}

#[test]
fn debug_output_never_shows_private_key_material() {
    let (_tmp, dir, set) = dir_with(KeySpec::Es256);
    let pem =
        std::fs::read_to_string(dir.path().join(format!("{}.pem", set.active().kid()))).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let shown = format!("{set:?}");
    assert!(shown.contains(set.active().kid()));
    for chunk in body.as_bytes().chunks(16) {
        assert!(
            !shown.contains(std::str::from_utf8(chunk).unwrap()),
            "{shown}"
        );
    }
}
