//! `[tls] profile`: what a client can and cannot negotiate with the real gateway under each
//! profile, asked by rustls clients that offer one suite or one group at a time.

use std::sync::Arc;

use pforte_e2e::client::connect_tls;
use pforte_e2e::gateway::Gateway;
use rustls::crypto::aws_lc_rs::{cipher_suite as suite, default_provider, kx_group};
use rustls::crypto::{CryptoProvider, SupportedKxGroup};
use rustls::{SupportedCipherSuite, version};

/// A client offering exactly `suites` and `groups`, trusting `gw`'s CA.
fn client(
    gw: &Gateway,
    suites: &[SupportedCipherSuite],
    groups: &[&'static dyn SupportedKxGroup],
) -> Arc<rustls::ClientConfig> {
    let provider = CryptoProvider {
        cipher_suites: suites.to_vec(),
        kx_groups: groups.to_vec(),
        ..default_provider()
    };
    let mut roots = rustls::RootCertStore::empty();
    roots.add(gw.root()).unwrap();
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[&version::TLS13, &version::TLS12])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// The suite and group negotiated, or `None` when the handshake fails.
async fn negotiate(gw: &Gateway, config: Arc<rustls::ClientConfig>) -> Option<(String, String)> {
    let stream = connect_tls(gw.https, "x.gw.test", config).await.ok()?;
    let conn = stream.get_ref().1;
    Some((
        format!("{:?}", conn.negotiated_cipher_suite()?.suite()),
        format!("{:?}", conn.negotiated_key_exchange_group()?.name()),
    ))
}

const AES: [SupportedCipherSuite; 2] = [
    suite::TLS13_AES_128_GCM_SHA256,
    suite::TLS13_AES_256_GCM_SHA384,
];
const AES12: [SupportedCipherSuite; 2] = [
    suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
];
const CHACHA: [SupportedCipherSuite; 2] = [
    suite::TLS13_CHACHA20_POLY1305_SHA256,
    suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
];

#[tokio::test]
async fn bsi_offers_aes_gcm_on_nist_curves_in_the_servers_order_only() {
    let gw = Gateway::builder().start().await;
    // The client prefers AES-128; the server's order (AES-256 first) wins, in 1.3 and 1.2.
    assert_eq!(
        negotiate(&gw, client(&gw, &AES, &[kx_group::SECP384R1])).await,
        Some(("TLS13_AES_256_GCM_SHA384".into(), "secp384r1".into()))
    );
    assert_eq!(
        negotiate(&gw, client(&gw, &AES12, &[kx_group::SECP256R1])).await,
        Some((
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384".into(),
            "secp256r1".into()
        ))
    );
    // Nothing outside TR-02102-2's tables.
    assert_eq!(
        negotiate(&gw, client(&gw, &CHACHA, &[kx_group::SECP256R1])).await,
        None
    );
    for group in [kx_group::X25519, kx_group::X25519MLKEM768] {
        assert_eq!(negotiate(&gw, client(&gw, &AES, &[group])).await, None);
    }
}

#[tokio::test]
async fn modern_adds_chacha20_x25519_and_the_hybrid_post_quantum_group() {
    let gw = Gateway::builder().tls("profile = \"modern\"").start().await;
    assert_eq!(
        negotiate(&gw, client(&gw, &CHACHA, &[kx_group::X25519])).await,
        Some(("TLS13_CHACHA20_POLY1305_SHA256".into(), "X25519".into()))
    );
    assert_eq!(
        negotiate(&gw, client(&gw, &AES, &[kx_group::X25519MLKEM768])).await,
        Some(("TLS13_AES_256_GCM_SHA384".into(), "X25519MLKEM768".into()))
    );
}
