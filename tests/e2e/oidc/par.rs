//! Pushed authorization requests (RFC 9126) end to end: a confidential client pushes its request
//! with its secret, the browser carries only `client_id` and `request_uri`, and the
//! `openidconnect` crate exchanges the code (it has no PAR of its own, so the push is a raw
//! request). A client that must push is refused without; a `request_uri` serves its own client,
//! once, and never a front-channel parameter beside it.

use openidconnect::{
    AuthorizationCode, Nonce, OAuth2TokenResponse, PkceCodeChallenge, TokenResponse,
};

use super::{
    CALLBACK, DOCS_SECRET, ISSUER, PAYROLL_CALLBACK, Setup, authorize_as, authorize_url, claims_of,
    param, setup,
};

const PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// Pushes an authorization request for `client` (authenticated with HTTP Basic) and returns
/// the answer's status and body.
async fn push(
    setup: &Setup,
    client: &str,
    secret: Option<&str>,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let reply = setup
        .post("/oidc/par", form, secret.map(|secret| (client, secret)))
        .await;
    (reply.status, reply.json())
}

/// The authorization URL a client sends the browser to after a push.
fn front_channel(client: &str, request_uri: &str, extra: &str) -> String {
    let encoded: String = form_urlencoded::byte_serialize(request_uri.as_bytes()).collect();
    format!("{ISSUER}/oidc/authorize?client_id={client}&request_uri={encoded}{extra}")
}

/// What a browser shows for a link the provider refuses on its own page: 400, no redirect.
async fn refused_on_our_page(setup: &Setup, url: &str) {
    let reply = setup.signed_in().await.get(url).await;
    assert_eq!(reply.status, 400, "{url}: {}", reply.text());
    assert!(
        reply.header("location").is_none(),
        "{url} must not redirect"
    );
}

#[tokio::test]
async fn a_pushed_request_logs_in_with_the_pushed_parameters_once() {
    let setup = setup("oidc-par").await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let nonce = Nonce::new_random();
    let pushed = [
        ("response_type", "code"),
        ("redirect_uri", CALLBACK),
        ("scope", "openid profile"),
        ("state", "pushed-state"),
        ("nonce", nonce.secret().as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let (status, body) = push(&setup, "docs", Some(DOCS_SECRET), &pushed).await;
    assert_eq!(status, 201, "{body}");
    let request_uri = body["request_uri"].as_str().unwrap().to_owned();
    assert!(request_uri.starts_with(PREFIX), "{request_uri}");
    assert_eq!(body["expires_in"], 300);

    // The browser's own scope and state are ignored: the pushed ones count.
    let url = front_channel("docs", &request_uri, "&scope=openid%20email&state=forged");
    let mut browser = setup.browser();
    let params = authorize_as(&mut browser, &url, Some(("alice", "alicepw")), CALLBACK).await;
    assert_eq!(param(&params, "state"), Some("pushed-state"));
    assert_eq!(param(&params, "iss"), Some(ISSUER));
    let code = param(&params, "code").expect("a code").to_owned();

    let client = setup.rp_client().await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&setup.http())
        .await
        .expect("the code of a pushed request exchanges like any other");
    let id_verifier = client.id_token_verifier().set_allowed_algs(vec![
        openidconnect::core::CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    ]);
    tokens
        .id_token()
        .expect("an ID token")
        .claims(&id_verifier, &nonce)
        .expect("the pushed nonce");
    let access = claims_of(tokens.access_token().secret());
    assert_eq!(access["scope"], "openid profile", "not the browser's email");

    refused_on_our_page(&setup, &url).await;
}

#[tokio::test]
async fn a_request_uri_serves_only_its_client_and_only_after_a_valid_push() {
    let setup = setup("oidc-par-refusals").await;
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let good = [
        ("response_type", "code"),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];

    for (what, secret, expected) in [
        ("no client authentication", None, 401),
        ("a wrong secret", Some("wrong"), 401),
    ] {
        let (status, body) = push(&setup, "docs", secret, &good).await;
        assert_eq!(status, expected, "{what}: {body}");
        assert_eq!(body["error"], "invalid_client", "{what}");
    }
    let unregistered = [
        ("response_type", "code"),
        ("redirect_uri", "https://evil.example/cb"),
        ("scope", "openid"),
    ];
    let with_request_uri = [("response_type", "code"), ("request_uri", "urn:x")];
    let other_client = [("response_type", "code"), ("client_id", "ledger")];
    for (what, form) in [
        ("an unregistered redirect URI", &unregistered[..]),
        ("a request_uri inside a push", &with_request_uri[..]),
        ("another client's id", &other_client[..]),
    ] {
        let (status, body) = push(&setup, "docs", Some(DOCS_SECRET), form).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert_eq!(body["error"], "invalid_request", "{what}");
    }
    let (status, body) = push(
        &setup,
        "docs",
        Some(DOCS_SECRET),
        &[("response_type", "token")],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "unsupported_response_type");

    let (status, body) = push(&setup, "docs", Some(DOCS_SECRET), &good).await;
    assert_eq!(status, 201, "{body}");
    let request_uri = body["request_uri"].as_str().unwrap();
    refused_on_our_page(&setup, &front_channel("ledger", request_uri, "")).await;
    refused_on_our_page(
        &setup,
        &format!("{ISSUER}/oidc/authorize?request_uri={PREFIX}x"),
    )
    .await;
    refused_on_our_page(
        &setup,
        &front_channel("docs", &format!("{PREFIX}unknown"), ""),
    )
    .await;
}

#[tokio::test]
async fn a_client_that_must_push_is_refused_without_and_served_with() {
    let setup = setup("oidc-par-required").await;
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let pkce = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let direct = authorize_url("payroll", PAYROLL_CALLBACK, &pkce);
    let mut browser = setup.signed_in().await;
    let params = authorize_as(&mut browser, &direct, None, PAYROLL_CALLBACK).await;
    assert_eq!(param(&params, "error"), Some("invalid_request"));
    assert!(param(&params, "code").is_none());

    let mut form = vec![
        ("response_type", "code"),
        ("redirect_uri", PAYROLL_CALLBACK),
        ("scope", "openid"),
        ("state", "p-1"),
    ];
    form.extend(pkce);
    let (status, body) = push(&setup, "payroll", Some(DOCS_SECRET), &form).await;
    assert_eq!(status, 201, "{body}");
    let url = front_channel("payroll", body["request_uri"].as_str().unwrap(), "");
    let params = authorize_as(&mut browser, &url, None, PAYROLL_CALLBACK).await;
    assert_eq!(param(&params, "state"), Some("p-1"));
    assert!(param(&params, "code").is_some(), "{params:?}");
}
