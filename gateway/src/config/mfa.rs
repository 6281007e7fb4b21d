//! `[mfa]`: second factors. The key seals every factor kept in the directory (TOTP secrets,
//! passkeys, recovery-code hashes), so a directory dump yields nothing that works and a
//! directory writer cannot plant a factor; it lives in a secret file beside the gateway's
//! other secrets, never in the directory. Without the section nobody can enrol or use a second
//! factor, and apps whose rules say `login = "mfa"` stay closed.
//!
//! ```toml
//! [mfa]
//! key = { file = "/etc/pforte/secrets/mfa.key" }   # 32 bytes: 64 hex digits or base64
//! previous_keys = [{ file = "/etc/pforte/secrets/mfa-2025.key" }]   # still open, never seal
//! must_enrol = ["admins"]   # these groups are led through enrolment after their next login
//! passwordless = true       # a passkey with user verification is a whole MFA login
//! ```
//!
//! `pforte-admin mfa generate-key` writes a new key.

use std::path::Path;
use std::sync::Arc;

use pforte_factors::seal::Sealer;
use serde::Deserialize;
use toml::Spanned;

use super::error::Report;
use super::secret::SecretSource;

/// `[mfa]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaSection {
    /// The sealing key.
    pub key: Spanned<SecretSource>,
    /// Keys that sealed factors before the current one: they still open, never seal.
    #[serde(default)]
    pub previous_keys: Vec<Spanned<SecretSource>>,
    /// Groups whose members must have a second factor: after their login they are led
    /// through enrolment before anything else.
    #[serde(default)]
    pub must_enrol: Vec<String>,
    /// Whether a passkey with user verification logs a person in on its own, as MFA.
    #[serde(default = "default_passwordless")]
    pub passwordless: bool,
}

fn default_passwordless() -> bool {
    true
}

/// Second factors as the gateway uses them.
#[derive(Debug, Clone)]
pub struct Mfa {
    /// Seals and opens the factors kept in the directory.
    pub sealer: Arc<Sealer>,
    /// Groups that must enrol.
    pub must_enrol: Vec<String>,
    /// Whether passwordless passkey logins are offered.
    pub passwordless: bool,
}

impl Mfa {
    /// Whether a person in `groups` must have a second factor.
    pub fn must_enrol(&self, groups: &[String]) -> bool {
        groups.iter().any(|g| self.must_enrol.contains(g))
    }
}

impl MfaSection {
    /// Reads the keys (relative files against `base`); `None` after any problem.
    pub fn validate(&self, base: &Path, report: &mut Report) -> Option<Mfa> {
        let read = |source: &Spanned<SecretSource>, key: &str, report: &mut Report| match source
            .get_ref()
            .read(base)
        {
            Ok(secret) => Some(secret),
            Err(e) => {
                report.at(source.span(), key, e.to_string());
                None
            }
        };
        let current = read(&self.key, "mfa.key", report)?;
        let sealer = match Sealer::new(current.expose()) {
            Ok(sealer) => sealer,
            Err(e) => {
                report.at(self.key.span(), "mfa.key", e.to_string());
                return None;
            }
        };
        let mut previous = Vec::new();
        for source in &self.previous_keys {
            previous.push((source.span(), read(source, "mfa.previous_keys", report)?));
        }
        let mut sealer = sealer;
        for (span, secret) in previous {
            sealer = match sealer.with_previous([secret.expose()]) {
                Ok(sealer) => sealer,
                Err(e) => {
                    report.at(span, "mfa.previous_keys", e.to_string());
                    return None;
                }
            };
        }
        Some(Mfa {
            sealer: Arc::new(sealer),
            must_enrol: self.must_enrol.clone(),
            passwordless: self.passwordless,
        })
    }
}
