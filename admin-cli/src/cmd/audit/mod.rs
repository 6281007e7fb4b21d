//! `audit verify|show` over the hash-chained audit log (format: `pforte_audit`, docs/audit.md).
//!
//! ```text
//! verify FILE.. [--checkpoints F].. [--keys DIR] ─▶ pforte_audit::verify ─▶ summary | first break
//!                                                                            exit 0 | 1 (2: unreadable)
//! show [FILE..] --person --app --kind --since --until ─▶ filter ─▶ one line each | the lines (--json)
//! ```
//!
//! Both only read: neither writes to the log they look at. Without `--keys` (verify) or FILEs
//! (show) the config says where: `[audit] key_dir`, `log.audit_file`.

mod filter;
mod show;
mod verify;

use std::path::PathBuf;

use super::Ctx;
use crate::error::{CmdError, Exit};
use crate::opt::AuditCommand;

pub use filter::TimeError;

/// Why an audit command could not do its work: all bad input (exit 2), never a finding about
/// the log (a break found is exit 1, from the report).
#[derive(Debug, thiserror::Error)]
pub enum AuditCmdError {
    /// `show` without FILEs, and the config names no audit file.
    #[error("{0} has no log.audit_file; name the audit log files")]
    NoAuditFile(String),
    /// `--since` or `--until` is not a time.
    #[error(transparent)]
    Time(#[from] TimeError),
    /// An audit log file cannot be read.
    #[error("cannot read the audit log {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The audit key folder is not there.
    #[error(
        "{} is not a folder: name the folder of the audit public keys (<kid>.pub) with --keys",
        .0.display()
    )]
    NoKeyDir(PathBuf),
    /// The audit key folder holds no public key: no checkpoint could be believed.
    #[error(
        "{} holds no audit public keys (<kid>.pub): name the folder of the audit keys with --keys",
        .0.display()
    )]
    NoKeys(PathBuf),
    /// A log, checkpoint or key file cannot be read (nothing was checked: not a finding about
    /// the log).
    #[error("{0}")]
    Audit(#[from] pforte_audit::AuditError),
}

impl AuditCmdError {
    /// Every reason is input the admin gave or the config names.
    pub fn exit(&self) -> Exit {
        Exit::BAD_INPUT
    }
}

/// Runs one audit command.
pub fn run(ctx: &Ctx, command: AuditCommand) -> Result<Exit, CmdError> {
    match command {
        AuditCommand::Verify {
            files,
            checkpoints,
            keys,
            json,
        } => {
            let from_config = keys.is_none();
            let dir = match keys {
                Some(dir) => dir,
                None => ctx.config()?.audit.key_dir.clone(),
            };
            let keys = verify::Keys {
                dir: &dir,
                from_config,
            };
            verify::run(&files, &checkpoints, &keys, json.json)
        }
        AuditCommand::Show {
            files,
            person,
            app,
            kind,
            since,
            until,
            json,
        } => {
            let now = filter::from_unix(ctx.now().unix_secs());
            let time = |text: Option<String>| {
                text.map(|t| filter::parse_time(&t, now))
                    .transpose()
                    .map_err(AuditCmdError::from)
            };
            let filter = filter::Filter {
                person: person.into_iter().collect(),
                app,
                kind: kind.as_deref().map(filter::KindPattern::parse),
                since: time(since)?,
                until: time(until)?,
            };
            let files = if files.is_empty() {
                let config = ctx.config()?;
                let file = config.log.audit_file.clone().ok_or_else(|| {
                    AuditCmdError::NoAuditFile(config.source.display().to_string())
                })?;
                vec![file]
            } else {
                files
            };
            show::run(&files, filter, json.json)
        }
    }
}
