//! The rustls crypto providers of every Pforte process, all aws-lc-rs and all made here, so no
//! other module picks suites or key-exchange groups:
//!
//! - [`client_provider`]: what Pforte speaks as a client (upstreams, back-channel logout, LDAP,
//!   Redis, `pforte-admin`): aws-lc-rs restricted to AEAD suites, with its default groups, so it
//!   reaches whatever the apps and directories run.
//! - [`bsi_provider`]: the server's `[tls] profile = "bsi"`, exactly what BSI TR-02102-2
//!   (Version 2026-01, tables of sections 3.3 and 3.4) recommends and aws-lc-rs implements:
//!   the AES-GCM suites of TLS 1.3 and TLS 1.2 (ECDHE only) and the groups secp256r1 and
//!   secp384r1. secp521r1 is recommended too but aws-lc-rs' rustls provider has no such group;
//!   TLS_AES_128_CCM_SHA256 and the CCM/CBC suites of TLS 1.2 are recommended but not
//!   implemented by rustls; ChaCha20-Poly1305 and X25519 are not in the TR's tables.
//! - [`modern_provider`]: `profile = "modern"`, the BSI set plus ChaCha20-Poly1305 (for clients
//!   without AES hardware), X25519 and the hybrid post-quantum group X25519MLKEM768, preferred
//!   first.
//!
//! The suites' order is the server's order of preference (the server config ignores the
//! client's order, `tls::server_config`): AES-256 before AES-128, AES-GCM before ChaCha20.
//! rustls takes the key-exchange group by the client's order among those both sides have.

use std::sync::Arc;

use rustls::SupportedCipherSuite;
use rustls::crypto::aws_lc_rs::{cipher_suite as suite, default_provider, kx_group};
use rustls::crypto::{CryptoProvider, SupportedKxGroup};

/// Another provider was installed as the process default before [`install`] ran.
#[derive(Debug, thiserror::Error)]
#[error("a TLS crypto provider was already installed")]
pub struct AlreadyInstalled;

/// The AEAD suites both server profiles offer, in the server's order: BSI TR-02102-2's AES-GCM
/// suites of TLS 1.3, then those of TLS 1.2 with ECDHE.
const BSI_SUITES: [SupportedCipherSuite; 6] = [
    suite::TLS13_AES_256_GCM_SHA384,
    suite::TLS13_AES_128_GCM_SHA256,
    suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
];

/// What `modern` adds to [`BSI_SUITES`]: ChaCha20-Poly1305, after AES-GCM.
const CHACHA_SUITES: [SupportedCipherSuite; 3] = [
    suite::TLS13_CHACHA20_POLY1305_SHA256,
    suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
];

/// The provider Pforte's clients use: aws-lc-rs with its AEAD suites only. Its default suites
/// are all AEAD today; filtering states the rule so a future default cannot weaken it.
pub fn client_provider() -> Arc<CryptoProvider> {
    let mut provider = default_provider();
    provider
        .cipher_suites
        .retain(|suite| BSI_SUITES.contains(suite) || CHACHA_SUITES.contains(suite));
    Arc::new(provider)
}

/// The server's provider under `profile = "bsi"`: only what BSI TR-02102-2 recommends (see the
/// module doc), for administrations that must show conformance.
pub fn bsi_provider() -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        cipher_suites: BSI_SUITES.to_vec(),
        kx_groups: vec![kx_group::SECP256R1, kx_group::SECP384R1],
        ..default_provider()
    })
}

/// The server's provider under `profile = "modern"`: the BSI set plus ChaCha20-Poly1305, X25519
/// and the hybrid post-quantum X25519MLKEM768 (first, so clients that offer it get it), for
/// deployments that want fast handshakes on phones and protection against later decryption by a
/// quantum computer more than a strict TR-02102-2 list.
pub fn modern_provider() -> Arc<CryptoProvider> {
    let groups: [&'static dyn SupportedKxGroup; 4] = [
        kx_group::X25519MLKEM768,
        kx_group::X25519,
        kx_group::SECP256R1,
        kx_group::SECP384R1,
    ];
    let mut suites = BSI_SUITES.to_vec();
    suites.extend(CHACHA_SUITES);
    Arc::new(CryptoProvider {
        cipher_suites: suites,
        kx_groups: groups.to_vec(),
        ..default_provider()
    })
}

/// Installs [`client_provider`] as the process default, for the clients that take the default
/// rather than a provider of their own (Redis, ...). A binary calls it once, before anything
/// builds a TLS config.
pub fn install() -> Result<(), AlreadyInstalled> {
    CryptoProvider::install_default((*client_provider()).clone()).map_err(|_| AlreadyInstalled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suites(provider: &CryptoProvider) -> Vec<String> {
        provider
            .cipher_suites
            .iter()
            .map(|s| format!("{:?}", s.suite()))
            .collect()
    }

    fn groups(provider: &CryptoProvider) -> Vec<String> {
        provider
            .kx_groups
            .iter()
            .map(|g| format!("{:?}", g.name()))
            .collect()
    }

    #[test]
    fn clients_offer_only_aead_suites() {
        let names = suites(&client_provider());
        assert!(!names.is_empty());
        for name in names {
            assert!(
                name.contains("GCM") || name.contains("CHACHA20_POLY1305"),
                "{name}"
            );
        }
    }

    #[test]
    fn bsi_is_aes_gcm_on_nist_curves_only() {
        let provider = bsi_provider();
        assert_eq!(
            suites(&provider),
            [
                "TLS13_AES_256_GCM_SHA384",
                "TLS13_AES_128_GCM_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            ]
        );
        assert_eq!(groups(&provider), ["secp256r1", "secp384r1"]);
    }

    #[test]
    fn modern_adds_chacha_x25519_and_the_hybrid_group() {
        let provider = modern_provider();
        let names = suites(&provider);
        assert_eq!(names[..6], suites(&bsi_provider())[..]);
        assert_eq!(
            names[6..],
            [
                "TLS13_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            ]
        );
        assert_eq!(
            groups(&provider),
            ["X25519MLKEM768", "X25519", "secp256r1", "secp384r1"]
        );
    }
}
