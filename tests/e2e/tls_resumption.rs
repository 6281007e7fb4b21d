//! Session resumption holds up under many clients: a client that comes back after more than
//! rustls' default 256 other sessions still resumes, in TLS 1.3 and in TLS 1.2 (stateless
//! tickets and a larger session cache; with rustls' defaults both tests fail).

use std::sync::Arc;

use futures_util::StreamExt;
use pforte_e2e::client::connect_tls;
use pforte_e2e::gateway::Gateway;
use rustls::crypto::aws_lc_rs::kx_group;
use rustls::{HandshakeKind, SupportedProtocolVersion, version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Other clients between the first visit and the return: more than rustls' default cache.
const OTHERS: usize = 400;

/// A client with a session cache of its own, speaking only `version`, with a key share the
/// `bsi` profile takes at once (no HelloRetryRequest to tell apart from a resumption).
fn client(gw: &Gateway, version: &'static SupportedProtocolVersion) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(gw.root()).unwrap();
    let provider = rustls::crypto::CryptoProvider {
        kx_groups: vec![kx_group::SECP256R1],
        ..rustls::crypto::aws_lc_rs::default_provider()
    };
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// One visit: handshake, a request answered to the end (so TLS 1.3 tickets are read), and how
/// the handshake went.
async fn visit(gw: &Gateway, config: Arc<rustls::ClientConfig>) -> HandshakeKind {
    let mut stream = connect_tls(gw.https, "login.gw.test", config)
        .await
        .unwrap();
    let kind = stream.get_ref().1.handshake_kind().unwrap();
    stream
        .write_all(b"GET /login HTTP/1.1\r\nHost: login.gw.test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        &answer[..answer.len().min(40)]
    );
    kind
}

async fn resumes_after_many_others(version: &'static SupportedProtocolVersion) {
    let gw = Gateway::builder().start().await;
    let returning = client(&gw, version);
    assert_eq!(visit(&gw, returning.clone()).await, HandshakeKind::Full);
    let others: Vec<HandshakeKind> = futures_util::stream::iter(0..OTHERS)
        .map(|_| visit(&gw, client(&gw, version)))
        .buffer_unordered(8)
        .collect()
        .await;
    assert!(others.iter().all(|kind| *kind == HandshakeKind::Full));
    assert_eq!(
        visit(&gw, returning).await,
        HandshakeKind::Resumed,
        "{version:?}: the session was forgotten after {OTHERS} others"
    );
}

#[tokio::test]
async fn tls13_resumes_after_more_sessions_than_the_default_cache_holds() {
    resumes_after_many_others(&version::TLS13).await;
}

#[tokio::test]
async fn tls12_resumes_after_more_sessions_than_the_default_cache_holds() {
    resumes_after_many_others(&version::TLS12).await;
}
