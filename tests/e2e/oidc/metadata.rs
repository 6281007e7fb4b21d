//! What the provider says of itself (the OpenID discovery document and the same document as
//! OAuth 2.0 authorization server metadata, RFC 8414, with the issuer they were asked of and
//! every endpoint and method that the provider serves), and the answers the specifications fix
//! whatever the request (revocation, RFC 7009 §2.2).

use super::{DOCS_SECRET, ISSUER, setup, tokens_for_alice};

#[tokio::test]
async fn discovery_and_rfc8414_metadata_are_one_document_naming_what_is_served() {
    let setup = setup("oidc-metadata").await;
    let openid = setup
        .gw
        .get("login.gw.test", "/.well-known/openid-configuration")
        .await;
    let oauth = setup
        .gw
        .get("login.gw.test", "/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(oauth.status, 200, "{}", oauth.text());
    assert_eq!(
        oauth.json(),
        openid.json(),
        "one document at both addresses"
    );
    let metadata = oauth.json();
    assert_eq!(
        metadata["issuer"], ISSUER,
        "RFC 8414 §3.3: the issuer asked of"
    );
    assert_eq!(
        metadata["pushed_authorization_request_endpoint"],
        format!("{ISSUER}/oidc/par")
    );
    let methods = metadata["token_endpoint_auth_methods_supported"].to_string();
    assert!(methods.contains("private_key_jwt"), "{methods}");
    assert_eq!(metadata["code_challenge_methods_supported"][0], "S256");
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );

    // Every advertised endpoint exists (a GET may be refused, never 404).
    for field in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "introspection_endpoint",
        "revocation_endpoint",
        "end_session_endpoint",
        "pushed_authorization_request_endpoint",
        "device_authorization_endpoint",
    ] {
        let url = metadata[field].as_str().unwrap();
        let path = url.strip_prefix(ISSUER).unwrap();
        let reply = setup.gw.get("login.gw.test", path).await;
        assert_ne!(reply.status, 404, "{field} at {path}");
    }
}

/// RFC 7009 §2.2: the answer is 200 for a token that is unknown or dead, so it reveals nothing;
/// a live token of another client is refused (§2.1) and left as it was.
#[tokio::test]
async fn revocation_answers_200_for_unknown_tokens_and_refuses_another_client_s() {
    let setup = setup("oidc-revoke-unknown").await;
    let mut browser = setup.browser();
    let tokens = tokens_for_alice(&setup, &mut browser).await;
    let access = tokens["access_token"].as_str().unwrap();
    for token in ["not-a-token", "a.b.c"] {
        let reply = setup
            .post(
                "/oidc/revoke",
                &[("token", token)],
                Some(("docs", DOCS_SECRET)),
            )
            .await;
        assert_eq!(reply.status, 200, "{token}: {}", reply.text());
    }
    let foreign = setup
        .post(
            "/oidc/revoke",
            &[("token", access), ("client_id", "cli")],
            None,
        )
        .await;
    assert_eq!(foreign.status, 400, "{}", foreign.text());
    assert_eq!(foreign.json()["error"], "unauthorized_client");
    assert_eq!(
        setup.introspect(access).await["active"],
        true,
        "another client cannot revoke docs' token"
    );
}
