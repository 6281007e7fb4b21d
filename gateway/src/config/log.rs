//! `[log]`: the log lines' format and filter, and where audit events go.
//!
//! ```toml
//! [log]
//! format = "json"
//! level = "info,pforte=debug"
//! audit_file = "/var/log/pforte/audit.jsonl"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::Report;

/// `[log]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSection {
    /// `text` for people, `json` for log shippers.
    pub format: LogFormat,
    /// A tracing filter: `info`, `debug`, `pforte=debug,hyper=info`.
    pub level: Option<String>,
    /// The audit log's own file (JSON lines), relative to this file's folder.
    pub audit_file: Option<PathBuf>,
}

/// The log line format.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Logging settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// Line format.
    pub format: LogFormat,
    /// Filter directive.
    pub level: String,
    /// Where audit events go; standard error with the rest when `None`.
    pub audit_file: Option<PathBuf>,
}

impl LogSection {
    /// The settings, with the filter (default `info`) parsed now so a typo fails the load, not
    /// the start.
    pub fn validate(&self, base: &Path, report: &mut Report) -> Log {
        let level = self.level.clone().unwrap_or_else(|| "info".to_string());
        if let Err(e) = tracing_subscriber::EnvFilter::builder().parse(&level) {
            report.unplaced("log.level", e.to_string());
        }
        Log {
            format: self.format,
            level,
            audit_file: self.audit_file.as_ref().map(|f| base.join(f)),
        }
    }
}
