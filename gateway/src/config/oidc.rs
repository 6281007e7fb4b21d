//! `[oidc]`: the OpenID Connect provider on the login host. Without the section the login host
//! serves no OIDC endpoints; with it, `[keys]` must be there to sign the tokens.
//!
//! ```toml
//! [oidc]
//! clients = "clients.toml"
//! pairwise_salt = { file = "/etc/pforte/secrets/pairwise-salt" }
//! backchannel_ca_file = "internal-ca.pem"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::error::Report;
use super::paths::require_file;
use super::secret::{Secret, SecretSource};

/// `[oidc]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSection {
    /// The registered clients, relative to this file's folder; reloaded like the policy.
    pub clients: Spanned<PathBuf>,
    /// The salt that makes pairwise `sub` values; needed once a client asks for them, and kept
    /// secret so apps cannot reverse the mapping.
    pub pairwise_salt: Option<Spanned<SecretSource>>,
    /// Extra CA certificates (PEM) trusted for back-channel logout calls to clients, besides the
    /// system's roots: for apps with certificates of an internal CA.
    pub backchannel_ca_file: Option<Spanned<PathBuf>>,
}

/// The OpenID Connect provider's files and secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oidc {
    /// The clients file.
    pub clients_file: PathBuf,
    /// The pairwise-subject salt, if configured.
    pub pairwise_salt: Option<Secret>,
    /// Extra CA certificates for back-channel logout calls.
    pub backchannel_ca_file: Option<PathBuf>,
}

impl OidcSection {
    /// The provider's files (resolved against `base`) and salt; `keys_configured` says whether
    /// the file has a `[keys]` section to sign tokens with. `None` after any problem.
    pub fn validate(
        &self,
        base: &Path,
        keys_configured: bool,
        report: &mut Report,
    ) -> Option<Oidc> {
        let clients_file = base.join(self.clients.get_ref());
        let mut ok = require_file(&clients_file, self.clients.span(), "oidc.clients", report);
        if !keys_configured {
            report.at(
                self.clients.span(),
                "oidc",
                "the OpenID Connect provider signs tokens: add [keys] with a key directory",
            );
            ok = false;
        }
        let pairwise_salt = match &self.pairwise_salt {
            None => None,
            Some(source) => match source.get_ref().read(base) {
                Ok(secret) => Some(secret),
                Err(e) => {
                    report.at(source.span(), "oidc.pairwise_salt", e.to_string());
                    ok = false;
                    None
                }
            },
        };
        let backchannel_ca_file = self.backchannel_ca_file.as_ref().and_then(|ca| {
            let path = base.join(ca.get_ref());
            if require_file(&path, ca.span(), "oidc.backchannel_ca_file", report) {
                Some(path)
            } else {
                ok = false;
                None
            }
        });
        ok.then_some(Oidc {
            clients_file,
            pairwise_salt,
            backchannel_ca_file,
        })
    }
}
