//! `[apps]` and `[policy]`: the other files `gateway.toml` points to. Their own loaders read
//! them (at start and on every reload); here they only have to exist. Every file named in
//! `gateway.toml` is relative to its folder and checked the same way, with [`require_file`].
//!
//! ```toml
//! [apps]
//! file = "apps.toml"
//! [policy]
//! file = "policy.toml"
//! ```

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::error::Report;

/// `[apps]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppsSection {
    /// The apps file, relative to this file's folder.
    pub file: Spanned<PathBuf>,
}

/// `[policy]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySection {
    /// The policy's entry file, relative to this file's folder; it may include others.
    pub file: Spanned<PathBuf>,
}

impl AppsSection {
    /// The apps file, resolved against `base`.
    pub fn validate(&self, base: &Path, report: &mut Report) -> PathBuf {
        let path = base.join(self.file.get_ref());
        require_file(&path, self.file.span(), "apps.file", report);
        path
    }
}

impl PolicySection {
    /// The policy's entry file, resolved against `base`.
    pub fn validate(&self, base: &Path, report: &mut Report) -> PathBuf {
        let path = base.join(self.file.get_ref());
        require_file(&path, self.file.span(), "policy.file", report);
        path
    }
}

/// Whether `path` is a file; if not, says so under `key` at `span`.
pub fn require_file(path: &Path, span: Range<usize>, key: &str, report: &mut Report) -> bool {
    let found = path.is_file();
    if !found {
        report.at(span, key, format!("file {} not found", path.display()));
    }
    found
}
