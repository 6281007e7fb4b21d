//! Identity headers a client deletes through `Connection`, smuggles in underscore spellings, or
//! sends under names Pforte was not told about.

use bytes::Bytes;
use http_body_util::Full;
use pforte_e2e::gateway::app_toml;
use pforte_e2e::raw::head;
use pforte_e2e::upstream::Upstream;

use super::{Target, cookie, received, spellings_of};

/// Headers a logged-in partner names in `Connection` to make the app receive no identity (the
/// trick of CVE-2022-1388). Each must reach the app as Pforte set it.
#[tokio::test]
async fn connection_cannot_delete_what_pforte_sets() {
    let target = Target::start().await;
    let bob = target.session("bob", "video.gw.test").await;
    for named in [
        "X-Forwarded-User",
        "x-forwarded-groups",
        "X-Pforte-Assertion",
        "X-Forwarded-User, X-Forwarded-Groups, X-Forwarded-Email, X-Forwarded-Name",
        "keep-alive, X-FORWARDED-USER",
        "Host",
        "X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Proto, Forwarded, X-Request-Id",
    ] {
        let reply = target
            .raw(
                "video.gw.test",
                &head(
                    "GET /call HTTP/1.1",
                    &[
                        ("Host", "video.gw.test"),
                        ("Cookie", &cookie(&bob)),
                        ("Connection", &format!("close, {named}")),
                    ],
                ),
            )
            .await;
        assert_eq!(reply.status, 200, "Connection: {named}: {}", reply.text());
        let echo = reply.json();
        assert_eq!(received(&echo, "x-forwarded-user"), ["bob"], "{named}");
        assert_eq!(
            received(&echo, "x-forwarded-groups"),
            ["partners"],
            "{named}"
        );
        assert_eq!(received(&echo, "x-pforte-assertion").len(), 1, "{named}");
        assert_eq!(received(&echo, "host"), ["video.gw.test"], "{named}");
        assert_eq!(received(&echo, "x-forwarded-for"), ["127.0.0.1"], "{named}");
        assert_eq!(received(&echo, "x-forwarded-proto"), ["https"], "{named}");
        assert_eq!(received(&echo, "x-request-id").len(), 1, "{named}");
    }
    // A header that really is hop-by-hop still goes.
    let reply = target
        .raw(
            "video.gw.test",
            &head(
                "GET /call HTTP/1.1",
                &[
                    ("Host", "video.gw.test"),
                    ("Cookie", &cookie(&bob)),
                    ("Connection", "close, X-Hop"),
                    ("X-Hop", "1"),
                ],
            ),
        )
        .await;
    assert!(received(&reply.json(), "x-hop").is_empty());
}

/// Underscore spellings that CGI, PHP, WSGI and Rack read as the real header (Puma's
/// CVE-2024-45614), from a logged-in partner and from nobody, over HTTP/1.1 and HTTP/2.
#[tokio::test]
async fn underscore_spellings_never_reach_the_app() {
    let target = Target::start().await;
    let bob = target.session("bob", "video.gw.test").await;
    let spellings = [
        ("X_Forwarded_User", "x-forwarded-user"),
        ("X-Forwarded_User", "x-forwarded-user"),
        ("X_FORWARDED_GROUPS", "x-forwarded-groups"),
        ("x_forwarded_email", "x-forwarded-email"),
        ("X_Pforte_Assertion", "x-pforte-assertion"),
        ("X_Forwarded_For", "x-forwarded-for"),
        ("X_Request_Id", "x-request-id"),
        ("Remote_User", "remote-user"),
    ];
    let mut headers = vec![("Host", "video.gw.test")];
    headers.extend(spellings.iter().map(|(name, _)| (*name, "mallory")));
    let session = cookie(&bob);
    for logged_in in [true, false] {
        let mut these = headers.clone();
        let path = if logged_in {
            these.push(("Cookie", &session));
            "GET /call HTTP/1.1"
        } else {
            "GET /.well-known/security.txt HTTP/1.1"
        };
        let reply = target.raw("video.gw.test", &head(path, &these)).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let echo = reply.json();
        for (_, protected) in spellings {
            let seen = spellings_of(&echo, protected);
            assert!(
                seen.iter().all(|name| !name.contains('_')),
                "logged in: {logged_in}: {seen:?} reached the app: {echo}"
            );
            for value in received(&echo, protected) {
                assert_ne!(value, "mallory", "{protected} carried the client's value");
            }
        }
        if logged_in {
            assert_eq!(received(&echo, "x-forwarded-user"), ["bob"]);
        }
    }

    // HTTP/2 carries header names in lower case only; the underscores are the same.
    let mut h2 = target.gw.h2("video.gw.test").await;
    let mut req = http::Request::get("https://video.gw.test/call")
        .header("cookie", session.as_str())
        .body(Full::new(Bytes::new()))
        .unwrap();
    for (name, _) in spellings {
        req.headers_mut().insert(
            http::HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).unwrap(),
            http::HeaderValue::from_static("mallory"),
        );
    }
    h2.sender.ready().await.unwrap();
    let reply =
        pforte_e2e::client::Reply::from_response(h2.sender.send_request(req).await.unwrap()).await;
    let echo = reply.json();
    for (name, _) in spellings {
        assert!(
            echo["headers"].get(name.to_ascii_lowercase()).is_none(),
            "{name} crossed over HTTP/2: {echo}"
        );
    }
    assert_eq!(received(&echo, "x-forwarded-user"), ["bob"]);
}

