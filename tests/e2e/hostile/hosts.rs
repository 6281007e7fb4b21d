//! Another `Host` than the one the policy judged: an absolute-form target with a different
//! `Host` header, two `Host` headers, an HTTP/2 `:authority` with a `host` header of another app,
//! user info in the host. The upstream must receive exactly the authority the decision was made
//! for, or the request is refused with 400.

use bytes::Bytes;
use http_body_util::Full;
use pforte_e2e::client::Reply;
use pforte_e2e::raw::head;

use super::{Target, cookie, received};

#[tokio::test]
async fn the_app_receives_the_host_the_policy_judged() {
    let target = Target::start().await;
    let bob = target.session("bob", "video.gw.test").await;
    let session = cookie(&bob);

    // RFC 9112 section 3.2.2: an absolute-form target names the host; its Host header is rebuilt.
    for target_host in ["video.gw.test", "VIDEO.gw.test"] {
        let reply = target
            .raw(
                "video.gw.test",
                &head(
                    &format!("GET https://{target_host}/call HTTP/1.1"),
                    &[("Host", "admin.gw.test"), ("Cookie", &session)],
                ),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let echo = reply.json();
        assert_eq!(received(&echo, "host"), [target_host], "{echo}");
        assert_eq!(received(&echo, "x-forwarded-host"), ["video.gw.test"]);
    }
    // The other way round the decision is for the admin console, which bob may not use.
    let reply = target
        .raw(
            "video.gw.test",
            &head(
                "GET https://admin.gw.test/ HTTP/1.1",
                &[("Host", "video.gw.test"), ("Cookie", &session)],
            ),
        )
        .await;
    assert_eq!(reply.status, 403);

    // More than one Host header, or user info: 400, nothing reaches an app.
    let before = target.shared.count();
    for headers in [
        vec![("Host", "video.gw.test"), ("Host", "admin.gw.test")],
        vec![("Host", "video.gw.test"), ("host", "video.gw.test")],
        vec![("Host", "admin.gw.test@video.gw.test")],
        vec![("Host", "video.gw.test:8443@admin.gw.test")],
    ] {
        let mut with_session = headers.clone();
        with_session.push(("Cookie", &session));
        let reply = target
            .raw("video.gw.test", &head("GET /call HTTP/1.1", &with_session))
            .await;
        assert_eq!(reply.status, 400, "{headers:?}: {}", reply.text());
    }
    assert_eq!(
        target.shared.count(),
        before,
        "a refused request reached the upstream"
    );
}

/// RFC 9113 section 8.3.1: an HTTP/2 `host` header that names another host than `:authority`
/// makes the request malformed; one naming the same host is fine.
#[tokio::test]
async fn http2_authority_and_host_must_agree() {
    let target = Target::start().await;
    let bob = target.session("bob", "video.gw.test").await;
    let session = cookie(&bob);
    let mut h2 = target.gw.h2("video.gw.test").await;
    let mut send = async |host: &str| {
        let req = http::Request::get("https://video.gw.test/call")
            .header("host", host)
            .header("cookie", session.as_str())
            .body(Full::new(Bytes::new()))
            .unwrap();
        h2.sender.ready().await.unwrap();
        Reply::from_response(h2.sender.send_request(req).await.unwrap()).await
    };
    let before = target.shared.count();
    let conflicting = send("admin.gw.test").await;
    assert_eq!(conflicting.status, 400, "{}", conflicting.text());
    assert_eq!(target.shared.count(), before);
    let same = send("Video.gw.test").await;
    assert_eq!(same.status, 200, "{}", same.text());
    assert_eq!(received(&same.json(), "host"), ["video.gw.test"]);

    // Without a host header the app still gets the authority as Host.
    let plain = target
        .gw
        .h2("video.gw.test")
        .await
        .get("/.well-known/x")
        .await;
    assert_eq!(received(&plain.json(), "host"), ["video.gw.test"]);
}
