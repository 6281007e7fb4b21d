//! The limits against floods and slow clients (`[limits]`): connections per client address,
//! idle connections shed when the connection limit is full, rate limits per address at the
//! login form, the second-factor form, the token and introspection endpoints (with a trusted
//! proxy's `X-Forwarded-For` honoured and anyone else's ignored), and heads and bodies trickling
//! in cut off. The connection and slow-client tests drive the real binary from several loopback
//! source addresses; the rate limits run in-process on a manual clock, moved to refill a bucket.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use pforte_e2e::client::tls_config;
use pforte_e2e::gateway::Gateway;
use pforte_e2e::in_process::{Answer, InProcess};
use pforte_e2e::pki::TestCa;
use pforte_e2e::upstream::Upstream;
use pforte_session::Timestamp;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

const APP: &str = "app.gw.test";
const LOGIN: &str = "login.gw.test";

/// A TLS connection to `gateway` from the loopback address `source` (127.0.0.0/8 is all local).
async fn connect_from(
    source: [u8; 4],
    gateway: SocketAddr,
    root: &CertificateDer<'static>,
) -> std::io::Result<TlsStream<TcpStream>> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::from(source), 0))?;
    let tcp = socket.connect(gateway).await?;
    let name = ServerName::try_from(APP.to_string()).unwrap();
    TlsConnector::from(tls_config(root, &[b"http/1.1"]))
        .connect(name, tcp)
        .await
}

/// `GET /` on `tls` with `Connection: close`: the status, or `None` when the connection ends
/// without an answer.
async fn get(mut tls: TlsStream<TcpStream>) -> Option<u16> {
    let head = format!("GET / HTTP/1.1\r\nHost: {APP}\r\nConnection: close\r\n\r\n");
    tls.write_all(head.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    text.split(' ').nth(1)?.parse().ok()
}

/// Whether the server still holds `tls` open: a read neither ends nor fails at once.
async fn still_open(tls: &mut TlsStream<TcpStream>) -> bool {
    let mut byte = [0u8; 1];
    tokio::time::timeout(Duration::from_millis(50), tls.read(&mut byte))
        .await
        .is_err()
}

async fn gateway(upstream: &Upstream, limits: &str) -> Gateway {
    Gateway::builder()
        .app("app", APP, &[upstream.url()])
        .limits(limits)
        .start()
        .await
}

#[tokio::test]
async fn one_address_gets_its_connections_and_no_more_while_others_are_served() {
    let upstream = Upstream::start("a").await;
    let gw = gateway(&upstream, "max_connections_per_address = 3\n").await;
    let root = gw.root();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(
            connect_from([127, 0, 0, 11], gw.https, &root)
                .await
                .unwrap(),
        );
    }
    // The fourth from the same address is closed at accept: its handshake fails.
    let fourth = connect_from([127, 0, 0, 11], gw.https, &root).await;
    let refused = match fourth {
        Err(_) => true,
        Ok(tls) => get(tls).await.is_none(),
    };
    assert!(refused, "a fourth connection from one address was served");
    assert_eq!(
        gw.metric("pforte_connections_refused_total").await,
        Some(1.0)
    );
    // Another address is served while the first holds its three.
    let other = connect_from([127, 0, 0, 12], gw.https, &root)
        .await
        .unwrap();
    assert_eq!(get(other).await, Some(200));
    for tls in &mut held {
        assert!(still_open(tls).await);
    }
    // A place given back is a place to use again.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let again = connect_from([127, 0, 0, 11], gw.https, &root)
        .await
        .unwrap();
    assert_eq!(get(again).await, Some(200));
}

