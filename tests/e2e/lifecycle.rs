//! Connections over their life: limits, slow and idle clients, shutdown, the redirect listener,
//! and what operators read (metrics, access log).

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use pforte_e2e::client::{H1, H2, connect_tls, plain, tls_config};
use pforte_e2e::eventually;
use pforte_e2e::gateway::Gateway;
use pforte_e2e::upstream::Upstream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Reads until the peer closes; true when that happened within `within`.
async fn closed_within<S: tokio::io::AsyncRead + Unpin>(stream: &mut S, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) | Err(_) => {}
        }
    }
    false
}

#[tokio::test]
async fn slow_clients_are_cut_off_while_others_are_served() {
    let app = Upstream::start("app").await;
    let gw = Gateway::builder()
        .limits("header_read_timeout = \"1s\"")
        .app("app", "app.gw.test", &[app.url()])
        .start()
        .await;

    // Never starts the TLS handshake.
    let mut silent = tokio::net::TcpStream::connect(gw.https).await.unwrap();
    // Finishes TLS, then trickles a request head.
    let mut trickle = connect_tls(
        gw.https,
        "app.gw.test",
        tls_config(&gw.root(), &[b"http/1.1"]),
    )
    .await
    .unwrap();
    let head = b"GET / HTTP/1.1\r\nHost: app.gw.test\r\nX-Slow: ";
    let trickling = tokio::spawn(async move {
        for byte in head.iter().cycle() {
            if trickle.write_all(&[*byte]).await.is_err() || trickle.flush().await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            if closed_within(&mut trickle, Duration::from_millis(1)).await {
                return true;
            }
        }
        false
    });
    assert_eq!(
        gw.get("app.gw.test", "/").await.status,
        200,
        "others are served meanwhile"
    );
    assert!(
        closed_within(&mut silent, Duration::from_secs(5)).await,
        "a client that never handshakes is cut off"
    );
    let cut = tokio::time::timeout(Duration::from_secs(8), trickling).await;
    assert!(
        matches!(cut, Ok(Ok(true))),
        "a client trickling its request head is cut off"
    );
}

#[tokio::test]
async fn oversized_request_head_gets_431() {
    let app = Upstream::start("app").await;
    let gw = Gateway::builder()
        .limits("max_header_bytes = 16384")
        .app("app", "app.gw.test", &[app.url()])
        .start()
        .await;
    let mut h1 = gw.h1("app.gw.test").await;
    let req = h1
        .request("GET", "/")
        .header("x-big", "b".repeat(32 * 1024))
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(h1.send(req).await.status, 431);
    assert_eq!(app.count(), 0);
    let mut h1 = gw.h1("app.gw.test").await;
    let req = h1
        .request("GET", "/")
        .header("x-fine", "f".repeat(4 * 1024))
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(h1.send(req).await.status, 200);
}

