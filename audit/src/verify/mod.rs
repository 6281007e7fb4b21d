//! Verifying audit logs: every line's hash, every chain's order and links, every checkpoint's
//! signature and head. The logs may be several replicas' files and rotated files, in any order;
//! checkpoint files are copies kept elsewhere (a syslog receiver's file works as it is).
//!
//! ```text
//! files ──scan──▶ chains by replica ──chain::walk──▶ events in order, gaps, insertions
//!                 checkpoints ─────────checkpoints::check──▶ forged, rewritten, truncated
//! ```

mod chain;
mod checkpoints;
mod report;
mod scan;

use std::path::PathBuf;

pub use report::{Break, BreakKind, ChainSummary, Notice, NoticeKind, Place, Report};

use crate::error::AuditError;
use crate::keys::TrustedKeys;
use scan::{Role, Scan};

/// The most breaks a report lists: one change can show at many places, and the first is what an
/// investigation starts from.
const MAX_BREAKS: usize = 1000;

/// What to verify.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Audit logs: one or more replicas' files, rotated ones too, in any order.
    pub logs: &'a [PathBuf],
    /// Files holding checkpoints kept elsewhere.
    pub checkpoints: &'a [PathBuf],
    /// The public keys checkpoints must be signed with.
    pub keys: &'a TrustedKeys,
}

/// Verifies the logs. An error is a file that cannot be read; every change found is in the report.
pub fn verify(input: &Input<'_>) -> Result<Report, AuditError> {
    let files: Vec<PathBuf> = input
        .logs
        .iter()
        .chain(input.checkpoints)
        .cloned()
        .collect();
    let mut scan = Scan::default();
    for (i, _) in input.logs.iter().enumerate() {
        scan.read(&files, index(i), Role::Log)?;
    }
    for i in 0..input.checkpoints.len() {
        scan.read(&files, index(input.logs.len() + i), Role::Checkpoints)?;
    }
    let Scan {
        chains,
        checkpoints: found,
        mut breaks,
        mut notices,
    } = scan;
    let mut walked = Vec::new();
    for (replica, entries) in chains {
        let (parts, restarts) = chain::walk(&replica, entries, &files);
        breaks.extend(restarts);
        for (part, w) in parts.into_iter().enumerate() {
            breaks.extend(w.breaks);
            notices.extend(w.notices);
            walked.push((replica.clone(), part, w.accepted));
        }
    }
    let mut matching: Vec<checkpoints::Chain<'_>> = walked
        .iter()
        .map(|(replica, _, accepted)| checkpoints::Chain {
            replica,
            accepted,
            matched: 0,
        })
        .collect();
    let outcome = checkpoints::check(&found, &mut matching, input.keys, &files);
    breaks.extend(outcome.breaks);
    notices.extend(outcome.notices);
    let chains = matching
        .iter()
        .zip(&walked)
        .map(|(m, (replica, part, accepted))| ChainSummary {
            replica: if *part == 0 {
                replica.clone()
            } else {
                format!("{replica} (restart {part})")
            },
            first_seq: accepted.first().map_or(0, |e| e.seq),
            last_seq: accepted.last().map_or(0, |e| e.seq),
            events: accepted.len() as u64,
            checkpoints: m.matched,
        })
        .collect();
    let order = |place: &Place| {
        (
            files
                .iter()
                .position(|f| *f == place.file)
                .unwrap_or(usize::MAX),
            place.line,
        )
    };
    breaks.sort_by_key(|b| order(&b.place));
    breaks.truncate(MAX_BREAKS);
    notices.sort_by_key(|n| order(&n.place));
    Ok(Report {
        chains,
        checkpoints_verified: outcome.verified,
        notices,
        breaks,
    })
}

fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