#[tokio::test]
async fn idle_connections_are_shed_so_a_new_visitor_is_answered() {
    let upstream = Upstream::start("a").await;
    // Four places, filled by connections that send nothing; the idle timeout (60 s) and the
    // head deadline (60 s) would keep them far longer than this test waits.
    let gw = gateway(
        &upstream,
        "max_connections = 4\nfirst_request_grace = \"200ms\"\nidle_timeout = \"60s\"\n\
         header_read_timeout = \"60s\"\n",
    )
    .await;
    let root = gw.root();
    let mut idle = Vec::new();
    for i in 0..4 {
        idle.push(
            connect_from([127, 0, 1, i + 1], gw.https, &root)
                .await
                .unwrap(),
        );
    }
    let visitor = tokio::time::timeout(Duration::from_secs(5), async {
        let tls = connect_from([127, 0, 2, 1], gw.https, &root).await.unwrap();
        get(tls).await
    })
    .await;
    assert_eq!(
        visitor.ok().flatten(),
        Some(200),
        "the new visitor waited behind idle connections"
    );
    let shed = gw.metric("pforte_connections_shed_total").await.unwrap();
    assert!(shed >= 1.0, "{shed}");
    let mut open = 0;
    for tls in &mut idle {
        open += usize::from(still_open(tls).await);
    }
    // Only the room needed was made: most of the idle connections are still there.
    assert!(open >= 2, "{open} of 4 idle connections left open");
}

