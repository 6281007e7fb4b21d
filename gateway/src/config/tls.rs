//! `[tls]`: what the HTTPS listeners offer (`profile`), the certificates they serve, each chain
//! with its key and optionally a stapled OCSP response (SNI picks one by the names in the
//! certificate), and the HSTS header every HTTPS answer carries. The files are read by `tls`;
//! here they must exist.
//!
//! ```toml
//! [tls]
//! profile = "bsi"            # or "modern"
//!
//! [tls.hsts]
//! max_age = 31536000         # seconds, the default; include_subdomains, preload: false
//!
//! [[tls.certificates]]
//! cert = "certs/example.org.pem"
//! key = "certs/example.org.key"
//! ocsp = "certs/example.org.ocsp.der"   # optional
//! ```

use std::path::{Path, PathBuf};

use http::HeaderValue;
use http::header::InvalidHeaderValue;
use serde::Deserialize;
use toml::Spanned;

use super::error::Report;
use super::paths::require_file;

/// The `max-age` browsers are asked to remember HTTPS-only for, by default: one year (365 days),
/// what the HSTS preload list requires.
const ONE_YEAR_SECS: u64 = 365 * 24 * 60 * 60;

/// `[tls]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// Which protocol versions, suites and groups are offered.
    #[serde(default)]
    pub profile: TlsProfile,
    /// The Strict-Transport-Security header.
    #[serde(default)]
    pub hsts: HstsSection,
    /// Certificate chains with their keys; SNI picks one by the names in the certificate.
    pub certificates: Spanned<Vec<CertificateEntry>>,
}

/// What the HTTPS listeners offer; the suites and groups of each are listed in `crypto`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsProfile {
    /// Exactly what BSI TR-02102-2 recommends and rustls implements: TLS 1.3 and 1.2, AES-GCM,
    /// ECDHE on secp256r1 and secp384r1. The default, because Pforte is built for public
    /// administrations that must follow the TR.
    #[default]
    Bsi,
    /// The BSI set plus ChaCha20-Poly1305, X25519 and the hybrid post-quantum X25519MLKEM768.
    Modern,
}

/// `[tls.hsts]` as written; a key left out keeps its default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HstsSection {
    /// How long browsers use only HTTPS for the host, in seconds (as the header says it).
    max_age: Spanned<u64>,
    /// Whether the rule covers every subdomain too.
    include_subdomains: bool,
    /// Whether the domain asks to be on the browsers' preload list.
    preload: Spanned<bool>,
}

impl Default for HstsSection {
    fn default() -> Self {
        Self {
            max_age: Spanned::new(0..0, ONE_YEAR_SECS),
            include_subdomains: false,
            preload: Spanned::new(0..0, false),
        }
    }
}

/// The Strict-Transport-Security header the gateway sets on every HTTPS answer (apps may turn it
/// off for themselves: `hsts = false` in their `[[app]]`), made once when the config is read so
/// that an answer only copies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hsts(HeaderValue);

impl Hsts {
    /// The header for `max-age` seconds, with `includeSubDomains` and `preload` as asked, as
    /// RFC 6797 spells it.
    pub fn new(
        max_age_secs: u64,
        include_subdomains: bool,
        preload: bool,
    ) -> Result<Self, InvalidHeaderValue> {
        let mut value = format!("max-age={max_age_secs}");
        if include_subdomains {
            value.push_str("; includeSubDomains");
        }
        if preload {
            value.push_str("; preload");
        }
        HeaderValue::from_str(&value).map(Self)
    }

    /// The header's value, to be copied onto an answer.
    pub fn header(&self) -> &HeaderValue {
        &self.0
    }
}

/// One `[[tls.certificates]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateEntry {
    /// PEM chain, leaf first.
    pub cert: Spanned<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Spanned<PathBuf>,
    /// A DER OCSP response for the leaf, stapled to every handshake that asks for it.
    pub ocsp: Option<Spanned<PathBuf>>,
}

/// One certificate chain and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificatePaths {
    /// PEM chain.
    pub cert: PathBuf,
    /// PEM key.
    pub key: PathBuf,
    /// DER OCSP response to staple, if the operator provides one.
    pub ocsp: Option<PathBuf>,
}

