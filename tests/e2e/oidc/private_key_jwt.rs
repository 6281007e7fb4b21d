//! `private_key_jwt` client authentication (RFC 7523) end to end: a service client whose public
//! key is written in clients.toml and one that publishes its keys at a `jwks_uri` (an HTTPS
//! server of the test), each signing assertions with the `jsonwebtoken` crate. An assertion
//! works once; a wrong audience, an expired one, a stranger's signature, a secret instead of
//! the key, and a `jwks_uri` that fails are refused with `invalid_client`, never a 5xx.

use pforte_e2e::client::{H1, Reply};
use pforte_e2e::gateway::{Gateway, app_toml};
use pforte_e2e::jwks::{ClientKey, JWT_BEARER, JwksServer, assertion_claims};
use pforte_e2e::pki::TestCa;
use pforte_e2e::unique_prefix;
use pforte_e2e::upstream::Upstream;

use super::{ISSUER, hash};

const TOKEN: &str = "https://login.gw.test/oidc/token";

struct Signers {
    gw: Gateway,
    /// The key of `batch`, written inline in clients.toml.
    inline: ClientKey,
    /// The first key `sync` publishes at its jwks_uri.
    published: ClientKey,
    jwks: JwksServer,
    _upstream: Upstream,
    _dir: tempfile::TempDir,
}

async fn start(label: &str) -> Signers {
    let upstream = Upstream::start("docs").await;
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let inline = ClientKey::generate("batch-1");
    let published = ClientKey::generate("sync-1");
    let jwks = JwksServer::start(&ca, dir.path(), ClientKey::set(&[&published])).await;
    let clients = format!(
        r#"
[[client]]
id = "batch"
app = "docs"
jwks = '{inline}'
grant_types = ["client_credentials"]
scopes = ["profile"]

[[client]]
id = "sync"
app = "docs"
jwks_uri = "{uri}"
grant_types = ["client_credentials"]
scopes = ["profile"]

[[client]]
id = "docs"
app = "docs"
secret_hash = "{secret}"
grant_types = ["client_credentials"]
scopes = ["profile"]
"#,
        inline = ClientKey::set(&[&inline]),
        uri = jwks.uri(),
        secret = hash("docs-secret-0123456789"),
    );
    let gw = Gateway::builder()
        .apps(app_toml("docs", "docs.gw.test", "/", &[upstream.url()], ""))
        .policy("[[rule]]\napps = [\"docs\"]\nallow = [\"group:staff\"]\n")
        .redis(&unique_prefix(label), "")
        .oidc(&clients)
        .start_with_ca(ca)
        .await;
    Signers {
        gw,
        inline,
        published,
        jwks,
        _upstream: upstream,
        _dir: dir,
    }
}

impl Signers {
    /// A client_credentials grant authenticated by `assertion`, plus `extra` form fields and
    /// headers.
    async fn grant(&self, assertion: &str, extra: &[(&str, &str)], basic: Option<&str>) -> Reply {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials")
            .append_pair("client_assertion_type", JWT_BEARER)
            .append_pair("client_assertion", assertion);
        for (name, value) in extra {
            form.append_pair(name, value);
        }
        let mut h1 = H1::connect(self.gw.https, "login.gw.test", &self.gw.root()).await;
        let mut req = h1
            .request("POST", "/oidc/token")
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(value) = basic {
            req = req.header("authorization", value);
        }
        h1.send(req.body(form.finish().into()).unwrap()).await
    }
}

fn refused_as(reply: &Reply, status: u16, error: &str, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", reply.text());
    assert_eq!(reply.json()["error"], error, "{what}");
}

