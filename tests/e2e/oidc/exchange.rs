//! Token exchange (RFC 8693) end to end: the `editor` app's server holds alice's access token
//! and asks for one whose audience is the `files-api`, which then sees alice with `editor` as
//! actor. Neither `openidconnect` nor `oauth2` has a token exchange request (checked in 4.1 and
//! 5.0), so the exchanges are raw form posts; the new token's signature is checked with the
//! `openidconnect` crate's JWKS types, as a resource server would.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKey, JsonWebKeyId};
use pforte_e2e::browser::Browser;
use pforte_e2e::client::Reply;
use pforte_e2e::eventually;
use serde_json::{Value, json};

use super::{
    DOCS_SECRET, ISSUER, Setup, authorize_as, claims_of, header_of, param, pkce, pkce_url, setup,
    tokens_for_alice,
};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// Every client of these tests authenticates with the docs secret (see `clients()`).
const SECRET: &str = DOCS_SECRET;

/// Tokens for `user` from a code flow of `client` (whose callback is `https://{client}.gw.test/
/// callback`); logs in with `browser` when it has no session yet.
async fn tokens_of(setup: &Setup, browser: &mut Browser, client: &str, user: &str) -> Value {
    let callback = format!("https://{client}.gw.test/callback");
    let (challenge, verifier) = pkce();
    let url = pkce_url(client, &callback, &challenge);
    let login = browser
        .cookie("login.gw.test", "__Host-pforte")
        .is_none()
        .then(|| (user, format!("{user}pw")));
    let login = login.as_ref().map(|(u, p)| (*u, p.as_str()));
    let params = authorize_as(browser, &url, login, &callback).await;
    let code = param(&params, "code").expect("a code");
    let reply = setup
        .post(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &callback),
                ("code_verifier", &verifier),
            ],
            Some((client, SECRET)),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

/// A token exchange by `actor` of `subject_token` for `audience`, with `extra` parameters.
async fn exchange(
    setup: &Setup,
    actor: &str,
    subject_token: &str,
    audience: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let mut form = vec![
        ("grant_type", GRANT),
        ("subject_token", subject_token),
        ("subject_token_type", ACCESS_TOKEN_TYPE),
        ("audience", audience),
    ];
    form.extend_from_slice(extra);
    setup
        .post("/oidc/token", &form, Some((actor, SECRET)))
        .await
}

/// Asserts a refusal: its status, error code, and that its description says `why`.
fn refused(reply: &Reply, status: u16, error: &str, why: &str) {
    assert_eq!(reply.status, status, "{why}: {}", reply.text());
    let body = reply.json();
    assert_eq!(body["error"], error, "{why}: {body}");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(description.contains(why), "{why}: {body}");
    assert!(body.get("access_token").is_none(), "{why}: {body}");
}

