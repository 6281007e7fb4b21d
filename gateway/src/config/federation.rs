//! `[federation]`: partners log in with their own administration's OpenID provider. The
//! providers are listed in their own file, reloaded like the clients file.
//!
//! ```toml
//! [federation]
//! providers = "idps.toml"        # see docs/federation.md
//! ca_file = "partner-ca.pem"     # optional: extra CA trusted for the providers' HTTPS
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::error::Report;
use super::paths::require_file;

/// `[federation]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationSection {
    /// The upstream providers, relative to this file's folder; reloaded like the policy.
    pub providers: Spanned<PathBuf>,
    /// Extra CA certificates (PEM) trusted for calls to the providers, besides the system's
    /// roots: for a partner's provider with a certificate of an internal CA.
    pub ca_file: Option<Spanned<PathBuf>>,
}

/// Where the upstream providers are listed and which CA their certificates may come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Federation {
    /// The providers file.
    pub providers_file: PathBuf,
    /// Extra CA certificates for calls to the providers.
    pub ca_file: Option<PathBuf>,
}

impl FederationSection {
    /// The files, resolved against `base`; `None` after any problem.
    pub fn validate(&self, base: &Path, report: &mut Report) -> Option<Federation> {
        let providers_file = base.join(self.providers.get_ref());
        let mut ok = require_file(
            &providers_file,
            self.providers.span(),
            "federation.providers",
            report,
        );
        let ca_file = self.ca_file.as_ref().map(|ca| {
            let path = base.join(ca.get_ref());
            ok &= require_file(&path, ca.span(), "federation.ca_file", report);
            path
        });
        ok.then_some(Federation {
            providers_file,
            ca_file,
        })
    }
}