/// Idle connections make room for new ones (tests/e2e/limits.rs); only when every connection
/// has a request in flight does a new one wait, until one is free.
#[tokio::test]
async fn connections_over_the_limit_wait_while_every_one_is_busy() {
    let app = Upstream::start("app").await;
    let gw = Gateway::builder()
        .limits("max_connections = 3\nheader_read_timeout = \"30s\"")
        .app("app", "app.gw.test", &[app.url()])
        .start()
        .await;
    let mut busy = Vec::new();
    for _ in 0..3 {
        let mut h1 = gw.h1("app.gw.test").await;
        busy.push(tokio::spawn(
            async move { h1.get("/slow/2500").await.status },
        ));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (https, root) = (gw.https, gw.root());
    let mut fourth = tokio::spawn(async move {
        H1::connect(https, "app.gw.test", &root)
            .await
            .get("/")
            .await
            .status
    });
    assert!(
        tokio::time::timeout(Duration::from_secs(1), &mut fourth)
            .await
            .is_err(),
        "a fourth connection must wait while three requests are in flight"
    );
    for request in busy {
        assert_eq!(request.await.unwrap(), 200);
    }
    let status = tokio::time::timeout(Duration::from_secs(10), fourth).await;
    assert!(
        matches!(status, Ok(Ok(200))),
        "the waiting connection is served once one is free: {status:?}"
    );
}

#[tokio::test]
async fn sigterm_drains_requests_in_flight_and_exits_cleanly() {
    let app = Upstream::start("app").await;
    let mut gw = Gateway::builder()
        .app("app", "app.gw.test", &[app.url()])
        .start()
        .await;
    let mut h1 = gw.h1("app.gw.test").await;
    let slow = tokio::spawn(async move { h1.get("/slow/2000").await.status });
    tokio::time::sleep(Duration::from_millis(300)).await;
    gw.signal("TERM");
    let (https, root) = (gw.https, gw.root());
    let refused = eventually(Duration::from_secs(3), async || {
        connect_tls(https, "app.gw.test", tls_config(&root, &[b"http/1.1"]))
            .await
            .is_err()
    })
    .await;
    assert!(refused, "no new connections after SIGTERM");
    assert_eq!(slow.await.unwrap(), 200, "the request in flight finished");
    let status = gw
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("pforte did not exit after draining");
    assert!(status.success(), "exit status {status}");
    assert!(
        gw.log().contains("shutting down") && gw.log().contains("stopped"),
        "{}",
        gw.log()
    );
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let app = Upstream::start("app").await;
    let gw = Gateway::builder()
        .limits("idle_timeout = \"1s\"")
        .app("app", "app.gw.test", &[app.url()])
        .start()
        .await;
    let mut h2 = H2::connect(gw.https, "app.gw.test", &gw.root()).await;
    assert_eq!(h2.get("/").await.status, 200);
    assert!(
        eventually(Duration::from_secs(6), async || h2.sender.is_closed()).await,
        "an idle HTTP/2 connection is closed after idle_timeout"
    );
}

#[tokio::test]
async fn http_listener_redirects_known_hosts_only() {
    let app = Upstream::start("app").await;
    let gw = Gateway::builder()
        .http_redirect()
        .app("mail", "mail.gw.test", &[app.url()])
        .start()
        .await;
    let http = gw.http.unwrap();
    let r = plain(
        http,
        "GET",
        "/inbox?folder=work",
        &[("host", "mail.gw.test")],
    )
    .await;
    assert_eq!(r.status, 308);
    assert_eq!(
        r.header("location"),
        Some("https://mail.gw.test/inbox?folder=work")
    );
    let r = plain(http, "POST", "/", &[("host", "login.gw.test:80")]).await;
    assert_eq!(r.header("location"), Some("https://login.gw.test/"));
    let r = plain(http, "GET", "/", &[("host", "evil.example")]).await;
    assert_eq!(
        r.status, 404,
        "no redirect to hosts the gateway does not serve"
    );
    assert!(r.header("location").is_none());
}

#[tokio::test]
async fn metrics_pass_promtool_and_name_what_operators_need() {
    let app = Upstream::start("app").await;
    let gw = Gateway::builder()
        .app("app", "app.gw.test", &[app.url()])
        .start()
        .await;
    assert_eq!(gw.get("app.gw.test", "/").await.status, 200);
    assert_eq!(gw.get("nowhere.gw.test", "/").await.status, 404);
    let text = gw.metrics().await;
    for name in [
        "pforte_http_requests_total{app=\"app\",method=\"read\",status=\"2xx\"} 1",
        "pforte_http_request_duration_seconds_bucket",
        "pforte_upstream_errors_total",
        "pforte_open_connections{listener=\"https\"}",
        "pforte_tls_handshakes_total{result=\"success\"}",
        "pforte_config_reloads_total{result=\"success\"} 1",
        "pforte_build_info{version=",
    ] {
        assert!(text.contains(name), "missing {name} in:\n{text}");
    }
    let promtool = std::path::Path::new("/usr/bin/promtool");
    if !promtool.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "promtool is required under CI (Debian package prometheus)"
        );
        eprintln!("promtool not installed; run ./tests/run to install it");
        return;
    }
    pforte_e2e::monitored::promtool_check_metrics(&text);
}

#[tokio::test]
async fn access_log_has_the_facts_and_no_secrets() {
    let app = Upstream::start("app").await;
    let gw = Gateway::builder()
        .app("app", "app.gw.test", &[app.url()])
        .start()
        .await;
    let mut h1 = gw.h1("app.gw.test").await;
    let req = h1
        .request("GET", "/callback?code=SECRETCODE&state=x")
        .header("cookie", "session=SECRETCOOKIE")
        .header("authorization", "Bearer SECRETTOKEN")
        .header("x-request-id", "trace-me-42")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(h1.send(req).await.status, 200);
    assert!(
        gw.wait_for_log("trace-me-42", Duration::from_secs(5)).await,
        "{}",
        gw.log()
    );
    let log = gw.log();
    let line = log.lines().find(|l| l.contains("trace-me-42")).unwrap();
    let entry: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(entry["target"], "pforte::access");
    assert_eq!(entry["app"], "app");
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["path"], "/callback");
    assert!(
        entry["duration_ms"].as_f64().is_some() && entry["bytes"].as_u64().unwrap() > 0,
        "{line}"
    );
    for secret in ["SECRETCODE", "SECRETCOOKIE", "SECRETTOKEN"] {
        assert!(
            !log.contains(secret),
            "{secret} leaked into the log:\n{log}"
        );
    }
}
