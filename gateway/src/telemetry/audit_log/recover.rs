//! Where a starting writer goes on, and what it must record first: its file's tail (the last
//! intact event of its replica, lines a crash cut short) and its head file are compared. A
//! damaged tail is ended and recorded; a file behind the head (rotated away, emptied, replaced)
//! is recorded and the chain goes on from the head; nothing at all starts a new chain.

use std::path::Path;

use pforte_audit::line::{CHAIN_RESUMED, TAIL_DAMAGED};
use pforte_audit::tail::{self, Tail};
use pforte_audit::{AuditError, Hash, Link};
use serde_json::{Map, Value};

/// The start: where the chain goes on, and the events to write before any other.
#[derive(Debug)]
pub struct Start {
    /// The next event's place.
    pub next: Link,
    /// Whether the file ends in the middle of a line, which must be ended first.
    pub end_line: bool,
    /// Events describing what was found, in order.
    pub records: Vec<Map<String, Value>>,
}

/// Reads the tail of `log` and compares it with the head file's `(seq, hash)`.
pub fn start(log: &Path, replica: &str, head: Option<(u64, Hash)>) -> Result<Start, AuditError> {
    let tail = tail::recover(log, replica)?;
    Ok(plan(log, replica, &tail, head))
}

fn plan(log: &Path, replica: &str, tail: &Tail, head: Option<(u64, Hash)>) -> Start {
    let mut records = Vec::new();
    if tail.damaged_lines > 0 {
        records.push(record(
            TAIL_DAMAGED,
            format!(
                "{} at the end of {} were not intact events when the gateway started (a crash while writing); they are left as found",
                plural(tail.damaged_lines, "line"),
                log.display()
            ),
            [
                ("damaged_lines", Value::from(tail.damaged_lines)),
                ("damaged_bytes", Value::from(tail.damaged_bytes)),
            ],
        ));
    }
    let next = match (tail.last, head) {
        (Some((seq, hash)), None) => link(replica, seq + 1, hash),
        (Some((seq, hash)), Some((head_seq, _))) if head_seq <= seq => link(replica, seq + 1, hash),
        (found, Some((head_seq, head_hash))) => {
            let found_seq = found.map_or(0, |(seq, _)| seq);
            records.push(record(
                CHAIN_RESUMED,
                format!(
                    "{} holds replica {replica}'s chain only up to seq {found_seq}, but it had reached seq {head_seq}: the file was rotated, emptied or replaced while the gateway was stopped; the chain goes on from seq {head_seq}",
                    log.display()
                ),
                [
                    ("previous_seq", Value::from(head_seq)),
                    ("found_seq", Value::from(found_seq)),
                ],
            ));
            link(replica, head_seq + 1, head_hash)
        }
        (None, None) => link(replica, 1, Hash::ZERO),
    };
    Start {
        next,
        end_line: tail.unterminated,
        records,
    }
}

fn link(replica: &str, seq: u64, prev: Hash) -> Link {
    Link {
        replica: replica.to_string(),
        seq,
        prev,
    }
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// An event of the audit log about itself.
pub fn record<const N: usize>(
    event: &str,
    message: String,
    extra: [(&str, Value); N],
) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("event".into(), Value::String(event.into()));
    fields.insert("level".into(), Value::String("INFO".into()));
    fields.insert(
        "target".into(),
        Value::String(crate::telemetry::audit::TARGET.into()),
    );
    fields.insert("message".into(), Value::String(message));
    for (name, value) in extra {
        fields.insert(name.into(), value);
    }
    fields
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn tail(last: Option<u64>, damaged: u64) -> Tail {
        Tail {
            last: last.map(|s| (s, Hash::of(&s.to_be_bytes()))),
            damaged_lines: damaged,
            damaged_bytes: damaged * 10,
            unterminated: damaged > 0,
        }
    }

    #[test]
    fn the_chain_goes_on_from_the_file_or_else_from_the_head_and_says_so() {
        let log = Path::new("/var/log/pforte/audit.jsonl");
        let fresh = plan(log, "a", &tail(None, 0), None);
        assert_eq!((fresh.next.seq, fresh.next.prev), (1, Hash::ZERO));
        assert!(fresh.records.is_empty());
        let ahead = plan(log, "a", &tail(Some(9), 0), Some((7, Hash::ZERO)));
        assert_eq!(ahead.next.seq, 10);
        assert!(ahead.records.is_empty());
        let behind = plan(log, "a", &tail(Some(3), 0), Some((7, Hash::of(b"7"))));
        assert_eq!((behind.next.seq, behind.next.prev), (8, Hash::of(b"7")));
        assert_eq!(behind.records[0]["event"], CHAIN_RESUMED);
        assert_eq!(behind.records[0]["found_seq"], 3);
        let crashed = plan(log, "a", &tail(Some(5), 1), None);
        assert_eq!(crashed.next.seq, 6);
        assert!(crashed.end_line);
        assert_eq!(crashed.records[0]["event"], TAIL_DAMAGED);
        assert_eq!(crashed.records[0]["damaged_lines"], 1);
    }
}
