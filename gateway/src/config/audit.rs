//! `[audit]`: how the audit log (`log.audit_file`) is chained, signed and made durable.
//!
//! ```toml
//! [audit]
//! replica = "gw-1"                    # the chain's name; default: the host name
//! key_dir = "/var/lib/pforte/audit-keys"   # checkpoint signing key; default: audit-keys beside the file
//! checkpoint_interval = "1m"          # a signed checkpoint this often, and at shutdown
//! durability = "interval"             # or "every_event": fsync before the request goes on
//! sync_interval = "1s"                # how often "interval" syncs the file to disk
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::error::Report;

/// The longest replica name: it is in every line.
const MAX_REPLICA_LEN: usize = 64;

/// `[audit]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSection {
    /// The chain's name.
    pub replica: Option<String>,
    /// The checkpoint key's folder.
    pub key_dir: Option<PathBuf>,
    /// How often a checkpoint is signed.
    #[serde(with = "humantime_serde")]
    pub checkpoint_interval: Option<Duration>,
    /// When an event is on disk.
    pub durability: Durability,
    /// How often `interval` durability syncs.
    #[serde(with = "humantime_serde")]
    pub sync_interval: Option<Duration>,
}

/// When an event is on disk.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// Each event is written to the file at once (a crash of the process loses nothing) and the
    /// file is synced every `sync_interval` (a crash of the machine loses at most that much).
    #[default]
    Interval,
    /// Each event is synced before the request that caused it goes on: nothing is lost, at the
    /// cost of a disk flush per event.
    EveryEvent,
}

/// The chained audit log's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    /// The log file (`log.audit_file`); without it, events go to standard error unchained.
    pub file: Option<PathBuf>,
    /// The chain's name, in every line.
    pub replica: String,
    /// The checkpoint key's folder.
    pub key_dir: PathBuf,
    /// How often a checkpoint is signed.
    pub checkpoint_interval: Duration,
    /// When an event is on disk.
    pub durability: Durability,
    /// How often `Interval` durability syncs.
    pub sync_interval: Duration,
}

impl Audit {
    /// The settings of a gateway (or `pforte-admin`) writing to `file` as `replica`, with the
    /// defaults for the rest.
    pub fn new(file: Option<PathBuf>, replica: String, key_dir: PathBuf) -> Audit {
        Audit {
            file,
            replica,
            key_dir,
            checkpoint_interval: Duration::from_secs(60),
            durability: Durability::Interval,
            sync_interval: Duration::from_secs(1),
        }
    }
}

impl AuditSection {
    /// The settings; `audit_file` is `log.audit_file`, already resolved.
    pub fn validate(&self, base: &Path, audit_file: Option<&Path>, report: &mut Report) -> Audit {
        let replica = match &self.replica {
            Some(name) => {
                if let Err(why) = check_replica(name) {
                    report.unplaced("audit.replica", why);
                }
                name.clone()
            }
            None => host_name(),
        };
        let key_dir = match &self.key_dir {
            Some(dir) => base.join(dir),
            None => audit_file
                .and_then(Path::parent)
                .unwrap_or(base)
                .join("audit-keys"),
        };
        let checkpoint_interval = self.checkpoint_interval.unwrap_or(Duration::from_secs(60));
        if !(Duration::from_secs(1)..=Duration::from_secs(86_400)).contains(&checkpoint_interval) {
            report.unplaced(
                "audit.checkpoint_interval",
                "must be between 1s and 1d: events after the last checkpoint kept elsewhere can be cut off unseen",
            );
        }
        let sync_interval = self.sync_interval.unwrap_or(Duration::from_secs(1));
        if !(Duration::from_millis(10)..=Duration::from_secs(60)).contains(&sync_interval) {
            report.unplaced("audit.sync_interval", "must be between 10ms and 60s");
        }
        Audit {
            file: audit_file.map(Path::to_path_buf),
            replica,
            key_dir,
            checkpoint_interval,
            durability: self.durability,
            sync_interval,
        }
    }
}

fn check_replica(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_REPLICA_LEN {
        return Err(format!("must have 1 to {MAX_REPLICA_LEN} characters"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._-@".contains(*c)))
    {
        return Err(format!(
            "{c:?} is not allowed: letters, digits, '.', '_', '-' and '@' only (it names files)"
        ));
    }
    Ok(())
}

/// The host's name (a pod's name in Kubernetes), which tells replicas apart without configuring
/// each; `pforte` when the system does not say.
pub fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|name| {
            name.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
                .take(MAX_REPLICA_LEN)
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "pforte".to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn replica_names_must_be_usable_in_file_names() {
        assert!(check_replica("gw-1.example@eu").is_ok());
        assert!(check_replica("../etc").unwrap_err().contains("'/'"));
        assert!(check_replica("").is_err());
        assert!(!host_name().is_empty());
    }
}
