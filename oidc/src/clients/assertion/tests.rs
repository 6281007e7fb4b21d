use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

use super::*;
use crate::clients::keys::parse_jwks;

const NOW: u64 = 1_800_000_000;
const AUD: &str = "https://login.example.org/oidc/token";

struct Signer {
    kid: String,
    key: EncodingKey,
    jwk: serde_json::Value,
}

fn signer(kid: &str) -> Signer {
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    let point = pair.public_key().as_ref();
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
    });
    Signer {
        kid: kid.to_owned(),
        key: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk,
    }
}

fn keys(signers: &[&Signer]) -> JwkSet {
    let set = json!({ "keys": signers.iter().map(|s| s.jwk.clone()).collect::<Vec<_>>() });
    parse_jwks(&set.to_string()).unwrap()
}

fn sign(signer: &Signer, claims: serde_json::Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(signer.kid.clone());
    jsonwebtoken::encode(&header, &claims, &signer.key).unwrap()
}

fn claims(client: &str) -> serde_json::Value {
    json!({"iss": client, "sub": client, "aud": AUD, "exp": NOW + 60, "iat": NOW, "jti": "j-1"})
}

fn form(jwt: &str, extra: &str) -> Params {
    let encoded: String = form_urlencoded::byte_serialize(jwt.as_bytes()).collect();
    Params::parse_urlencoded(&format!(
        "client_assertion_type={}&client_assertion={encoded}{extra}",
        form_urlencoded::byte_serialize(JWT_BEARER.as_bytes()).collect::<String>()
    ))
}

fn check(jwt: &str, keys: &JwkSet) -> Result<VerifiedAssertion, AssertionError> {
    let presented = presented(&form(jwt, "")).unwrap().unwrap();
    verify(&presented, keys, &[AUD.to_owned()], NOW)
}

#[test]
fn a_signed_assertion_names_its_client_and_its_jti() {
    let s = signer("k1");
    let jwt = sign(&s, claims("batch"));
    let presented = presented(&form(&jwt, "&client_id=batch")).unwrap().unwrap();
    assert_eq!(presented.client_id, "batch");
    let verified = verify(&presented, &keys(&[&s]), &[AUD.to_owned()], NOW).unwrap();
    assert_eq!(
        verified,
        VerifiedAssertion {
            jti: "j-1".into(),
            expires_at: NOW + 60
        }
    );
}

#[test]
fn no_assertion_is_another_method_and_a_half_one_is_refused() {
    assert!(presented(&Params::parse_urlencoded("client_id=a&client_secret=s")).is_none());
    for bad in [
        "client_assertion=x.y.z",
        "client_assertion_type=urn:other&client_assertion=x.y.z",
    ] {
        let error = presented(&Params::parse_urlencoded(bad))
            .unwrap()
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidRequest, "{bad}");
    }
    let s = signer("k1");
    let jwt = sign(&s, claims("batch"));
    let both = presented(&form(&jwt, "&client_secret=s"))
        .unwrap()
        .unwrap_err();
    assert_eq!(both.code, ErrorCode::InvalidRequest);
    let other = presented(&form(&jwt, "&client_id=mail"))
        .unwrap()
        .unwrap_err();
    assert_eq!(other.code, ErrorCode::InvalidClient);
    let mut mixed = claims("batch");
    mixed["iss"] = json!("mail");
    let error = presented(&form(&sign(&s, mixed), "")).unwrap().unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidClient);
}

#[test]
fn wrong_key_audience_times_and_missing_jti_are_refused() {
    let s = signer("k1");
    let registered = keys(&[&s]);
    let stranger = signer("k1");
    assert_eq!(
        check(&sign(&stranger, claims("batch")), &registered),
        Err(AssertionError::Refused("bad signature"))
    );
    let unknown = signer("k2");
    assert_eq!(
        check(&sign(&unknown, claims("batch")), &registered),
        Err(AssertionError::UnknownKey)
    );
    let cases: [(&str, serde_json::Value); 6] = [
        ("aud", json!("https://elsewhere.example/token")),
        ("exp", json!(NOW - 61)),
        ("exp", json!(NOW + 2 * 3600)),
        ("nbf", json!(NOW + 120)),
        ("iat", json!(NOW + 120)),
        ("jti", json!("")),
    ];
    for (name, value) in cases {
        let mut c = claims("batch");
        c[name] = value.clone();
        assert!(
            matches!(
                check(&sign(&s, c), &registered),
                Err(AssertionError::Refused(_))
            ),
            "{name} = {value}"
        );
    }
    let mut no_jti = claims("batch");
    no_jti.as_object_mut().unwrap().remove("jti");
    assert!(check(&sign(&s, no_jti), &registered).is_err());
}

#[test]
fn symmetric_and_none_algorithms_are_refused() {
    let s = signer("k1");
    let registered = keys(&[&s]);
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    let hmac = jsonwebtoken::encode(
        &header,
        &claims("batch"),
        &EncodingKey::from_secret(s.jwk.to_string().as_bytes()),
    )
    .unwrap();
    assert!(matches!(
        check(&hmac, &registered),
        Err(AssertionError::Refused(_))
    ));
    let payload = URL_SAFE_NO_PAD.encode(claims("batch").to_string());
    let none = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#)
    );
    assert!(check(&none, &registered).is_err());
}
