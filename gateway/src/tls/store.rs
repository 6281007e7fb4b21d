//! The certificates by the names they serve: each chain with its key, checked against BSI
//! TR-02102-2's key sizes, and its OCSP response when the operator provides one. A store is
//! loaded whole or not at all, so a reload with a broken file keeps the last good one.

use std::collections::HashMap;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::{TlsError, key_strength, ocsp, signing};
use crate::config::CertificatePaths;

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
            let (key, names) = load_pair(pair, provider)?;
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

/// One chain, its key and its OCSP response, checked; with the DNS names of the leaf.
fn load_pair(
    paths: &CertificatePaths,
    provider: &CryptoProvider,
) -> Result<(CertifiedKey, Vec<String>), TlsError> {
    let cert_path = &paths.cert;
    let chain_err = |reason: String| TlsError::Chain {
        path: cert_path.clone(),
        reason,
    };
    let chain = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| chain_err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| chain_err(e.to_string()))?;
    let leaf = chain
        .first()
        .ok_or_else(|| chain_err("no CERTIFICATE block found".into()))?;
    let (_, parsed) =
        x509_parser::parse_x509_certificate(leaf.as_ref()).map_err(|e| chain_err(e.to_string()))?;
    let names = dns_names(&parsed).map_err(chain_err)?;
    if names.is_empty() {
        return Err(TlsError::NoNames {
            path: cert_path.clone(),
        });
    }
    key_strength::check(parsed.public_key()).map_err(|source| TlsError::Weak {
        path: cert_path.clone(),
        source,
    })?;
    let staple = match &paths.ocsp {
        Some(path) => {
            let ocsp_err = |source| TlsError::Ocsp {
                path: path.clone(),
                source,
            };
            let der =
                std::fs::read(path).map_err(|e| ocsp_err(ocsp::OcspError::Read(e.to_string())))?;
            ocsp::check(&der, parsed.raw_serial()).map_err(ocsp_err)?;
            Some(der)
        }
        None => None,
    };
    let key = PrivateKeyDer::from_pem_file(&paths.key).map_err(|source| TlsError::Key {
        path: paths.key.clone(),
        source,
    })?;
    let mut certified =
        CertifiedKey::from_der(chain, key, provider).map_err(|source| TlsError::Pair {
            cert: cert_path.clone(),
            key: paths.key.clone(),
            source,
        })?;
    certified.ocsp = staple;
    certified.key = Arc::new(signing::PssOnly(certified.key.clone()));
    Ok((certified, names))
}

/// The DNS names of a certificate's subjectAltName extension.
fn dns_names(cert: &x509_parser::certificate::X509Certificate<'_>) -> Result<Vec<String>, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::client_provider as provider;
    use std::path::Path;

    fn write_cert(dir: &Path, stem: &str, names: &[&str]) -> CertificatePaths {
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        let cert = params.self_signed(&key).unwrap();
        let paths = CertificatePaths {
            cert: dir.join(format!("{stem}.crt")),
            key: dir.join(format!("{stem}.key")),
            ocsp: None,
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
            ocsp: None,
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
