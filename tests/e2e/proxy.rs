//! Routing and proxying.

use pforte_e2e::client::stream_post;
use pforte_e2e::gateway::{Gateway, app_toml};
use pforte_e2e::upstream::Upstream;

#[tokio::test]
async fn routes_by_host_and_path_prefix() {
    let mail = Upstream::start("mail").await;
    let docs = Upstream::start("docs").await;
    let files = Upstream::start("files").await;
    let gw = Gateway::builder()
        .apps(
            app_toml("mail", "mail.gw.test", "/", &[mail.url()], "")
                + &app_toml("files", "work.gw.test", "/", &[files.url()], "")
                + &app_toml("docs", "work.gw.test", "/docs", &[docs.url()], ""),
        )
        .start()
        .await;
    let r = gw.get("mail.gw.test", "/inbox?page=2").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["upstream"], "mail");
    assert_eq!(r.json()["path"], "/inbox");
    assert_eq!(r.json()["query"], "page=2");
    assert_eq!(
        gw.get("work.gw.test", "/docs/report.odt").await.json()["upstream"],
        "docs"
    );
    assert_eq!(
        gw.get("work.gw.test", "/docs").await.json()["upstream"],
        "docs"
    );
    assert_eq!(
        gw.get("work.gw.test", "/docsx").await.json()["upstream"],
        "files"
    );
    assert_eq!(
        gw.get("work.gw.test", "/").await.json()["upstream"],
        "files"
    );
    let unknown = gw.get("nowhere.gw.test", "/").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.text().contains("No app at this address"));
    assert_eq!(mail.count(), 1);
}

#[tokio::test]
async fn http2_from_client_and_to_upstreams() {
    let ca = pforte_e2e::pki::TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let h2c = Upstream::start("h2c").await;
    let tls = Upstream::start_tls("tls", &ca, dir.path()).await;
    let plain = Upstream::start("plain").await;
    let gw = Gateway::builder()
        .file("upstream-ca.pem", ca.pem())
        .apps(
            app_toml(
                "h2c",
                "h2c.gw.test",
                "/",
                &[h2c.url()],
                "upstream_protocol = \"http2\"",
            ) + &app_toml(
                "tls",
                "tls.gw.test",
                "/",
                &[tls.url()],
                "upstream_ca = \"upstream-ca.pem\"",
            ) + &app_toml("plain", "plain.gw.test", "/", &[plain.url()], ""),
        )
        .start_with_ca(ca)
        .await;

    let mut h2 = gw.h2("plain.gw.test").await;
    let r = h2.get("/a").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.version, http::Version::HTTP_2);
    assert_eq!(
        r.json()["version"],
        "HTTP/1.1",
        "plain upstreams get HTTP/1.1"
    );
    assert_eq!(r.json()["headers"]["host"][0], "plain.gw.test");

    let r = gw.h2("h2c.gw.test").await.get("/b").await;
    assert_eq!(
        r.json()["version"],
        "HTTP/2.0",
        "h2c upstream speaks HTTP/2: {}",
        r.text()
    );
    assert_eq!(r.json()["upstream"], "h2c");

    let r = gw.h2("tls.gw.test").await.get("/c").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["version"],
        "HTTP/2.0",
        "https upstream negotiates h2 by ALPN"
    );

    // Many concurrent streams on one client connection.
    let mut h2 = gw.h2("plain.gw.test").await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let mut sender = h2.sender.clone();
        tasks.push(tokio::spawn(async move {
            let req = http::Request::get(format!("https://plain.gw.test/stream/{i}"))
                .body(http_body_util::Full::new(bytes::Bytes::new()))
                .unwrap();
            sender.ready().await.unwrap();
            pforte_e2e::client::Reply::from_response(sender.send_request(req).await.unwrap()).await
        }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        let r = task.await.unwrap();
        assert_eq!(r.json()["path"], format!("/stream/{i}"));
    }
    assert_eq!(h2.get("/last").await.status, 200);
}