#[tokio::test]
async fn a_client_with_an_inline_key_authenticates_by_assertion_once_each() {
    let s = start("oidc-pkjwt-inline").await;
    let assertion = s.inline.assertion("batch", TOKEN);
    let reply = s.grant(&assertion, &[], None).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(super::claims_of(&token)["client_id"], "batch");

    let again = s.grant(&assertion, &[], None).await;
    refused_as(&again, 401, "invalid_client", "the same assertion twice");
    assert!(again.text().contains("jti"), "{}", again.text());

    let to_issuer = s.inline.assertion("batch", ISSUER);
    assert_eq!(
        s.grant(&to_issuer, &[("client_id", "batch")], None)
            .await
            .status,
        200,
        "the issuer is an audience too (RFC 7523bis)"
    );

    let stranger = ClientKey::generate("batch-1");
    let mut expired = assertion_claims("batch", TOKEN);
    expired["exp"] = serde_json::json!(expired["iat"].as_u64().unwrap() - 3600);
    let mut long = assertion_claims("batch", TOKEN);
    long["exp"] = serde_json::json!(long["iat"].as_u64().unwrap() + 7200);
    for (what, assertion) in [
        (
            "another audience",
            s.inline
                .assertion("batch", "https://elsewhere.example/token"),
        ),
        ("an expired assertion", s.inline.sign(&expired)),
        ("an assertion living two hours", s.inline.sign(&long)),
        ("a stranger's key", stranger.assertion("batch", TOKEN)),
        ("batch's key for sync", s.inline.assertion("sync", TOKEN)),
        ("batch's key for docs", s.inline.assertion("docs", TOKEN)),
        ("an unknown client", s.inline.assertion("nobody", TOKEN)),
    ] {
        refused_as(
            &s.grant(&assertion, &[], None).await,
            401,
            "invalid_client",
            what,
        );
    }

    let fresh = s.inline.assertion("batch", TOKEN);
    let other_id = s.grant(&fresh, &[("client_id", "docs")], None).await;
    refused_as(&other_id, 401, "invalid_client", "a client_id beside it");
    let basic = s
        .grant(
            &fresh,
            &[],
            Some("Basic ZG9jczpkb2NzLXNlY3JldC0wMTIzNDU2Nzg5"),
        )
        .await;
    refused_as(
        &basic,
        400,
        "invalid_request",
        "Basic and an assertion at once",
    );
}

#[tokio::test]
async fn a_client_with_a_jwks_uri_is_followed_through_a_key_rotation() {
    let s = start("oidc-pkjwt-remote").await;
    let first = s.published.assertion("sync", TOKEN);
    assert_eq!(s.grant(&first, &[], None).await.status, 200);
    let fetched = s.jwks.fetches();
    assert_eq!(fetched, 1, "fetched once on first use");
    let second = s.published.assertion("sync", TOKEN);
    assert_eq!(s.grant(&second, &[], None).await.status, 200);
    assert_eq!(s.jwks.fetches(), fetched, "then served from the cache");

    // The client rotates: a new key under a new kid is fetched when an assertion names it.
    let rotated = ClientKey::generate("sync-2");
    s.jwks.publish(ClientKey::set(&[&rotated]));
    let reply = s.grant(&rotated.assertion("sync", TOKEN), &[], None).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(s.jwks.fetches(), fetched + 1);

    // A made-up kid right after costs no second fetch within the interval.
    let unknown = ClientKey::generate("sync-9");
    refused_as(
        &s.grant(&unknown.assertion("sync", TOKEN), &[], None).await,
        401,
        "invalid_client",
        "an unpublished key",
    );
    assert_eq!(s.jwks.fetches(), fetched + 1, "no refetch within 10 s");

    // The par endpoint is an audience too (RFC 9126 §2).
    let par = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_assertion_type", JWT_BEARER)
        .append_pair(
            "client_assertion",
            &rotated.assertion("sync", "https://login.gw.test/oidc/par"),
        )
        .append_pair("response_type", "code")
        .finish();
    let mut h1 = H1::connect(s.gw.https, "login.gw.test", &s.gw.root()).await;
    let req = h1
        .request("POST", "/oidc/par")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(par.into())
        .unwrap();
    let reply = h1.send(req).await;
    refused_as(
        &reply,
        400,
        "invalid_request",
        "authenticated (not 401), but sync registers no redirect URI",
    );
}

#[tokio::test]
async fn a_jwks_uri_that_fails_refuses_the_client_and_never_the_gateway() {
    let s = start("oidc-pkjwt-down").await;
    s.jwks.fail(true);
    let reply = s
        .grant(&s.published.assertion("sync", TOKEN), &[], None)
        .await;
    refused_as(&reply, 401, "invalid_client", "a JWKS answering 503");
    assert!(reply.text().contains("jwks_uri"), "{}", reply.text());
    s.jwks
        .publish("{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}".into());
    s.jwks.fail(false);
    let reply = s
        .grant(&s.published.assertion("sync", TOKEN), &[], None)
        .await;
    refused_as(&reply, 401, "invalid_client", "a JWKS with a secret key");
}
