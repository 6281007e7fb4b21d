//! TLS termination: the rustls server config of every HTTPS listener and the certificates it
//! serves.
//!
//! ```text
//! [tls] profile ─▶ crypto::{bsi,modern}_provider ─▶ server_config (TLS 1.3 + 1.2, server order,
//!                                                   ALPN h2/http1.1, resumption)
//! [[tls.certificates]] ─▶ store::CertStore::load ─▶ key_strength (BSI TR-02102-2 minimum)
//!                                                 ─▶ ocsp (response to staple)
//!                                                 ─▶ signing (RSA-PSS, never PKCS#1 v1.5)
//!                        ─▶ CertResolver (SNI; a reload swaps the store atomically)
//! ```
//!
//! The default profile follows BSI TR-02102-2 "Kryptographische Verfahren: Verwendung von
//! Transport Layer Security (TLS)", Version 2026-01: TLS 1.3 and TLS 1.2, AES-GCM suites only,
//! ECDHE on secp256r1 and secp384r1, the server's order of preference, and certificate keys of
//! at least 3000 bits (RSA) or 250 bits (elliptic curves), the minimum TR-02102-1 sets for use
//! beyond 2023. Handshakes in progress keep the store they started with; established
//! connections are never touched by a reload.

mod key_strength;
mod ocsp;
mod resumption;
pub mod roots;
mod signing;
mod store;

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem;

use crate::config::TlsProfile;
use crate::crypto;
pub use key_strength::WeakKey;
pub use ocsp::OcspError;
pub use store::CertStore;

/// Why certificates could not be loaded or TLS not configured.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The PEM file could not be read or holds no certificate.
    #[error("{path}: cannot read certificate chain: {reason}")]
    Chain {
        /// The chain file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The key file could not be read or is not a supported private key.
    #[error("{path}: cannot read private key: {source}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// What the PEM reader said.
        source: pem::Error,
    },
    /// The key does not belong to the certificate, or is of an unsupported type.
    #[error("{cert} with {key}: {source}")]
    Pair {
        /// The chain file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls said.
        source: rustls::Error,
    },
    /// The certificate's key is weaker than BSI TR-02102-2 allows.
    #[error("{path}: {source}")]
    Weak {
        /// The chain file.
        path: PathBuf,
        /// What is too weak.
        source: WeakKey,
    },
    /// The OCSP response to staple is unreadable or not one for this certificate.
    #[error("{path}: {source}")]
    Ocsp {
        /// The OCSP response file.
        path: PathBuf,
        /// What is wrong with it.
        source: OcspError,
    },
    /// The certificate names no DNS host, so SNI could never select it.
    #[error("{path}: the certificate has no DNS names in subjectAltName")]
    NoNames {
        /// The chain file.
        path: PathBuf,
    },
    /// No certificate configured.
    #[error("no certificates configured")]
    Empty,
    /// The TLS configuration could not be built.
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// Picks a certificate by SNI from the current store.
#[derive(Debug)]
pub struct CertResolver {
    store: ArcSwap<CertStore>,
}

impl CertResolver {
    /// A resolver serving `store`.
    pub fn new(store: CertStore) -> Self {
        Self {
            store: ArcSwap::from_pointee(store),
        }
    }

    /// Serves `store` to every handshake from now on.
    pub fn replace(&self, store: CertStore) {
        self.store.store(Arc::new(store));
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.store.load().select(client_hello.server_name()))
    }
}

/// The provider the HTTPS listeners use under `profile`.
fn server_provider(profile: TlsProfile) -> Arc<CryptoProvider> {
    match profile {
        TlsProfile::Bsi => crypto::bsi_provider(),
        TlsProfile::Modern => crypto::modern_provider(),
    }
}

/// The server configuration every HTTPS listener uses: the profile's suites and groups in the
/// server's order (TR-02102-2 asks the server to choose), TLS 1.3 and 1.2, ALPN `h2` and
/// `http/1.1`, and session resumption that holds up under many clients
/// ([`resumption::enable`]).
pub fn server_config(
    resolver: Arc<CertResolver>,
    profile: TlsProfile,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let mut config = rustls::ServerConfig::builder_with_provider(server_provider(profile))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config.ignore_client_order = true;
    resumption::enable(&mut config)?;
    Ok(Arc::new(config))
}