#[tokio::test]
async fn a_head_trickling_in_is_cut_off_at_the_head_deadline() {
    let upstream = Upstream::start("a").await;
    let gw = gateway(&upstream, "header_read_timeout = \"1s\"\n").await;
    let tls = connect_from([127, 0, 3, 1], gw.https, &gw.root())
        .await
        .unwrap();
    let (mut read, mut write) = tokio::io::split(tls);
    // One byte every 100 ms: the whole head would take 20 s.
    let head = format!(
        "GET / HTTP/1.1\r\nHost: {APP}\r\nX-Slow: {}\r\n\r\n",
        "a".repeat(150)
    );
    let trickle = tokio::spawn(async move {
        for byte in head.bytes() {
            if write.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answer = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(5), read.read_to_end(&mut answer)).await;
    trickle.abort();
    assert!(ended.is_ok(), "the connection was still open after 5 s");
    let text = String::from_utf8_lossy(&answer);
    assert!(
        !text.contains(" 200 "),
        "the trickled request was served: {text}"
    );
}

/// Sends a head announcing a 10,000-byte body to `path` on `host`, then the body one byte every
/// 200 ms (50 s in all): what came back within 6 s, `None` if the connection stayed open.
async fn trickle_body(gw: &Gateway, host: &str, path: &str) -> Option<String> {
    let tls = connect_from([127, 0, 4, 1], gw.https, &gw.root())
        .await
        .unwrap();
    let (mut read, mut write) = tokio::io::split(tls);
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 10000\r\nOrigin: https://{host}\r\nConnection: close\r\n\r\n"
    );
    write.write_all(head.as_bytes()).await.unwrap();
    let trickle = tokio::spawn(async move {
        for _ in 0..250 {
            if write.write_all(b"a").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut answer = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(6), read.read_to_end(&mut answer)).await;
    trickle.abort();
    ended
        .ok()
        .map(|_| String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn bodies_trickling_in_are_cut_off_at_the_minimum_rate() {
    let upstream = Upstream::start("a").await;
    let gw = Gateway::builder()
        .app("app", APP, &[upstream.url()])
        .limits("body_min_rate = 100\nbody_rate_window = \"1s\"\n")
        .start()
        .await;
    for (host, path) in [(LOGIN, "/login"), (APP, "/upload")] {
        let answer = trickle_body(&gw, host, path).await;
        let answer = answer.unwrap_or_else(|| panic!("{host}{path}: still reading after 6 s"));
        assert!(
            answer.starts_with("HTTP/1.1 4"),
            "{host}{path}: {}",
            answer.lines().next().unwrap_or_default()
        );
    }
    assert_eq!(gw.metric("pforte_slow_bodies_total").await, Some(2.0));
    // A body at a normal pace still goes through.
    let reply = pforte_e2e::client::stream_post(
        gw.https,
        APP,
        &gw.root(),
        "/upload",
        Bytes::from(vec![b'x'; 64 * 1024]),
        4,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

/// A gateway in this process with small rates, the OIDC provider on, trusting `proxies`.
async fn rated(proxies: &[&str]) -> InProcess {
    Gateway::builder()
        .app("docs", "docs.gw.test", &["http://127.0.0.1:3".to_owned()])
        .trusted_proxies(proxies)
        .demo_people()
        .oidc(
            "[[client]]\nid = \"rp\"\napp = \"docs\"\npublic = true\n\
             redirect_uris = [\"https://rp.gw.test/cb\"]\nscopes = [\"openid\"]\n",
        )
        .limits(
            "[limits.rate.login]\nper_minute = 6\nburst = 2\n\
             [limits.rate.second_factor]\nper_minute = 6\nburst = 2\n\
             [limits.rate.token]\nper_minute = 6\nburst = 2\n\
             [limits.rate.introspect]\nper_minute = 6\nburst = 2\n",
        )
        .assemble(TestCa::new(), Timestamp::from_unix_secs(1_800_000_000))
        .await
}

/// A `POST` to `path` on the login host (its form need not be valid: the rate comes first),
/// with `X-Forwarded-For: forwarded` if given.
async fn post(gw: &InProcess, path: &str, forwarded: Option<&str>) -> Answer {
    let mut req = http::Request::post(format!("https://{LOGIN}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", format!("https://{LOGIN}"));
    if let Some(forwarded) = forwarded {
        req = req.header("x-forwarded-for", forwarded);
    }
    let body = Full::new(Bytes::from_static(b"a=b"))
        .map_err(|never| match never {})
        .boxed();
    gw.send(req.body(body).unwrap()).await
}

#[tokio::test]
async fn each_limited_endpoint_answers_429_with_retry_after_after_its_burst() {
    let gw = rated(&[]).await;
    for path in ["/login", "/mfa", "/oidc/token", "/oidc/introspect"] {
        for _ in 0..2 {
            let answer = post(&gw, path, None).await;
            assert_ne!(answer.status, 429, "{path} refused within its burst");
        }
        let refused = post(&gw, path, None).await;
        assert_eq!(refused.status, 429, "{path}: {}", refused.body);
        assert_eq!(refused.headers["retry-after"], "10", "{path}");
        if path.starts_with("/oidc/") {
            assert_eq!(refused.json()["error"], "temporarily_unavailable", "{path}");
        } else {
            assert!(
                refused.body.contains("Too many attempts"),
                "{path}: {}",
                refused.body
            );
        }
    }
    // Ten seconds refill one request of each bucket (6 a minute).
    gw.advance(Duration::from_secs(10));
    for path in ["/login", "/oidc/token"] {
        assert_ne!(
            post(&gw, path, None).await.status,
            429,
            "{path} after the refill"
        );
        assert_eq!(
            post(&gw, path, None).await.status,
            429,
            "{path}: one refilled, not two"
        );
    }
    let metrics = String::from_utf8(gw.shared.metrics.render()).unwrap();
    for endpoint in ["login", "second_factor", "token", "introspect"] {
        let series = format!("pforte_rate_limited_total{{endpoint=\"{endpoint}\"}}");
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with(&series) && !l.ends_with(" 0")),
            "{series} not counted"
        );
    }
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client_and_anyone_else_cannot() {
    // The in-process peer (192.0.2.10) is a trusted proxy: each client it names has a bucket.
    let trusting = rated(&["192.0.2.0/24"]).await;
    for _ in 0..2 {
        post(&trusting, "/login", Some("203.0.113.1")).await;
    }
    assert_eq!(
        post(&trusting, "/login", Some("203.0.113.1")).await.status,
        429
    );
    assert_ne!(
        post(&trusting, "/login", Some("203.0.113.2")).await.status,
        429
    );
    // Not trusted: a new X-Forwarded-For on every request does not buy a new bucket.
    let wary = rated(&[]).await;
    let refused = {
        let mut last = 0;
        for i in 1..=3 {
            last = post(&wary, "/login", Some(&format!("203.0.113.{i}")))
                .await
                .status;
        }
        last
    };
    assert_eq!(refused, 429);
}