/// Identity headers of other proxies and apps, Pforte's own family, path and method overrides
/// and front-proxy headers: none reaches an app as the client sent it, logged in or not.
#[tokio::test]
async fn identity_headers_pforte_was_not_told_about_are_stripped() {
    let target = Target::start().await;
    let bob = target.session("bob", "video.gw.test").await;
    let foreign = [
        "Remote-User",
        "X-Remote-User",
        "X-Auth-Request-User",
        "X-Auth-Request-Email",
        "X-Auth-Request-Groups",
        "X-WEBAUTH-USER",
        "X-Forwarded-Preferred-Username",
        "Remote-Groups",
        "X-Pforte-User",
        "X-Pforte-Groups",
        "X-Pomerium-Claim-Email",
        "X-Authentik-Username",
        "X-Original-URL",
        "X-Rewrite-URL",
        "X-HTTP-Method-Override",
        "X-Real-IP",
        "True-Client-IP",
    ];
    let session = cookie(&bob);
    for (sni, line, with_session) in [
        ("video.gw.test", "GET /call HTTP/1.1", true),
        ("video.gw.test", "GET /.well-known/x HTTP/1.1", false),
        // The admin console gets no assertion: a client's X-Pforte-Assertion must not pass either.
        ("admin.gw.test", "GET /.well-known/x HTTP/1.1", false),
    ] {
        let mut headers = vec![("Host", sni)];
        headers.extend(foreign.iter().map(|name| (*name, "admin")));
        headers.push(("X-Pforte-Assertion", "forged.jwt.value"));
        if with_session {
            headers.push(("Cookie", &session));
        }
        let reply = target.raw(sni, &head(line, &headers)).await;
        assert_eq!(reply.status, 200, "{sni}{line}: {}", reply.text());
        let echo = reply.json();
        for name in foreign {
            assert!(
                received(&echo, &name.to_ascii_lowercase()).is_empty(),
                "{name} reached {sni}: {echo}"
            );
        }
        for value in received(&echo, "x-pforte-assertion") {
            assert_ne!(
                value, "forged.jwt.value",
                "the client's assertion reached {sni}"
            );
        }
    }

    // The same over HTTP/2, anonymous.
    let mut h2 = target.gw.h2("admin.gw.test").await;
    let mut req = http::Request::get("https://admin.gw.test/.well-known/x")
        .body(Full::new(Bytes::new()))
        .unwrap();
    for name in foreign {
        req.headers_mut().insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            http::HeaderValue::from_static("admin"),
        );
    }
    h2.sender.ready().await.unwrap();
    let reply =
        pforte_e2e::client::Reply::from_response(h2.sender.send_request(req).await.unwrap()).await;
    let echo = reply.json();
    for name in foreign {
        assert!(
            received(&echo, &name.to_ascii_lowercase()).is_empty(),
            "{name} reached the app over HTTP/2: {echo}"
        );
    }
}

/// An app may take underscore names and catalogue names its clients really send, but never
/// the names Pforte sets for it.
#[tokio::test]
async fn an_app_may_declare_client_headers_its_own() {
    let api = Upstream::start("api").await;
    let apps = app_toml(
        "api",
        "api.gw.test",
        "/",
        &[api.url()],
        "[app.request_headers]\nunderscores = \"pass\"\npass = [\"X-HTTP-Method-Override\"]",
    );
    let gw = pforte_e2e::gateway::Gateway::builder()
        .apps(apps)
        .policy(pforte_e2e::gateway::OPEN_POLICY)
        .start()
        .await;
    let reply = pforte_e2e::raw::send(
        gw.https,
        "api.gw.test",
        &gw.root(),
        &head(
            "GET / HTTP/1.1",
            &[
                ("Host", "api.gw.test"),
                ("X_Custom_Trace", "1"),
                ("X-HTTP-Method-Override", "PATCH"),
                ("X_Forwarded_User", "mallory"),
                ("X-Remote-User", "mallory"),
            ],
        ),
    )
    .await;
    let echo = reply.json();
    assert_eq!(received(&echo, "x_custom_trace"), ["1"]);
    assert_eq!(received(&echo, "x-http-method-override"), ["PATCH"]);
    assert!(spellings_of(&echo, "x-forwarded-user").is_empty(), "{echo}");
    assert!(received(&echo, "x-remote-user").is_empty());
}
