//! Path parameters and `..;` segments that a Servlet container (Tomcat, Jetty: XWiki, Keycloak,
//! many Java apps) reads as a protected path. The policy must judge the path as such an app
//! reads it, so a public rule never admits a protected path.

use pforte_e2e::raw::head;

use super::{Target, cookie, received};

/// Anonymous requests through public rules: sent to log in, never to the app.
#[tokio::test]
async fn public_rules_admit_no_protected_path_in_disguise() {
    let target = Target::start().await;
    for (host, path) in [
        ("wiki.gw.test", "/handbook/..;/runbooks/restart"),
        ("wiki.gw.test", "/handbook/..;x=1/runbooks/restart"),
        ("wiki.gw.test", "/handbook/%2e%2e;/runbooks/restart"),
        ("wiki.gw.test", "/handbook/.;/..;/runbooks/restart"),
        ("mail.gw.test", "/.well-known/..;/inbox"),
        ("mail.gw.test", "/.well-known;x/..;/inbox"),
    ] {
        let reply = target
            .raw(
                host,
                &head(&format!("GET {path} HTTP/1.1"), &[("Host", host)]),
            )
            .await;
        assert_eq!(reply.status, 302, "{host}{path}: {}", reply.text());
        assert!(
            reply
                .header("location")
                .is_some_and(|l| l.contains("/login")),
            "{host}{path}"
        );
    }
    assert_eq!(target.wiki.count(), 0, "the wiki saw a request");
    assert_eq!(target.mail.count(), 0, "mail saw a request");

    // The public handbook itself stays public, parameters and all.
    let reply = target
        .raw(
            "wiki.gw.test",
            &head(
                "GET /handbook/start;jsessionid=1 HTTP/1.1",
                &[("Host", "wiki.gw.test")],
            ),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["path"], "/handbook/start;jsessionid=1");
}

/// A logged-in person outside finance, over HTTP/1.1 and HTTP/2: every disguise of
/// `/finance/budget` is refused; a finance member gets through with the parameters intact.
#[tokio::test]
async fn path_parameters_cannot_hide_a_protected_area() {
    let target = Target::start().await;
    let alice = cookie(&target.session("alice", "projects.gw.test").await);
    let landed = target.projects.count();
    let disguises = [
        "/finance;x/budget",
        "/finance;jsessionid=0123/budget",
        "/x/..;/finance/budget",
        "/;x/finance/budget",
        "/.;/finance/budget",
        "/finance/;/budget",
        "/finance;",
    ];
    for path in disguises {
        let reply = target
            .raw(
                "projects.gw.test",
                &head(
                    &format!("GET {path} HTTP/1.1"),
                    &[("Host", "projects.gw.test"), ("Cookie", &alice)],
                ),
            )
            .await;
        assert_eq!(reply.status, 403, "{path}: {}", reply.text());
    }
    let mut h2 = target.gw.h2("projects.gw.test").await;
    for path in disguises {
        let req = http::Request::get(format!("https://projects.gw.test{path}"))
            .header("cookie", alice.as_str())
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap();
        h2.sender.ready().await.unwrap();
        let reply =
            pforte_e2e::client::Reply::from_response(h2.sender.send_request(req).await.unwrap())
                .await;
        assert_eq!(reply.status, 403, "HTTP/2 {path}");
    }
    assert_eq!(
        target.projects.count(),
        landed,
        "projects saw a refused request"
    );

    let carol = cookie(&target.session("carol", "projects.gw.test").await);
    let reply = target
        .raw(
            "projects.gw.test",
            &head(
                "GET /finance;jsessionid=0123/budget HTTP/1.1",
                &[("Host", "projects.gw.test"), ("Cookie", &carol)],
            ),
        )
        .await;
    assert_eq!(reply.status, 200);
    let echo = reply.json();
    assert_eq!(echo["path"], "/finance;jsessionid=0123/budget");
    assert_eq!(received(&echo, "x-forwarded-user"), ["carol"]);
    // `..;` is a dot segment for the upstream too: it receives the resolved path.
    let reply = target
        .raw(
            "projects.gw.test",
            &head(
                "GET /x/..;/finance/budget HTTP/1.1",
                &[("Host", "projects.gw.test"), ("Cookie", &carol)],
            ),
        )
        .await;
    assert_eq!(reply.json()["path"], "/finance/budget");
}