#[tokio::test]
async fn https_upstream_with_an_unknown_ca_is_a_bad_gateway() {
    let ca = pforte_e2e::pki::TestCa::new();
    let other = pforte_e2e::pki::TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let tls = Upstream::start_tls("tls", &other, dir.path()).await;
    let gw = Gateway::builder()
        .file("upstream-ca.pem", ca.pem())
        .apps(app_toml(
            "tls",
            "tls.gw.test",
            "/",
            &[tls.url()],
            "upstream_ca = \"upstream-ca.pem\"",
        ))
        .start_with_ca(ca)
        .await;
    assert_eq!(gw.get("tls.gw.test", "/").await.status, 502);
    assert_eq!(
        tls.count(),
        0,
        "no request may reach an upstream whose certificate failed"
    );
}

#[tokio::test]
async fn websocket_echo_through_the_proxy() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let chat = Upstream::start("chat").await;
    let gw = Gateway::builder()
        .app("chat", "chat.gw.test", &[chat.url()])
        .start()
        .await;
    let tls = pforte_e2e::client::connect_tls(
        gw.https,
        "chat.gw.test",
        pforte_e2e::client::tls_config(&gw.root(), &[b"http/1.1"]),
    )
    .await
    .unwrap();
    let (mut ws, response) = tokio_tungstenite::client_async("wss://chat.gw.test/ws", tls)
        .await
        .unwrap();
    assert_eq!(response.status(), 101);
    for text in ["hello", "through", "pforte"] {
        ws.send(Message::text(text)).await.unwrap();
        let echoed = ws.next().await.unwrap().unwrap();
        assert_eq!(echoed, Message::text(text));
    }
    let big = vec![7u8; 256 * 1024];
    ws.send(Message::binary(big.clone())).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::binary(big));
    ws.close(None).await.unwrap();
}

#[tokio::test]
async fn hundred_megabytes_stream_both_ways_in_bounded_memory() {
    const SIZE: u64 = 100 * 1024 * 1024;
    let files = Upstream::start("files").await;
    let gw = Gateway::builder()
        .apps(app_toml(
            "files",
            "files.gw.test",
            "/",
            &[files.url()],
            "max_body_size = \"1 GiB\"",
        ))
        .start()
        .await;
    let before = gw.peak_rss_kib();

    // Download: the body is read in chunks and counted, never held whole by the client either.
    let mut h1 = gw.h1("files.gw.test").await;
    let req = h1
        .request("GET", &format!("/download/{SIZE}"))
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    h1.sender.ready().await.unwrap();
    let response = h1.sender.send_request(req).await.unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut received = 0u64;
    while let Some(frame) = http_body_util::BodyExt::frame(&mut body).await {
        received += frame.unwrap().data_ref().map_or(0, |d| d.len() as u64);
    }
    assert_eq!(received, SIZE);

    // Upload: a streamed body of 100 MB, produced chunk by chunk.
    let chunk = bytes::Bytes::from(vec![b'u'; 256 * 1024]);
    let count = SIZE / chunk.len() as u64;
    let reply = stream_post(
        gw.https,
        "files.gw.test",
        &gw.root(),
        "/upload",
        chunk,
        count,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["received"], SIZE);

    let grown_mib = (gw.peak_rss_kib().saturating_sub(before)) / 1024;
    assert!(
        grown_mib < 48,
        "gateway peak memory grew by {grown_mib} MiB while streaming 2 x 100 MB"
    );
}

