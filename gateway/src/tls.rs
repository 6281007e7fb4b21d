//! TLS termination: the rustls server config (TLS 1.2 and 1.3 only, the AEAD suites of
//! [`crate::crypto`], ALPN `h2` and `http/1.1`) and an SNI resolver over a certificate store that
//! a reload swaps atomically. Handshakes in progress keep the store they started with; established
//! connections are never touched by a reload.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::CertificatePaths;

/// Why certificates could not be loaded.
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

/// Certificates by the names they are valid for.
#[derive(Debug)]
pub struct CertStore {
    exact: HashMap<String, Arc<CertifiedKey>>,
    /// `*.example.org` stored under `example.org`.
    wildcard: HashMap<String, Arc<CertifiedKey>>,
    /// Served when the client sends no SNI or a name no certificate covers.
    default: Arc<CertifiedKey>,
}

impl CertStore {
    /// Loads every chain and key; fails on the first broken pair, so a bad file never replaces a
    /// good store.
    pub fn load(paths: &[CertificatePaths], provider: &CryptoProvider) -> Result<Self, TlsError> {
        let mut exact = HashMap::new();
        let mut wildcard = HashMap::new();
        let mut default = None;
        for pair in paths {
            let (key, names) = load_pair(&pair.cert, &pair.key, provider)?;
            let key = Arc::new(key);
            for name in names {
                let name = name.to_ascii_lowercase();
                let target = match name.strip_prefix("*.") {
                    Some(parent) => wildcard.entry(parent.to_string()),
                    None => exact.entry(name),
                };
                // The first certificate listed for a name wins, as written in the config.
                target.or_insert_with(|| key.clone());
            }
            default.get_or_insert(key);
        }
        Ok(Self {
            exact,
            wildcard,
            default: default.ok_or(TlsError::Empty)?,
        })
    }

    /// The certificate for a server name: exact match, then a wildcard one level up, then the
    /// default.
    pub fn select(&self, server_name: Option<&str>) -> Arc<CertifiedKey> {
        let Some(name) = server_name else {
            return self.default.clone();
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(key) = self.exact.get(&name) {
            return key.clone();
        }
        if let Some((_, parent)) = name.split_once('.')
            && let Some(key) = self.wildcard.get(parent)
        {
            return key.clone();
        }
        self.default.clone()
    }
}

fn load_pair(
    cert_path: &Path,
    key_path: &Path,
    provider: &CryptoProvider,
) -> Result<(CertifiedKey, Vec<String>), TlsError> {
    let chain_err = |reason: String| TlsError::Chain {
        path: cert_path.to_path_buf(),
        reason,
    };
    let chain = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| chain_err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| chain_err(e.to_string()))?;
    let leaf = chain
        .first()
        .ok_or_else(|| chain_err("no CERTIFICATE block found".into()))?;
    let names = dns_names(leaf).map_err(chain_err)?;
    if names.is_empty() {
        return Err(TlsError::NoNames {
            path: cert_path.to_path_buf(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|source| TlsError::Key {
        path: key_path.to_path_buf(),
        source,
    })?;
    let certified =
        CertifiedKey::from_der(chain, key, provider).map_err(|source| TlsError::Pair {
            cert: cert_path.to_path_buf(),
            key: key_path.to_path_buf(),
            source,
        })?;
    Ok((certified, names))
}

/// The DNS names of a certificate's subjectAltName extension.
fn dns_names(der: &CertificateDer<'_>) -> Result<Vec<String>, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).map_err(|e| e.to_string())?;
    let san = cert.subject_alternative_name().map_err(|e| e.to_string())?;
    Ok(san
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    x509_parser::extensions::GeneralName::DNSName(dns) => Some(dns.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default())
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

/// The server configuration every HTTPS listener uses.
pub fn server_config(
    resolver: Arc<CertResolver>,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::provider;

    fn write_cert(dir: &Path, stem: &str, names: &[&str]) -> CertificatePaths {
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        let cert = params.self_signed(&key).unwrap();
        let paths = CertificatePaths {
            cert: dir.join(format!("{stem}.crt")),
            key: dir.join(format!("{stem}.key")),
        };
        std::fs::write(&paths.cert, cert.pem()).unwrap();
        std::fs::write(&paths.key, key.serialize_pem()).unwrap();
        paths
    }

    #[test]
    fn selects_exact_then_wildcard_then_default() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_cert(dir.path(), "a", &["a.example.org"]);
        let w = write_cert(dir.path(), "w", &["*.apps.example.org"]);
        let store = CertStore::load(&[a, w], &provider()).unwrap();
        let a_key = store.select(Some("a.example.org"));
        let w_key = store.select(Some("Mail.Apps.Example.org"));
        assert!(!Arc::ptr_eq(&a_key, &w_key));
        assert!(Arc::ptr_eq(&store.select(None), &a_key));
        assert!(Arc::ptr_eq(
            &store.select(Some("x.y.apps.example.org")),
            &a_key
        ));
    }

    #[test]
    fn mismatched_key_and_garbage_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_cert(dir.path(), "a", &["a.example.org"]);
        let b = write_cert(dir.path(), "b", &["b.example.org"]);
        let crossed = CertificatePaths {
            cert: a.cert.clone(),
            key: b.key.clone(),
        };
        let err = CertStore::load(&[crossed], &provider()).unwrap_err();
        assert!(matches!(err, TlsError::Pair { .. }), "{err}");
        std::fs::write(&a.cert, "not pem").unwrap();
        assert!(matches!(
            CertStore::load(&[a], &provider()),
            Err(TlsError::Chain { .. })
        ));
    }
}
