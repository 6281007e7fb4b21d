//! `audit verify`: the verdict of `pforte_audit::verify` over the files given, for people (a
//! summary per replica chain, the notices, and the first break as one sentence with file:line)
//! or for scripts (`--json`: the whole report). Exit 1 when anything is broken, so a cron job or
//! a CI step can alert on it; exit 2 when nothing could be checked (an unreadable file or key
//! folder), which is not a finding about the log.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use pforte_audit::keys::TrustedKeys;
use pforte_audit::verify::{Input, NoticeKind, Report, verify};

use super::AuditCmdError;
use crate::error::{CmdError, Exit};

/// Verifies `logs` (with the checkpoint lines of `checkpoints`) against the public keys in
/// `key_dir`, prints the verdict, and says by the exit code whether the log is intact.
pub fn run(
    logs: &[PathBuf],
    checkpoints: &[PathBuf],
    key_dir: &Path,
    json: bool,
) -> Result<Exit, CmdError> {
    let keys = TrustedKeys::load_dir(key_dir).map_err(|source| AuditCmdError::Keys {
        dir: key_dir.to_path_buf(),
        source,
    })?;
    let report = verify(&Input {
        logs,
        checkpoints,
        keys: &keys,
    })
    .map_err(AuditCmdError::from)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(if report.is_intact() {
        Exit::OK
    } else {
        Exit::NO
    })
}

/// The verdict as text: one line per replica chain, the checkpoints verified, the notices, then
/// either "intact" or the first break as a sentence that says where, what and why.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for chain in &report.chains {
        let _ = writeln!(
            out,
            "replica {}: {} events, seq {} to {}, {} checkpoints",
            chain.replica, chain.events, chain.first_seq, chain.last_seq, chain.checkpoints
        );
    }
    if report.chains.is_empty() {
        out.push_str("no audit events in these files\n");
    }
    let _ = writeln!(
        out,
        "{} signed checkpoints verified",
        report.checkpoints_verified
    );
    for notice in &report.notices {
        let _ = writeln!(
            out,
            "notice: {}: {}: {}",
            notice.place,
            notice_kind(notice.kind),
            notice.detail
        );
    }
    match report.first_break() {
        None => out.push_str(
            "intact: no event edited, deleted, inserted or reordered, and every checkpoint's \
             signature holds (events after a chain's last checkpoint are protected by the chain \
             alone: pass a later checkpoint kept off the host with --checkpoints)\n",
        ),
        Some(first) => {
            let whose = match (&first.replica, first.seq) {
                (Some(replica), Some(seq)) => format!(" (replica {replica}, seq {seq})"),
                (Some(replica), None) => format!(" (replica {replica})"),
                (None, Some(seq)) => format!(" (seq {seq})"),
                (None, None) => String::new(),
            };
            let _ = writeln!(
                out,
                "BROKEN: {}: {}{whose}: {}",
                first.place,
                first.kind.as_str(),
                first.detail
            );
            let more = report.breaks.len().saturating_sub(1);
            if more > 0 {
                let _ = writeln!(
                    out,
                    "{more} more breaks after it (often consequences of the first; --json lists \
                     them all)"
                );
            }
        }
    }
    out
}

/// A notice's kind in words.
fn notice_kind(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::DamagedTail => "damaged tail (recorded by the gateway when it started)",
        NoticeKind::Resumed => "chain resumed",
        NoticeKind::StartsLate => "chain starts after seq 1 (earlier files not given)",
    }
}