/// `[tls]` validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// What the listeners offer.
    pub profile: TlsProfile,
    /// The certificate files, in the order written.
    pub certificates: Vec<CertificatePaths>,
    /// The HSTS header.
    pub hsts: Hsts,
}

impl TlsSection {
    /// The settings, with the certificate files in the order written, resolved against `base`;
    /// at least one.
    pub fn validate(&self, base: &Path, report: &mut Report) -> TlsSettings {
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
            let ocsp = entry.ocsp.as_ref().map(|ocsp| base.join(ocsp.get_ref()));
            let files = [
                (Some(&cert), Some(&entry.cert), "cert"),
                (Some(&key), Some(&entry.key), "key"),
                (ocsp.as_ref(), entry.ocsp.as_ref(), "ocsp"),
            ];
            for (path, spanned, field) in files {
                if let (Some(path), Some(spanned)) = (path, spanned) {
                    let name = format!("tls.certificates[{i}].{field}");
                    require_file(path, spanned.span(), &name, report);
                }
            }
            certificates.push(CertificatePaths { cert, key, ocsp });
        }
        TlsSettings {
            profile: self.profile,
            certificates,
            hsts: self.hsts.validate(report),
        }
    }
}

impl HstsSection {
    fn validate(&self, report: &mut Report) -> Hsts {
        let max_age_secs = *self.max_age.get_ref();
        let preload = *self.preload.get_ref();
        // What the browsers' preload list accepts (hstspreload.org): asking for it without
        // these would be refused there, after the operator thought it done.
        if preload && !self.include_subdomains {
            report.at(
                self.preload.span(),
                "tls.hsts.preload",
                "preload needs include_subdomains = true",
            );
        }
        if preload && max_age_secs < ONE_YEAR_SECS {
            report.at(
                self.max_age.span(),
                "tls.hsts.max_age",
                "preload needs a max_age of at least 31536000 (one year)",
            );
        }
        Hsts::new(max_age_secs, self.include_subdomains, preload).unwrap_or_else(|e| {
            report.at(self.max_age.span(), "tls.hsts", e.to_string());
            Hsts(HeaderValue::from_static("max-age=31536000"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `[tls]` validated from `text` in a folder holding `c.pem` and `k.pem`, or the problems
    /// placed in the text.
    fn tls(text: &str) -> Result<TlsSettings, String> {
        let dir = tempfile::tempdir().unwrap();
        for name in ["c.pem", "k.pem"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        #[derive(Deserialize)]
        struct File {
            tls: TlsSection,
        }
        let file: File = toml::from_str(text).unwrap();
        let mut report = Report::default();
        let settings = file.tls.validate(dir.path(), &mut report);
        report
            .finish(Path::new("gateway.toml"), text)
            .map(|()| settings)
            .map_err(|e| e.to_string())
    }

    const CERT: &str = "[[tls.certificates]]\ncert = \"c.pem\"\nkey = \"k.pem\"\n";

    #[test]
    fn defaults_are_bsi_and_a_year_of_hsts() {
        let settings = tls(CERT).unwrap();
        assert_eq!(settings.profile, TlsProfile::Bsi);
        assert_eq!(settings.hsts.header(), "max-age=31536000");
        assert_eq!(settings.certificates[0].ocsp, None);
    }

    #[test]
    fn profile_hsts_and_ocsp_are_read_and_checked_with_their_place() {
        let text = format!(
            "[tls]\nprofile = \"modern\"\nhsts.max_age = 600\nhsts.preload = true\n{CERT}ocsp = \"gone.der\"\n"
        );
        let err = tls(&text).unwrap_err();
        assert!(
            err.contains("gateway.toml:4:") && err.contains("tls.hsts.preload"),
            "{err}"
        );
        assert!(
            err.contains("gateway.toml:3:") && err.contains("tls.hsts.max_age"),
            "{err}"
        );
        assert!(
            err.contains("tls.certificates[0].ocsp") && err.contains("gone.der"),
            "{err}"
        );
        let settings = tls(&format!(
            "[tls]\nprofile = \"modern\"\nhsts.max_age = 31536000\nhsts.include_subdomains = true\nhsts.preload = true\n{CERT}"
        ))
        .unwrap();
        assert_eq!(settings.profile, TlsProfile::Modern);
        assert_eq!(
            settings.hsts.header(),
            "max-age=31536000; includeSubDomains; preload"
        );
    }
}