#[tokio::test]
async fn body_over_the_app_limit_is_refused_with_413() {
    let files = Upstream::start("files").await;
    let gw = Gateway::builder()
        .apps(app_toml(
            "files",
            "files.gw.test",
            "/",
            &[files.url()],
            "max_body_size = \"1 KiB\"",
        ))
        .start()
        .await;
    let mut h1 = gw.h1("files.gw.test").await;
    let req = h1
        .request("POST", "/upload")
        .body(http_body_util::Full::new(bytes::Bytes::from(vec![
            1u8;
            4096
        ])))
        .unwrap();
    assert_eq!(h1.send(req).await.status, 413);
    assert_eq!(
        files.count(),
        0,
        "a body announced too large never reaches the upstream"
    );

    // A chunked body without a length is cut off once it passes the limit.
    let chunk = bytes::Bytes::from(vec![b'c'; 1024]);
    let reply = stream_post(gw.https, "files.gw.test", &gw.root(), "/upload", chunk, 8).await;
    assert_eq!(reply.status, 413);
    let mut h1 = gw.h1("files.gw.test").await;
    let req = h1
        .request("POST", "/upload")
        .body(http_body_util::Full::new(bytes::Bytes::from(vec![
            1u8;
            512
        ])))
        .unwrap();
    assert_eq!(
        h1.send(req).await.status,
        200,
        "bodies under the limit pass"
    );
}

#[tokio::test]
async fn upstream_down_is_502_and_slow_upstream_is_504() {
    let closed = format!("http://127.0.0.1:{}", pforte_e2e::free_port());
    let slow = Upstream::start("slow").await;
    let gw = Gateway::builder()
        .apps(
            app_toml("down", "down.gw.test", "/", &[closed], "")
                + &app_toml(
                    "slow",
                    "slow.gw.test",
                    "/",
                    &[slow.url()],
                    "response_timeout = \"500ms\"",
                ),
        )
        .start()
        .await;
    let r = gw.get("down.gw.test", "/").await;
    assert_eq!(r.status, 502);
    assert!(r.text().contains("not reachable"), "{}", r.text());
    let id = r.header("x-request-id").expect("a request id").to_string();
    // The log line says which request and app it is about without anyone passing them on: the
    // request's span carries them.
    let logged = gw
        .log()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|line| line["message"] == "upstream error")
        .unwrap_or_else(|| panic!("no upstream error logged:\n{}", gw.log()));
    assert_eq!(logged["request_id"], id.as_str(), "{logged}");
    assert_eq!(logged["app"], "down", "{logged}");
    assert_eq!(logged["decision"], "allow", "{logged}");
    let r = gw.get("slow.gw.test", "/slow/3000").await;
    assert_eq!(r.status, 504);
    assert_eq!(gw.get("slow.gw.test", "/fast").await.status, 200);
    assert_eq!(
        gw.metric("pforte_upstream_errors_total{app=\"down\",kind=\"connect\"}")
            .await,
        Some(1.0)
    );
    assert_eq!(
        gw.metric("pforte_upstream_errors_total{app=\"slow\",kind=\"timeout\"}")
            .await,
        Some(1.0)
    );
}

#[tokio::test]
async fn failing_upstream_is_skipped_and_the_others_serve() {
    let a = Upstream::start("a").await;
    let b = Upstream::start("b").await;
    let closed = format!("http://127.0.0.1:{}", pforte_e2e::free_port());
    let gw = Gateway::builder()
        .apps(app_toml(
            "mail",
            "mail.gw.test",
            "/",
            &[a.url(), closed, b.url()],
            "[app.passive_health]\nfailures = 1\ncooldown = \"1h\"",
        ))
        .start()
        .await;
    let mut h1 = gw.h1("mail.gw.test").await;
    for _ in 0..30 {
        let r = h1.get("/").await;
        assert_eq!(
            r.status, 200,
            "a request without a body is retried on the next upstream"
        );
    }
    assert_eq!(a.count() + b.count(), 30);
    assert!(
        a.count() >= 10 && b.count() >= 10,
        "balanced: a={} b={}",
        a.count(),
        b.count()
    );
    assert_eq!(
        gw.metric("pforte_upstream_errors_total{app=\"mail\",kind=\"connect\"}")
            .await,
        Some(1.0),
        "the dead upstream is tried once, then skipped during its cool-down"
    );
}

