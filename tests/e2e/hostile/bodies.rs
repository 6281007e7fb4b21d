//! A client's broken chunked body is the client's error: 400, never a 502 counted against the
//! upstream (nobody outside may fire the upstream alerts).

use bytes::Bytes;
use http_body_util::StreamBody;
use hyper::body::Frame;
use pforte_e2e::client::{Reply, connect_tls, tls_config};
use pforte_e2e::gateway::{Gateway, OPEN_POLICY, app_toml};
use pforte_e2e::raw::head;
use pforte_e2e::upstream::Upstream;

use super::Target;

#[tokio::test]
async fn a_malformed_chunked_body_is_the_clients_error() {
    let target = Target::start().await;
    let alice = super::cookie(&target.session("alice", "mail.gw.test").await);
    let bodies: [(&str, &[u8]); 5] = [
        ("size zz", b"zz\r\nabc\r\n0\r\n\r\n"),
        ("size -1", b"-1\r\nabc\r\n0\r\n\r\n"),
        (
            "size overflows",
            b"ffffffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
        ),
        ("chunk longer than declared", b"3\r\nabcdef\r\n0\r\n\r\n"),
        ("bare LF", b"3\nabc\n0\n\n"),
    ];
    for (what, body) in bodies {
        let mut request = head(
            "POST /upload HTTP/1.1",
            &[
                ("Host", "mail.gw.test"),
                ("Cookie", &alice),
                ("Transfer-Encoding", "chunked"),
            ],
        );
        request.extend_from_slice(body);
        let reply = target.raw("mail.gw.test", &request).await;
        assert_eq!(reply.status, 400, "{what}: {}", reply.text());
    }
    // A well-formed chunked body still goes through.
    let mut request = head(
        "POST /upload HTTP/1.1",
        &[
            ("Host", "mail.gw.test"),
            ("Cookie", &alice),
            ("Transfer-Encoding", "chunked"),
        ],
    );
    request.extend_from_slice(b"3\r\nabc\r\n0\r\n\r\n");
    let reply = target.raw("mail.gw.test", &request).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["received"], 3);
    let protocol = target
        .gw
        .metric("pforte_upstream_errors_total{app=\"mail\",kind=\"protocol\"}")
        .await;
    assert_eq!(
        protocol,
        Some(0.0),
        "a client's body was counted as the upstream's error"
    );
}

/// Trailers are headers that come after the body: a client's never reach the app, or an identity
/// header could arrive there, past every header check. HTTP/2 on both sides carries them.
#[tokio::test]
async fn client_trailers_never_reach_the_app() {
    let grpc = Upstream::start("grpc").await;
    let apps = app_toml(
        "grpc",
        "grpc.gw.test",
        "/",
        &[grpc.url()],
        "upstream_protocol = \"http2\"",
    );
    let gw = Gateway::builder()
        .apps(apps)
        .policy(OPEN_POLICY)
        .start()
        .await;
    let stream = connect_tls(gw.https, "grpc.gw.test", tls_config(&gw.root(), &[b"h2"]))
        .await
        .unwrap();
    let mut trailers = http::HeaderMap::new();
    trailers.insert("x-forwarded-user", "mallory".parse().unwrap());
    trailers.insert("x-custom", "1".parse().unwrap());
    let frames = futures_util::stream::iter([
        Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from_static(b"abc"))),
        Ok(Frame::trailers(trailers)),
    ]);
    let req = http::Request::post("https://grpc.gw.test/upload")
        .body(StreamBody::new(frames))
        .unwrap();
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let reply = Reply::from_response(sender.send_request(req).await.unwrap()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["received"], 3);
    assert_eq!(
        reply.json()["trailers"],
        serde_json::json!([]),
        "client trailers crossed"
    );
}
