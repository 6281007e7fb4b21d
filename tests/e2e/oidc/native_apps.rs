//! Native apps (RFC 8252) as public clients: a redirect to the app's private-use scheme and one
//! to a loopback port the app picks when it runs, each completing code + PKCE without any secret
//! through the `openidconnect` crate; and what such a client must not get away with.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use pforte_e2e::free_port;

use super::{ISSUER, MOBILE_CALLBACK, Setup, authorize_as, claims_of, param, setup};

type PublicClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The `mobile` client as a native app configures it: discovery, its id, no secret.
async fn mobile(setup: &Setup, redirect: &str) -> PublicClient {
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(ISSUER.into()).unwrap(), &setup.http())
            .await
            .expect("discovery");
    CoreClient::from_provider_metadata(metadata, ClientId::new("mobile".into()), None)
        .set_redirect_uri(RedirectUrl::new(redirect.into()).unwrap())
}

/// Alice logs in through `client`'s authorization URL; returns the code, the PKCE verifier and
/// the nonce, after checking the answer's `state` and `iss`.
async fn code_for_alice(
    setup: &Setup,
    client: &PublicClient,
    redirect: &str,
) -> (String, PkceCodeVerifier, Nonce) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let mut browser = setup.browser();
    let params = authorize_as(
        &mut browser,
        url.as_str(),
        Some(("alice", "alicepw")),
        redirect,
    )
    .await;
    assert_eq!(param(&params, "state"), Some(state.secret().as_str()));
    assert_eq!(param(&params, "iss"), Some(ISSUER));
    let code = param(&params, "code").expect("a code").to_owned();
    (code, verifier, nonce)
}

/// A token request the `openidconnect` crate would not send: the code without its verifier,
/// or with another redirect URI.
async fn raw_exchange(setup: &Setup, code: &str, redirect: &str, verifier: Option<&str>) -> String {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect),
        ("client_id", "mobile"),
    ];
    if let Some(verifier) = verifier {
        form.push(("code_verifier", verifier));
    }
    let reply = setup.post("/oidc/token", &form, None).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    reply.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_native_app_logs_in_through_its_own_scheme_with_pkce_and_no_secret() {
    let setup = setup("oidc-native-scheme").await;
    let client = mobile(&setup, MOBILE_CALLBACK).await;
    let (code, verifier, nonce) = code_for_alice(&setup, &client, MOBILE_CALLBACK).await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&setup.http())
        .await
        .expect("a public client exchanges its code with the verifier alone");
    let id_verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    let claims = tokens
        .id_token()
        .expect("an ID token")
        .claims(&id_verifier, &nonce)
        .expect("signature, iss, aud, nonce and expiry verify");
    assert_eq!(claims.audiences()[0].as_str(), "mobile");
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str()),
        Some("alice")
    );
    assert_eq!(
        claims_of(tokens.access_token().secret())["client_id"],
        "mobile"
    );
    assert_eq!(
        raw_exchange(&setup, &code, MOBILE_CALLBACK, None).await,
        "invalid_grant",
        "a code works once"
    );

    // Without the verifier a stolen code is worth nothing.
    let (code, _, _) = code_for_alice(&setup, &client, MOBILE_CALLBACK).await;
    assert_eq!(
        raw_exchange(&setup, &code, MOBILE_CALLBACK, None).await,
        "invalid_grant"
    );

    // Another path of the same scheme is not registered: Pforte's own page, no redirect.
    let other = mobile(&setup, "de.gw.test.mobile:/elsewhere").await;
    let (url, _, _) = other
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
        .url();
    let reply = setup.signed_in().await.get(url.as_str()).await;
    assert_eq!(reply.status, 400);
    assert!(reply.header("location").is_none());
}

#[tokio::test]
async fn a_native_app_s_loopback_redirect_takes_the_port_it_listens_on() {
    let setup = setup("oidc-native-loopback").await;
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let client = mobile(&setup, &redirect).await;
    let (code, verifier, nonce) = code_for_alice(&setup, &client, &redirect).await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&setup.http())
        .await
        .expect("the code exchanged at the port it went to");
    let id_verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    assert!(
        tokens
            .id_token()
            .expect("an ID token")
            .claims(&id_verifier, &nonce)
            .is_ok()
    );

    // The token request must name the same address, port included (RFC 6749 §4.1.3).
    let (code, verifier, _) = code_for_alice(&setup, &client, &redirect).await;
    let moved = format!("http://127.0.0.1:{}/callback", port.wrapping_add(1));
    assert_eq!(
        raw_exchange(&setup, &code, &moved, Some(verifier.secret())).await,
        "invalid_grant"
    );
}
