//! The one rustls crypto provider of every Pforte process: aws-lc-rs, restricted to AEAD cipher
//! suites. The TLS listener (`tls`), the upstream pool (`proxy`), the back-channel logout
//! client and the binaries' process-wide default all take it from here, so `pforte` and
//! `pforte-admin` speak TLS with the same suites and neither reaches into the server to get them.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// Another provider was installed as the process default before [`install`] ran.
#[derive(Debug, thiserror::Error)]
#[error("a TLS crypto provider was already installed")]
pub struct AlreadyInstalled;

/// The provider: aws-lc-rs with its AEAD suites only. Its default suites are all AEAD today;
/// filtering states the rule so a future default cannot weaken it.
pub fn provider() -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.cipher_suites.retain(|suite| {
        use rustls::CipherSuite::*;
        matches!(
            suite.suite(),
            TLS13_AES_128_GCM_SHA256
                | TLS13_AES_256_GCM_SHA384
                | TLS13_CHACHA20_POLY1305_SHA256
                | TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
                | TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
                | TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
                | TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
                | TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
                | TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
        )
    });
    Arc::new(provider)
}

/// Installs [`provider`] as the process default, for the clients that take the default rather
/// than a provider of their own (Redis, ...). A binary calls it once, before anything builds a TLS
/// config.
pub fn install() -> Result<(), AlreadyInstalled> {
    CryptoProvider::install_default((*provider()).clone()).map_err(|_| AlreadyInstalled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_aead_suites_are_offered() {
        let provider = provider();
        assert!(!provider.cipher_suites.is_empty());
        for suite in &provider.cipher_suites {
            let name = format!("{:?}", suite.suite());
            assert!(
                name.contains("GCM") || name.contains("CHACHA20_POLY1305"),
                "{name}"
            );
        }
    }
}