fn access_token(tokens: &Value) -> String {
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// Checks `jwt`'s signature with the provider's published keys, as a resource server does.
async fn verify_with_jwks(setup: &Setup, jwt: &str) {
    let jwks: CoreJsonWebKeySet =
        serde_json::from_str(&setup.gw.get("login.gw.test", "/oidc/jwks").await.text()).unwrap();
    let kid = JsonWebKeyId::new(header_of(jwt)["kid"].as_str().unwrap().to_owned());
    let key = jwks
        .keys()
        .iter()
        .find(|k| k.key_id() == Some(&kid))
        .expect("the token's key is published");
    let (signed, signature) = jwt.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    key.verify_signature(
        &CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        signed.as_bytes(),
        &signature,
    )
    .expect("the exchanged token verifies with the JWKS");
    let mut tampered = signed.to_owned();
    tampered.push('A');
    assert!(
        key.verify_signature(
            &CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            tampered.as_bytes(),
            &signature
        )
        .is_err(),
        "the check is a real one"
    );
}

#[tokio::test]
async fn an_exchanged_token_names_the_person_for_the_target_and_the_actor_in_act() {
    let setup = setup("oidc-exchange").await;
    let mut browser = setup.browser();
    let tokens = tokens_of(&setup, &mut browser, "editor", "alice").await;
    let subject = access_token(&tokens);
    let subject_claims = claims_of(&subject);
    let before = setup
        .gw
        .metric("pforte_oidc_tokens_issued_total{grant=\"token_exchange\"}")
        .await;
    assert_eq!(
        before,
        Some(0.0),
        "the label is there before the first exchange"
    );

    let reply = exchange(&setup, "editor", &subject, "files-api", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = reply.json();
    assert_eq!(body["issued_token_type"], ACCESS_TOKEN_TYPE);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        body["scope"], "openid profile",
        "editor's token had openid profile; files-api takes openid profile groups"
    );
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    let expires_in = body["expires_in"].as_u64().unwrap();
    assert!(
        (1..=300).contains(&expires_in),
        "files-api's 600 s are capped by the subject token's 300: {expires_in}"
    );

    let files_token = access_token(&body);
    verify_with_jwks(&setup, &files_token).await;
    assert_eq!(header_of(&files_token)["typ"], "at+jwt");
    let claims = claims_of(&files_token);
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], "files-api");
    assert_eq!(claims["client_id"], "files-api");
    assert_eq!(
        claims["sub"], subject_claims["sub"],
        "alice, as files-api sees her"
    );
    assert_eq!(claims["sid"], subject_claims["sid"], "the same SSO session");
    assert_eq!(claims["act"], json!({"sub": "editor"}));
    assert!(claims["exp"].as_u64() <= subject_claims["exp"].as_u64());
    assert_ne!(claims["jti"], subject_claims["jti"]);

    // The target's token works where the target's tokens work.
    let info = setup.userinfo(&files_token).await;
    assert_eq!(info.status, 200, "{}", info.text());
    assert_eq!(info.json()["sub"], claims["sub"]);
    assert_eq!(info.json()["preferred_username"], "alice");
    let shown = setup.introspect(&files_token).await;
    assert_eq!(shown["active"], true);
    assert_eq!(shown["client_id"], "files-api");
    assert_eq!(shown["act"], json!({"sub": "editor"}));
    assert!(
        setup.introspect(&subject).await.get("act").is_none(),
        "no act on the token nobody exchanged"
    );
    assert_eq!(
        setup
            .gw
            .metric("pforte_oidc_tokens_issued_total{grant=\"token_exchange\"}")
            .await,
        Some(1.0)
    );

    // The files API passes the person on: the earlier actor nests inside (RFC 8693 §4.1).
    let onward = exchange(&setup, "files-api", &files_token, "docs", &[]).await;
    assert_eq!(onward.status, 200, "{}", onward.text());
    let onward = claims_of(&access_token(&onward.json()));
    assert_eq!(onward["aud"], "docs");
    assert_eq!(
        onward["act"],
        json!({"sub": "files-api", "act": {"sub": "editor"}})
    );

    // A narrower scope is granted; one beyond the subject token's is not.
    let narrow = exchange(
        &setup,
        "editor",
        &subject,
        "files-api",
        &[("scope", "openid")],
    )
    .await;
    assert_eq!(narrow.json()["scope"], "openid", "{}", narrow.text());
    let wider = exchange(
        &setup,
        "editor",
        &subject,
        "files-api",
        &[("scope", "groups")],
    )
    .await;
    refused(&wider, 400, "invalid_scope", "scope must lie within");

    // The target revokes its token like any of its own (RFC 7009).
    let revoked = setup
        .post(
            "/oidc/revoke",
            &[("token", &files_token)],
            Some(("files-api", SECRET)),
        )
        .await;
    assert_eq!(revoked.status, 200);
    assert_eq!(setup.introspect(&files_token).await["active"], false);
    assert_eq!(setup.userinfo(&files_token).await.status, 401);
}

#[tokio::test]
async fn exchanges_are_refused_to_clients_without_the_grant_for_unlisted_targets_and_bad_requests()
{
    let setup = setup("oidc-exchange-refusals").await;
    let mut browser = setup.browser();
    let subject = access_token(&tokens_of(&setup, &mut browser, "editor", "alice").await);

    let docs = access_token(&tokens_for_alice(&setup, &mut browser).await);
    let no_grant = exchange(&setup, "docs", &docs, "files-api", &[]).await;
    refused(&no_grant, 400, "unauthorized_client", "token_exchange");
    let someone_elses = exchange(&setup, "editor", &docs, "files-api", &[]).await;
    refused(
        &someone_elses,
        400,
        "invalid_request",
        "subject_token was issued to another client",
    );

    for audience in ["vault", "editor", "nobody"] {
        let reply = exchange(&setup, "editor", &subject, audience, &[]).await;
        refused(&reply, 400, "invalid_target", "exchange_audiences");
    }

    let service = setup
        .post(
            "/oidc/token",
            &[("grant_type", "client_credentials")],
            Some(("files-api", SECRET)),
        )
        .await;
    let service = access_token(&service.json());
    let no_person = exchange(&setup, "files-api", &service, "docs", &[]).await;
    refused(
        &no_person,
        400,
        "invalid_request",
        "subject_token names no person",
    );

    let wrong_secret = setup
        .post(
            "/oidc/token",
            &[
                ("grant_type", GRANT),
                ("subject_token", &subject),
                ("subject_token_type", ACCESS_TOKEN_TYPE),
                ("audience", "files-api"),
            ],
            Some(("editor", "wrong")),
        )
        .await;
    refused(&wrong_secret, 401, "invalid_client", "");

    let id_token_type = "urn:ietf:params:oauth:token-type:id_token";
    for (form, why) in [
        (
            vec![
                ("subject_token_type", ACCESS_TOKEN_TYPE),
                ("audience", "files-api"),
                ("actor_token", subject.as_str()),
                ("actor_token_type", ACCESS_TOKEN_TYPE),
            ],
            "actor_token is not supported",
        ),
        (
            vec![
                ("subject_token_type", id_token_type),
                ("audience", "files-api"),
            ],
            "subject_token_type must be",
        ),
        (
            vec![("subject_token_type", ACCESS_TOKEN_TYPE)],
            "audience is required",
        ),
    ] {
        let mut full = vec![("grant_type", GRANT), ("subject_token", subject.as_str())];
        full.extend(form);
        let reply = setup
            .post("/oidc/token", &full, Some(("editor", SECRET)))
            .await;
        refused(&reply, 400, "invalid_request", why);
    }
}