#[tokio::test]
async fn forwarding_headers_are_set_and_spoofing_is_replaced() {
    let app = Upstream::start("app").await;
    let untrusted = Gateway::builder()
        .app("app", "app.gw.test", &[app.url()])
        .start()
        .await;
    let mut h1 = untrusted.h1("app.gw.test").await;
    let req = h1
        .request("GET", "/")
        .header("x-forwarded-for", "6.6.6.6")
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "http")
        .header("forwarded", "for=6.6.6.6")
        .header("x-request-id", "client-id-1")
        .header("connection", "keep-alive, x-hop")
        .header("x-hop", "secret")
        .header("te", "trailers")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let r = h1.send(req).await;
    let headers = &r.json()["headers"];
    assert_eq!(headers["x-forwarded-for"], serde_json::json!(["127.0.0.1"]));
    assert_eq!(
        headers["x-forwarded-host"],
        serde_json::json!(["app.gw.test"])
    );
    assert_eq!(headers["x-forwarded-proto"], serde_json::json!(["https"]));
    assert_eq!(
        headers["forwarded"],
        serde_json::json!(["for=127.0.0.1;host=\"app.gw.test\";proto=https"])
    );
    assert_eq!(headers["x-request-id"], serde_json::json!(["client-id-1"]));
    assert_eq!(r.header("x-request-id"), Some("client-id-1"));
    assert!(
        headers.get("x-hop").is_none() && headers.get("te").is_none(),
        "hop-by-hop headers crossed: {headers}"
    );
    assert!(
        r.header("keep-alive").is_none(),
        "the upstream's hop-by-hop headers crossed back"
    );

    let generated = untrusted.get("app.gw.test", "/").await;
    let id = generated.json()["headers"]["x-request-id"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 32);
    assert_eq!(generated.header("x-request-id"), Some(id.as_str()));

    let trusted = Gateway::builder()
        .trusted_proxies(&["127.0.0.0/8"])
        .app("app", "app.gw.test", &[app.url()])
        .start()
        .await;
    let mut h1 = trusted.h1("app.gw.test").await;
    let req = h1
        .request("GET", "/")
        .header("x-forwarded-for", "203.0.113.9")
        .header("x-forwarded-proto", "https")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let headers = h1.send(req).await.json()["headers"].clone();
    assert_eq!(
        headers["x-forwarded-for"],
        serde_json::json!(["203.0.113.9, 127.0.0.1"])
    );
}

#[tokio::test]
async fn client_identity_headers_and_pforte_cookies_never_reach_the_app() {
    let app = Upstream::start("app").await;
    let apps = app_toml(
        "app",
        "app.gw.test",
        "/",
        &[app.url()],
        "[app.identity_headers]\nuser = \"Remote-User\"",
    );
    let gw = Gateway::builder().apps(apps).start().await;
    let mut h1 = gw.h1("app.gw.test").await;
    let req = h1
        .request("GET", "/")
        .header("x-forwarded-user", "admin")
        .header("x-forwarded-groups", "admins")
        .header("x-forwarded-email", "boss@example.org")
        .header("x-forwarded-name", "The Boss")
        .header("remote-user", "admin")
        .header("cookie", "theme=dark; __Host-pforte=stolen; pforte_sso=x")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let reply = h1.send(req).await;
    assert_eq!(reply.status, 200);
    let headers = &reply.json()["headers"];
    for spoofed in [
        "x-forwarded-user",
        "x-forwarded-groups",
        "x-forwarded-email",
        "x-forwarded-name",
        "remote-user",
    ] {
        assert!(
            headers.get(spoofed).is_none(),
            "{spoofed} crossed: {headers}"
        );
    }
    assert_eq!(headers["cookie"], serde_json::json!(["theme=dark"]));
}
