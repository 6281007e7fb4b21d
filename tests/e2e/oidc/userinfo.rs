//! Where userinfo takes its access token from (RFC 6750 §2, RFC 9700), as the certification's
//! `oidcc-userinfo-post-body` and its neighbours send it.

use pforte_e2e::client::{H1, Reply};

use super::{Setup, setup, tokens_for_alice};

/// RFC 6750 §2 and the certification's `oidcc-userinfo-post-body`: the token in the header (GET
/// or POST) or in a form-encoded POST body; never in the query (RFC 9700), never two ways at
/// once; no token at all is a bare challenge without an error code (RFC 6750 §3.1).
#[tokio::test]
async fn userinfo_takes_the_token_in_the_header_or_a_post_body_and_no_other_way() {
    let setup = setup("oidc-userinfo-carriers").await;
    let mut browser = setup.browser();
    let tokens = tokens_for_alice(&setup, &mut browser).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let bearer = || Some(format!("Bearer {access}"));
    let body = || Some(format!("access_token={access}"));
    let path = "/oidc/userinfo";

    for (what, method, authorization, form_body) in [
        ("GET with the header", "GET", bearer(), None),
        ("POST with the header", "POST", bearer(), None),
        ("POST with the body token", "POST", None, body()),
    ] {
        let reply = userinfo_shaped(&setup, method, path, authorization, form_body).await;
        assert_eq!(reply.status, 200, "{what}: {}", reply.text());
        assert_eq!(reply.json()["preferred_username"], "alice", "{what}");
    }

    let in_query = format!("{path}?access_token={access}");
    for (what, method, path, authorization, form_body) in [
        ("GET with the query", "GET", in_query.as_str(), None, None),
        ("POST with the query", "POST", in_query.as_str(), None, None),
        ("header and query", "GET", in_query.as_str(), bearer(), None),
        ("header and body", "POST", path, bearer(), body()),
        (
            "the body token twice",
            "POST",
            path,
            None,
            Some(format!("access_token={access}&access_token={access}")),
        ),
    ] {
        let reply = userinfo_shaped(&setup, method, path, authorization, form_body).await;
        assert_eq!(reply.status, 400, "{what}: {}", reply.text());
        assert_eq!(reply.json()["error"], "invalid_request", "{what}");
        assert!(
            reply.json().get("preferred_username").is_none(),
            "{what} gives no claims"
        );
    }

    let reply = userinfo_shaped(&setup, "GET", path, None, None).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.header("www-authenticate"),
        Some("Bearer realm=\"pforte\""),
        "no token at all: a challenge without an error code"
    );
    let reply = userinfo_shaped(
        &setup,
        "POST",
        path,
        None,
        Some("access_token=not.a.token".into()),
    )
    .await;
    assert_eq!(reply.status, 401, "a body token is checked like a header's");
    assert_eq!(reply.json()["error"], "invalid_token");
}

/// A userinfo request as a client may shape it: `GET` or `POST`, a path with or without a
/// query, an `Authorization` header or none, a form body or none.
async fn userinfo_shaped(
    setup: &Setup,
    method: &str,
    path: &str,
    authorization: Option<String>,
    form_body: Option<String>,
) -> Reply {
    let mut h1 = H1::connect(setup.gw.https, "login.gw.test", &setup.gw.root()).await;
    let mut req = h1.request(method, path);
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    if form_body.is_some() {
        req = req.header("content-type", "application/x-www-form-urlencoded");
    }
    h1.send(req.body(form_body.unwrap_or_default().into()).unwrap())
        .await
}
