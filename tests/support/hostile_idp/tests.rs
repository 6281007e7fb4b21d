//! The hostile provider on its own: an honest run of the code flow gives a token that verifies
//! with its JWKS (checked with `jsonwebtoken`, not Pforte), and each lie it can tell shows in
//! what it sends. Without these, a federation test that passes could be passing against a
//! provider that was never honest to begin with.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use http_body_util::Full;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use super::{BACKCHANNEL_LOGOUT_EVENT, Field, HostileIdp, Signer, s256};
use crate::client::{self, H1, Reply};
use crate::pki::TestCa;

const SECRET: &str = "s3cret/with:odd+chars";
const CALLBACK: &str = "https://login.gw.test/federation/partner/callback";

struct Fixture {
    idp: HostileIdp,
    ca: TestCa,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let idp = HostileIdp::start(&ca, dir.path(), "pforte", SECRET).await;
    Fixture { idp, ca, _dir: dir }
}

/// What a relying party keeps between its authorization request and the callback.
struct Login {
    state: String,
    nonce: String,
    verifier: String,
}

impl Fixture {
    async fn h1(&self) -> H1 {
        H1::connect(self.idp.addr(), "127.0.0.1", &self.ca.der()).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.h1().await.get(path).await
    }

    /// An authorization request as a relying party sends it; the redirect's query.
    async fn authorize(&self) -> (Login, BTreeMap<String, String>) {
        let login = Login {
            state: "state-1".into(),
            nonce: "nonce-1".into(),
            verifier: "a-verifier-of-enough-length-0123456789-abcdefghijk".into(),
        };
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", "pforte")
            .append_pair("redirect_uri", CALLBACK)
            .append_pair("scope", "openid profile email")
            .append_pair("state", &login.state)
            .append_pair("nonce", &login.nonce)
            .append_pair("code_challenge", &s256(&login.verifier))
            .append_pair("code_challenge_method", "S256")
            .finish();
        let reply = self.get(&format!("/authorize?{query}")).await;
        assert_eq!(reply.status, 302, "{}", reply.text());
        let location = reply.header("location").unwrap();
        let back = location.strip_prefix(&format!("{CALLBACK}?")).unwrap();
        (
            login,
            form_urlencoded::parse(back.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The token request of a relying party with `id:secret`, for `code` and `verifier`.
    async fn token(&self, basic: (&str, &str), code: &str, verifier: &str) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", CALLBACK)
            .append_pair("code_verifier", verifier)
            .finish();
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let credentials = STANDARD.encode(format!("{}:{}", encode(basic.0), encode(basic.1)));
        let mut h1 = self.h1().await;
        let req = h1
            .request("POST", "/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", format!("Basic {credentials}"))
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        h1.send(req).await
    }

    /// An honest run up to the ID token.
    async fn id_token(&self) -> (Login, String) {
        let (login, back) = self.authorize().await;
        let reply = self
            .token(("pforte", SECRET), &back["code"], &login.verifier)
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        (login, reply.json()["id_token"].as_str().unwrap().to_owned())
    }

    /// Verifies `token` as a relying party does, with the provider's published keys.
    async fn verify(&self, token: &str) -> Result<Value, ErrorKind> {
        let set: JwkSet = serde_json::from_slice(&self.get("/jwks").await.body).unwrap();
        let header = jsonwebtoken::decode_header(token).map_err(|e| e.into_kind())?;
        let jwk = set
            .find(header.kid.as_deref().unwrap_or_default())
            .ok_or(ErrorKind::InvalidKeyFormat)?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&["pforte"]);
        validation.set_issuer(&[self.idp.issuer()]);
        validation.leeway = 0;
        jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .map(|data| data.claims)
            .map_err(|e| e.into_kind())
    }
}

fn header_of(token: &str) -> Value {
    let part = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn claims_of(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn discovery_names_every_endpoint_under_its_issuer() {
    let f = fixture().await;
    let reply = f.get("/.well-known/openid-configuration").await;
    assert_eq!(reply.status, 200);
    let meta = reply.json();
    let issuer = f.idp.issuer();
    assert!(issuer.starts_with("https://127.0.0.1:"), "{issuer}");
    assert_eq!(meta["issuer"], issuer);
    for (field, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("jwks_uri", "/jwks"),
        ("end_session_endpoint", "/logout"),
    ] {
        assert_eq!(meta[field], format!("{issuer}{path}"), "{field}");
    }
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        meta["id_token_signing_alg_values_supported"],
        json!(["RS256", "ES256"])
    );
    assert_eq!(f.idp.discovery_fetches(), 1);
}

#[tokio::test]
async fn an_honest_login_gives_a_token_that_verifies_with_the_published_keys() {
    let f = fixture().await;
    let (login, back) = f.authorize().await;
    assert_eq!(back["state"], login.state);
    assert_eq!(back["iss"], f.idp.issuer());
    assert_eq!(f.idp.authorizations()[0]["nonce"], login.nonce);

    let reply = f
        .token(("pforte", SECRET), &back["code"], &login.verifier)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let answer = reply.json();
    let token = answer["id_token"].as_str().unwrap();
    assert_eq!(header_of(token)["kid"], f.idp.kid());
    let claims = f.verify(token).await.unwrap();
    assert_eq!(claims["nonce"], login.nonce);
    assert_eq!(claims["sub"], "paula-0001");
    assert_eq!(claims["sid"], f.idp.sid());
    assert_eq!(claims["email"], "paula@partner.example");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["groups"], json!(["partner-ministry/staff"]));
    assert_eq!(claims["preferred_username"], "paula");

    // The access token opens the userinfo endpoint, with the same claims.
    let mut h1 = f.h1().await;
    let req = h1
        .request("GET", "/userinfo")
        .header(
            "authorization",
            format!("Bearer {}", answer["access_token"].as_str().unwrap()),
        )
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(h1.send(req).await.json()["sub"], "paula-0001");
    assert!(f.idp.token_refusals().is_empty());
}

#[tokio::test]
async fn the_token_endpoint_holds_a_client_to_its_secret_its_verifier_and_one_use() {
    let f = fixture().await;
    let (login, back) = f.authorize().await;
    let wrong_secret = f
        .token(("pforte", "guess"), &back["code"], &login.verifier)
        .await;
    assert_eq!(wrong_secret.status, 401);
    assert_eq!(wrong_secret.json()["error"], "invalid_client");

    let (login, back) = f.authorize().await;
    let wrong_verifier = f
        .token(("pforte", SECRET), &back["code"], "another-verifier")
        .await;
    assert_eq!(wrong_verifier.status, 400);
    assert_eq!(wrong_verifier.json()["error"], "invalid_grant");
    // The code was spent on the failed try, as a provider that fears theft does.
    let again = f
        .token(("pforte", SECRET), &back["code"], &login.verifier)
        .await;
    assert_eq!(again.json()["error"], "invalid_grant");
    assert_eq!(f.idp.token_refusals().len(), 3);
}

#[tokio::test]
async fn the_redirect_carries_what_the_scenario_forges() {
    let f = fixture().await;
    f.idp.set(|s| {
        s.iss = Field::Forged("https://127.0.0.1:1".into());
        s.state = Field::Omitted;
    });
    let (_, back) = f.authorize().await;
    assert_eq!(back["iss"], "https://127.0.0.1:1");
    assert!(!back.contains_key("state"));
    assert!(back.contains_key("code"));

    f.idp.set(|s| {
        s.error = Some("access_denied".into());
        s.iss = Field::Omitted;
        s.state = Field::Genuine;
    });
    let (login, back) = f.authorize().await;
    assert_eq!(back.get("error").map(String::as_str), Some("access_denied"));
    assert_eq!(back["state"], login.state);
    assert!(!back.contains_key("code") && !back.contains_key("iss"));
}

#[tokio::test]
async fn forged_claims_fail_the_checks_a_relying_party_makes() {
    let f = fixture().await;
    f.idp
        .set(|s| s.issuer = Field::Forged("https://evil.example".into()));
    assert!(matches!(
        f.verify(&f.id_token().await.1).await,
        Err(ErrorKind::InvalidIssuer)
    ));
    f.idp.reset();
    f.idp
        .set(|s| s.audience = Field::Forged("someone-else".into()));
    assert!(matches!(
        f.verify(&f.id_token().await.1).await,
        Err(ErrorKind::InvalidAudience)
    ));
    f.idp.reset();
    f.idp.set(|s| s.expires_in = -3600);
    assert!(matches!(
        f.verify(&f.id_token().await.1).await,
        Err(ErrorKind::ExpiredSignature)
    ));

    f.idp.reset();
    f.idp.set(|s| s.nonce = Field::Omitted);
    let (_, token) = f.id_token().await;
    assert!(f.verify(&token).await.unwrap().get("nonce").is_none());
    f.idp
        .set(|s| s.nonce = Field::Forged("another-login".into()));
    let (login, token) = f.id_token().await;
    let nonce = &f.verify(&token).await.unwrap()["nonce"];
    assert_eq!(nonce, "another-login");
    assert_ne!(nonce, login.nonce.as_str());

    f.idp.reset();
    f.idp.set(|s| {
        s.email_verified = Some(json!(false));
        s.groups = Some(vec!["elsewhere/visitors".into()]);
        s.extra_claims
            .insert("preferred_username".into(), Value::Null);
    });
    let claims = f.verify(&f.id_token().await.1).await.unwrap();
    assert_eq!(claims["email_verified"], false);
    assert_eq!(claims["groups"], json!(["elsewhere/visitors"]));
    assert!(claims.get("preferred_username").is_none());
}

#[tokio::test]
async fn tokens_signed_by_anything_but_the_published_key_do_not_verify() {
    let f = fixture().await;
    f.idp.set(|s| s.signer = Signer::UnknownKey);
    let (_, token) = f.id_token().await;
    assert_ne!(header_of(&token)["kid"], f.idp.kid());
    assert!(matches!(
        f.verify(&token).await,
        Err(ErrorKind::InvalidKeyFormat)
    ));

    f.idp.set(|s| s.signer = Signer::BadSignature);
    let (_, token) = f.id_token().await;
    assert_eq!(header_of(&token)["kid"], f.idp.kid());
    assert!(matches!(
        f.verify(&token).await,
        Err(ErrorKind::InvalidSignature)
    ));

    f.idp.set(|s| s.signer = Signer::AlgNone);
    let (_, token) = f.id_token().await;
    assert_eq!(header_of(&token)["alg"], "none");
    assert!(token.ends_with('.'));
    assert!(f.verify(&token).await.is_err());
}

#[tokio::test]
async fn a_rotated_key_is_published_under_a_new_kid_and_fetches_are_counted() {
    let f = fixture().await;
    let (_, old) = f.id_token().await;
    assert!(f.verify(&old).await.is_ok());
    assert_eq!(f.idp.jwks_fetches(), 1);
    let kid = f.idp.rotate_key();
    assert_ne!(kid, "idp-key-0");
    let (_, new) = f.id_token().await;
    assert_eq!(header_of(&new)["kid"], kid);
    assert!(f.verify(&new).await.is_ok());
    // Only the new key is published: the old token's kid is gone.
    assert!(matches!(
        f.verify(&old).await,
        Err(ErrorKind::InvalidKeyFormat)
    ));
    assert_eq!(f.idp.jwks_fetches(), 3);
    assert!(f.idp.jwks().contains(&kid));
}

#[tokio::test]
async fn down_refuses_connections_until_up() {
    let f = fixture().await;
    // A connection open before the provider goes down is closed with it.
    let mut before = f.h1().await;
    assert_eq!(before.get("/jwks").await.status, 200);
    f.idp.down().await;
    let config = client::tls_config(&f.ca.der(), &[b"http/1.1"]);
    let refused = client::connect_tls(f.idp.addr(), "127.0.0.1", config.clone()).await;
    assert_eq!(
        refused.err().map(|e| e.kind()),
        Some(std::io::ErrorKind::ConnectionRefused)
    );
    assert!(before.sender.ready().await.is_err() || before.sender.is_closed());
    f.idp.up().await;
    assert_eq!(f.get("/.well-known/openid-configuration").await.status, 200);
}

#[tokio::test]
async fn a_logout_token_verifies_and_names_the_session() {
    let f = fixture().await;
    let token = f.idp.logout_token();
    assert_eq!(header_of(&token)["typ"], "logout+jwt");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&["pforte"]);
    validation.set_issuer(&[f.idp.issuer()]);
    let set: JwkSet = serde_json::from_str(&f.idp.jwks()).unwrap();
    let key = DecodingKey::from_jwk(set.find(&f.idp.kid()).unwrap()).unwrap();
    let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["sid"], f.idp.sid());
    assert_eq!(claims["sub"], "paula-0001");
    assert!(claims["events"][BACKCHANNEL_LOGOUT_EVENT].is_object());
    assert!(claims["jti"].is_string());

    let forged = f
        .idp
        .sign_logout(&f.idp.logout_claims(), Signer::BadSignature);
    assert!(matches!(
        jsonwebtoken::decode::<Value>(&forged, &key, &validation)
            .unwrap_err()
            .into_kind(),
        ErrorKind::InvalidSignature
    ));
    assert_ne!(claims_of(&token)["jti"], claims_of(&forged)["jti"]);
}
