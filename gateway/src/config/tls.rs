//! `[tls]`: the certificates the HTTPS listeners serve, each chain with its key; SNI picks one by
//! the names in the certificate. The files are read by `server::tls`; here they must exist.
//!
//! ```toml
//! [[tls.certificates]]
//! cert = "certs/example.org.pem"
//! key = "certs/example.org.key"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::error::Report;
use super::paths::require_file;

/// `[tls]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// Certificate chains with their keys; SNI picks one by the names in the certificate.
    pub certificates: Spanned<Vec<CertificateEntry>>,
}

/// One `[[tls.certificates]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateEntry {
    /// PEM chain, leaf first.
    pub cert: Spanned<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Spanned<PathBuf>,
}

/// One certificate chain and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificatePaths {
    /// PEM chain.
    pub cert: PathBuf,
    /// PEM key.
    pub key: PathBuf,
}

impl TlsSection {
    /// The certificate files in the order written, resolved against `base`; at least one.
    pub fn validate(&self, base: &Path, report: &mut Report) -> Vec<CertificatePaths> {
        let entries = self.certificates.get_ref();
        if entries.is_empty() {
            report.at(
                self.certificates.span(),
                "tls.certificates",
                "at least one certificate is needed",
            );
        }
        let mut certificates = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let cert = base.join(entry.cert.get_ref());
            let key = base.join(entry.key.get_ref());
            for (path, spanned, field) in [(&cert, &entry.cert, "cert"), (&key, &entry.key, "key")]
            {
                let name = format!("tls.certificates[{i}].{field}");
                require_file(path, spanned.span(), &name, report);
            }
            certificates.push(CertificatePaths { cert, key });
        }
        certificates
    }
}
