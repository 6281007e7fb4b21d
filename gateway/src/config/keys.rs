//! `[keys]`: the signing keys' directory, shared by every replica. The keys sign identity
//! assertions for apps and the OpenID Connect provider's tokens; `pforte-admin keys` makes and rotates
//! them.
//!
//! ```toml
//! [keys]
//! dir = "keys"
//! retire_after = "7d"
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::error::Report;

/// `[keys]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysSection {
    /// The key directory every replica shares, relative to this file's folder.
    pub dir: Spanned<PathBuf>,
    /// How long a retired key stays published for verification.
    #[serde(default, with = "humantime_serde")]
    pub retire_after: Option<Duration>,
}

/// The shared key directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    /// The directory.
    pub dir: PathBuf,
    /// How long a retired key stays in the JWKS.
    pub retire_after: Duration,
}

impl KeysSection {
    /// The key directory, resolved against `base`; it must exist, and the message says how to
    /// make it.
    pub fn validate(&self, base: &Path, report: &mut Report) -> Option<Keys> {
        let dir = base.join(self.dir.get_ref());
        if !dir.is_dir() {
            report.at(
                self.dir.span(),
                "keys.dir",
                format!(
                    "folder {} not found; make it with `pforte-admin keys generate --dir {}`",
                    dir.display(),
                    dir.display()
                ),
            );
            return None;
        }
        Some(Keys {
            dir,
            retire_after: self
                .retire_after
                .unwrap_or(pforte_keys::DEFAULT_RETIRE_AFTER),
        })
    }
}
