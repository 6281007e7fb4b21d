//! The pool against a real hyper server on loopback that counts the connections it accepts.

use std::convert::Infallible;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls_pki_types::PrivateKeyDer;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::*;
use crate::config::apps::UpstreamUrl;

/// A loopback upstream answering every request with `body_len` bytes after `delay`.
struct TestUpstream {
    url: UpstreamUrl,
    connections: Arc<AtomicUsize>,
    /// The ALPN protocol of the last TLS connection.
    alpn: Arc<Mutex<Option<Vec<u8>>>>,
}

#[derive(Clone, Copy)]
struct Behaviour {
    body_len: usize,
    delay: Duration,
    keep_alive: bool,
}

const PLAIN: Behaviour = Behaviour {
    body_len: 16,
    delay: Duration::ZERO,
    keep_alive: true,
};

impl TestUpstream {
    async fn start(behaviour: Behaviour) -> Self {
        Self::serve(behaviour, None).await
    }

    /// An HTTPS upstream for `localhost` (which may resolve to `::1` first, where nothing
    /// listens) and the certificate to trust it with. It offers HTTP/2 too.
    async fn start_tls() -> (Self, rustls::RootCertStore) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let mut config =
            rustls::ServerConfig::builder_with_provider(crate::crypto::client_provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(
                    vec![cert.der().clone()],
                    PrivateKeyDer::Pkcs8(key.serialize_der().into()),
                )
                .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let mut upstream = Self::serve(PLAIN, Some(TlsAcceptor::from(Arc::new(config)))).await;
        let port = upstream.url.authority.port_u16().unwrap();
        upstream.url = UpstreamUrl {
            scheme: http::uri::Scheme::HTTPS,
            authority: format!("localhost:{port}").parse().unwrap(),
        };
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.der().clone()).unwrap();
        (upstream, roots)
    }

    async fn serve(behaviour: Behaviour, tls: Option<TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let alpn = Arc::new(Mutex::new(None));
        let (accepted, negotiated) = (connections.clone(), alpn.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                let (tls, negotiated) = (tls.clone(), negotiated.clone());
                tokio::spawn(async move {
                    match tls {
                        None => serve_http1(stream, behaviour).await,
                        Some(tls) => {
                            let Ok(stream) = tls.accept(stream).await else {
                                return;
                            };
                            *negotiated.lock().unwrap() =
                                stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
                            serve_http1(stream, behaviour).await;
                        }
                    }
                });
            }
        });
        Self {
            url: url(port),
            connections,
            alpn,
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn serve_http1<IO>(io: IO, behaviour: Behaviour)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |_req| async move {
        tokio::time::sleep(behaviour.delay).await;
        let body = Bytes::from(vec![b'x'; behaviour.body_len]);
        Ok::<_, Infallible>(Response::new(Full::new(body)))
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(behaviour.keep_alive)
        .serve_connection(TokioIo::new(io), service)
        .await;
}

fn url(port: u16) -> UpstreamUrl {
    UpstreamUrl {
        scheme: http::uri::Scheme::HTTP,
        authority: format!("127.0.0.1:{port}").parse().unwrap(),
    }
}

fn pool(url: &UpstreamUrl, max_idle: usize, idle_timeout: Duration) -> Http1Pool {
    trusting(url, rustls::RootCertStore::empty(), max_idle, idle_timeout)
}

fn trusting(
    url: &UpstreamUrl,
    roots: rustls::RootCertStore,
    max_idle: usize,
    idle_timeout: Duration,
) -> Http1Pool {
    let mut tls = rustls::ClientConfig::builder_with_provider(crate::crypto::client_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = Connector::new(url, Arc::new(tls), Duration::from_secs(2));
    Http1Pool::new(connector, max_idle, idle_timeout)
}

fn get() -> Request<RequestBody> {
    Request::get("/")
        .header(http::header::HOST, "upstream.test")
        .body(RequestBody::Empty)
        .unwrap()
}

/// Sends one request and reads its whole body.
async fn exchange(pool: &Http1Pool) -> usize {
    let response = pool.send(get()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .len()
}

/// Waits (briefly) until the pool holds `n` idle connections.
async fn until_idle(pool: &Http1Pool, n: usize) {
    for _ in 0..200 {
        if pool.idle_count() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(pool.idle_count(), n, "idle connections");
}

#[tokio::test]
async fn requests_one_after_another_share_one_connection() {
    let upstream = TestUpstream::start(PLAIN).await;
    let pool = pool(&upstream.url, 8, Duration::from_secs(60));
    for _ in 0..5 {
        assert_eq!(exchange(&pool).await, 16);
    }
    assert_eq!(upstream.connections(), 1);
    assert_eq!(pool.idle_count(), 1);
}

#[tokio::test]
async fn a_connection_comes_back_when_a_streaming_body_has_passed() {
    let upstream = TestUpstream::start(Behaviour {
        body_len: 4 << 20,
        ..PLAIN
    })
    .await;
    let pool = pool(&upstream.url, 8, Duration::from_secs(60));
    let first = pool.send(get()).await.unwrap();
    assert_eq!(pool.idle_count(), 0, "busy until its body has been read");
    let second = pool.send(get()).await.unwrap();
    assert_eq!(upstream.connections(), 2);
    for response in [first, second] {
        assert_eq!(
            response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .len(),
            4 << 20
        );
    }
    until_idle(&pool, 2).await;
    exchange(&pool).await;
    assert_eq!(upstream.connections(), 2, "both were reused");
}

#[tokio::test]
async fn idle_connections_close_after_the_idle_timeout() {
    let upstream = TestUpstream::start(PLAIN).await;
    let pool = pool(&upstream.url, 8, Duration::from_millis(100));
    exchange(&pool).await;
    assert_eq!(pool.idle_count(), 1);
    until_idle(&pool, 0).await;
    exchange(&pool).await;
    assert_eq!(upstream.connections(), 2);
}

#[tokio::test]
async fn a_connection_the_upstream_closes_is_not_used_again() {
    let upstream = TestUpstream::start(Behaviour {
        keep_alive: false,
        ..PLAIN
    })
    .await;
    let pool = pool(&upstream.url, 8, Duration::from_secs(60));
    for _ in 0..3 {
        assert_eq!(exchange(&pool).await, 16);
    }
    assert_eq!(upstream.connections(), 3);
    until_idle(&pool, 0).await;
}

#[tokio::test]
async fn no_more_than_max_idle_connections_are_kept() {
    let upstream = TestUpstream::start(Behaviour {
        delay: Duration::from_millis(100),
        ..PLAIN
    })
    .await;
    let pool = pool(&upstream.url, 2, Duration::from_secs(60));
    let sizes = futures_util::future::join_all((0..4).map(|_| exchange(&pool))).await;
    assert_eq!(sizes, vec![16; 4]);
    assert_eq!(upstream.connections(), 4);
    assert_eq!(pool.idle_count(), 2);
}

#[tokio::test]
async fn nothing_listening_is_a_connect_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let pool = pool(&url(port), 8, Duration::from_secs(60));
    let err = pool.send(get()).await.unwrap_err();
    assert!(matches!(err, ProxyError::Connect { .. }), "{err:?}");
}

#[tokio::test]
async fn https_upstreams_are_verified_and_spoken_to_in_http1() {
    let (upstream, roots) = TestUpstream::start_tls().await;
    let trusted = trusting(&upstream.url, roots, 8, Duration::from_secs(60));
    for _ in 0..3 {
        assert_eq!(exchange(&trusted).await, 16);
    }
    assert_eq!(upstream.connections(), 1);
    assert_eq!(
        upstream.alpn.lock().unwrap().as_deref(),
        Some(&b"http/1.1"[..]),
        "an upstream that prefers h2 is asked for HTTP/1.1"
    );

    let untrusting = pool(&upstream.url, 8, Duration::from_secs(60));
    let err = untrusting.send(get()).await.unwrap_err();
    assert!(matches!(err, ProxyError::Connect { .. }), "{err:?}");
}