#[tokio::test]
async fn the_targets_access_rules_decide_for_the_person_and_a_refusal_is_audited() {
    let setup = setup("oidc-exchange-policy").await;
    let mut alice = setup.browser();
    let subject = access_token(&tokens_of(&setup, &mut alice, "editor", "alice").await);

    // ledger is the finance app's: alice (staff, not finance) may use editor but not ledger.
    let reply = exchange(&setup, "editor", &subject, "ledger", &[]).await;
    refused(
        &reply,
        400,
        "invalid_grant",
        "the access rules of the audience's app do not allow this person",
    );
    let audited = setup
        .gw
        .audit()
        .into_iter()
        .find(|e| e["event"] == "oidc_token_refused" && e["client"] == "ledger")
        .expect("the refusal is audited");
    let detail = audited["detail"].as_str().unwrap();
    assert!(detail.contains("token exchange by editor"), "{detail}");
    assert!(
        !detail.contains(&subject) && !audited.to_string().contains(&subject),
        "no token in the audit log"
    );

    // carol (finance) may: the same client, the same target, another person.
    let mut carol = setup.browser();
    let carols = access_token(&tokens_of(&setup, &mut carol, "editor", "carol").await);
    let reply = exchange(&setup, "editor", &carols, "ledger", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let claims = claims_of(&access_token(&reply.json()));
    assert_eq!(claims["aud"], "ledger");
    assert_eq!(claims["act"], json!({"sub": "editor"}));
}

#[tokio::test]
async fn revoked_expired_and_id_tokens_are_no_subject_tokens() {
    let setup = setup("oidc-exchange-subject").await;
    let mut browser = setup.browser();
    let tokens = tokens_of(&setup, &mut browser, "editor", "alice").await;
    let subject = access_token(&tokens);

    let id_token = tokens["id_token"].as_str().unwrap();
    let reply = exchange(&setup, "editor", id_token, "files-api", &[]).await;
    refused(
        &reply,
        400,
        "invalid_request",
        "subject_token is not an access token of this provider",
    );
    let garbage = exchange(&setup, "editor", "not.a.token", "files-api", &[]).await;
    refused(&garbage, 400, "invalid_request", "subject_token is not");

    assert_eq!(
        exchange(&setup, "editor", &subject, "files-api", &[])
            .await
            .status,
        200,
        "good before the revocation"
    );
    let revoked = setup
        .post(
            "/oidc/revoke",
            &[("token", &subject)],
            Some(("editor", SECRET)),
        )
        .await;
    assert_eq!(revoked.status, 200);
    let reply = exchange(&setup, "editor", &subject, "files-api", &[]).await;
    refused(&reply, 400, "invalid_request", "subject_token was revoked");

    // scribe's access tokens live one second.
    let brief = access_token(&tokens_of(&setup, &mut browser, "scribe", "alice").await);
    let exp = claims_of(&brief)["exp"].as_u64().unwrap();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(now >= exp, "the token has expired by now");
    let reply = exchange(&setup, "scribe", &brief, "files-api", &[]).await;
    refused(&reply, 400, "invalid_request", "subject_token has expired");
}

#[tokio::test]
async fn a_logout_ends_the_exchanged_token_and_any_further_exchange() {
    let setup = setup("oidc-exchange-logout").await;
    let mut browser = setup.browser();
    let tokens = tokens_of(&setup, &mut browser, "editor", "alice").await;
    let subject = access_token(&tokens);
    let reply = exchange(&setup, "editor", &subject, "files-api", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let files_token = access_token(&reply.json());
    assert_eq!(setup.userinfo(&files_token).await.status, 200);

    let id_token = tokens["id_token"].as_str().unwrap();
    let logout = browser
        .get(&format!(
            "{ISSUER}/oidc/end_session?id_token_hint={id_token}"
        ))
        .await;
    assert!(logout.status < 400, "{}: {}", logout.status, logout.text());

    // files-api got tokens of the session, so it is told by back-channel logout.
    assert!(
        eventually(Duration::from_secs(5), async || setup
            .rp
            .received()
            .iter()
            .any(|t| claims_of(t)["aud"] == "files-api"))
        .await,
        "the target gets a logout token"
    );
    assert_eq!(setup.userinfo(&files_token).await.status, 401);
    assert_eq!(setup.introspect(&files_token).await["active"], false);
    let again = exchange(&setup, "editor", &subject, "files-api", &[]).await;
    refused(
        &again,
        400,
        "invalid_request",
        "subject_token comes from a login session that has ended",
    );
}
