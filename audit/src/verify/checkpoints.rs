//! Matching checkpoints (from the logs and from copies kept elsewhere) against the chains: the
//! signature must be by a trusted key, and the chain must have the event the checkpoint names,
//! with the hash it names. A chain that ends before a checkpoint's event lost its tail.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::keys::{SignatureFault, TrustedKeys};

use super::report::{Break, BreakKind, Notice, NoticeKind};
use super::scan::{Entry, Found, Scan};

/// A chain's accepted events, for matching.
pub(super) struct Chain<'a> {
    pub replica: &'a str,
    pub accepted: &'a [Entry],
    pub matched: u64,
}

/// What the checkpoints showed.
#[derive(Default)]
pub(super) struct Outcome {
    pub verified: usize,
    pub breaks: Vec<Break>,
    pub notices: Vec<Notice>,
}

/// Checks every checkpoint found.
pub(super) fn check(
    found: &[Found],
    chains: &mut [Chain<'_>],
    keys: &TrustedKeys,
    files: &[PathBuf],
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut not_given = BTreeSet::new();
    for cp in found {
        let place = Scan::place(files, cp.file, cp.line);
        let replica = cp.checkpoint.replica.as_str();
        let broken = |kind, detail: String| Break {
            kind,
            place: place.clone(),
            replica: Some(replica.to_string()),
            seq: Some(cp.checkpoint.seq),
            detail,
        };
        match cp.checkpoint.check(&cp.signature, keys) {
            Ok(()) => {}
            Err(SignatureFault::UnknownKey) => {
                outcome.breaks.push(broken(
                    BreakKind::ForgedCheckpoint,
                    format!(
                        "checkpoint signed by key {}, which is not among the {} trusted keys",
                        cp.checkpoint.key,
                        keys.len()
                    ),
                ));
                continue;
            }
            Err(SignatureFault::BadSignature) => {
                outcome.breaks.push(broken(
                    BreakKind::ForgedCheckpoint,
                    format!(
                        "the checkpoint's signature does not match it under key {}",
                        cp.checkpoint.key
                    ),
                ));
                continue;
            }
        }
        let mut parts: Vec<&mut Chain<'_>> =
            chains.iter_mut().filter(|c| c.replica == replica).collect();
        if parts.is_empty() {
            if not_given.insert(replica.to_string()) {
                outcome.notices.push(Notice {
                    kind: NoticeKind::ChainNotGiven,
                    place: place.clone(),
                    detail: format!("checkpoints of replica {replica}, whose log was not given"),
                });
            }
            continue;
        }
        let head = cp.checkpoint.head_hash();
        if let Some(chain) = parts
            .iter_mut()
            .find(|c| event_at(c.accepted, cp.checkpoint.seq).is_some_and(|e| Some(e.hash) == head))
        {
            chain.matched += 1;
            outcome.verified += 1;
            continue;
        }
        let Some(latest) = parts.last() else {
            continue;
        };
        let accepted = latest.accepted;
        let Some(last) = accepted.last() else {
            continue;
        };
        if let Some(event) = event_at(accepted, cp.checkpoint.seq) {
            let previous = accepted
                .iter()
                .take_while(|e| e.seq < cp.checkpoint.seq)
                .count();
            outcome.breaks.push(Break {
                kind: BreakKind::CheckpointMismatch,
                place: Scan::place(files, event.file, event.line),
                replica: Some(replica.to_string()),
                seq: Some(event.seq),
                detail: format!(
                    "the signed checkpoint at {place} names head {} for seq {}, but this event's hash is {}: the chain up to here was rewritten and re-hashed ({previous} events before it)",
                    cp.checkpoint.head, event.seq, event.hash
                ),
            });
        } else if cp.checkpoint.seq > last.seq {
            outcome.breaks.push(Break {
                kind: BreakKind::Truncated,
                place: Scan::place(files, last.file, last.line),
                replica: Some(replica.to_string()),
                seq: Some(last.seq),
                detail: format!(
                    "replica {replica}'s log ends at seq {} here, but the signed checkpoint at {place} covers up to seq {}: the tail was cut off",
                    last.seq, cp.checkpoint.seq
                ),
            });
        }
        // Otherwise the event is in a gap the walk reported as deleted, or before the first
        // file given: nothing more to say.
    }
    outcome
}

fn event_at(accepted: &[Entry], seq: u64) -> Option<&Entry> {
    let at = accepted.partition_point(|e| e.seq < seq);
    accepted.get(at).filter(|e| e.seq == seq)
}
