//! Where a writer that starts again goes on: the last intact event of its replica at the end of
//! its file, and what lies after it that is not an event (a line cut short by a crash). The file
//! is read backwards from its end, a growing window at a time, so a start does not read a large
//! log whole.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::{AuditError, io_err};
use crate::hash::Hash;
use crate::line;

/// The window read first from the end of the file; doubled until the replica's last event is in it.
const FIRST_WINDOW: u64 = 64 * 1024;

/// What the end of a file says about a replica's chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tail {
    /// The replica's last intact event: its sequence number and hash.
    pub last: Option<(u64, Hash)>,
    /// Lines after it that are not intact events, counting a last line without its line break.
    pub damaged_lines: u64,
    /// Their size in bytes.
    pub damaged_bytes: u64,
    /// Whether the file ends without a line break (the writer must end that line first).
    pub unterminated: bool,
}

/// Reads the tail of `path` for `replica`; a missing file has an empty tail.
pub fn recover(path: &Path, replica: &str) -> Result<Tail, AuditError> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Tail::default()),
        Err(e) => return Err(io_err(path)(e)),
    };
    let len = file.metadata().map_err(io_err(path))?.len();
    let mut window = FIRST_WINDOW.min(len);
    loop {
        let start = len - window;
        file.seek(SeekFrom::Start(start)).map_err(io_err(path))?;
        let mut bytes = Vec::with_capacity(usize::try_from(window).unwrap_or(0));
        file.by_ref()
            .take(window)
            .read_to_end(&mut bytes)
            .map_err(io_err(path))?;
        let whole = start == 0;
        if let Some(tail) = scan(&bytes, whole, replica) {
            return Ok(tail);
        }
        if whole {
            return Ok(scan_all(&bytes, replica));
        }
        window = (window * 2).min(len);
    }
}

/// Looks for the replica's last intact event in `bytes` (the last bytes of the file; `whole`
/// when they are all of it, so the first line is complete).
fn scan(bytes: &[u8], whole: bool, replica: &str) -> Option<Tail> {
    let mut tail = Tail {
        unterminated: !bytes.is_empty() && !bytes.ends_with(b"\n"),
        ..Tail::default()
    };
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    if bytes.ends_with(b"\n") {
        lines.pop();
    }
    let first_complete = usize::from(!whole);
    for (i, raw) in lines.iter().enumerate().rev() {
        if i < first_complete {
            break;
        }
        match line::read(raw).ok() {
            Some(read) if read.intact => {
                if read.fields.replica == replica {
                    tail.last = Some((read.fields.seq, read.stated));
                    return Some(tail);
                }
            }
            _ => {
                tail.damaged_lines += 1;
                tail.damaged_bytes += raw.len() as u64;
            }
        }
    }
    None
}

/// The tail of a whole file without an event of the replica.
fn scan_all(bytes: &[u8], replica: &str) -> Tail {
    scan(bytes, true, replica).unwrap_or_else(|| {
        let mut tail = Tail {
            unterminated: !bytes.is_empty() && !bytes.ends_with(b"\n"),
            ..Tail::default()
        };
        // Lines after the last intact event of any replica are damage; others' events are not.
        for raw in bytes.split(|b| *b == b'\n').rev() {
            if raw.is_empty() {
                continue;
            }
            match line::read(raw).ok() {
                Some(read) if read.intact => break,
                _ => {
                    tail.damaged_lines += 1;
                    tail.damaged_bytes += raw.len() as u64;
                }
            }
        }
        tail
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::Write;

    use serde_json::{Map, Value};

    use super::*;
    use crate::seal::{Link, seal};

    fn event(replica: &str, seq: u64, prev: Hash, pad: usize) -> (String, Hash) {
        let mut fields = Map::new();
        fields.insert("event".into(), Value::String("e".into()));
        fields.insert("pad".into(), Value::String("x".repeat(pad)));
        let sealed = seal(
            fields,
            &Link {
                replica: replica.into(),
                seq,
                prev,
            },
        )
        .unwrap();
        (sealed.line, sealed.hash)
    }

    #[test]
    fn the_last_own_event_is_found_past_others_and_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let mut file = File::create(&path).unwrap();
        let mut prev = Hash::ZERO;
        let mut last = Hash::ZERO;
        for seq in 1..=200 {
            let (line, hash) = event("a", seq, prev, 900);
            writeln!(file, "{line}").unwrap();
            prev = hash;
            last = hash;
        }
        for seq in 1..=100 {
            writeln!(file, "{}", event("b", seq, Hash::ZERO, 900).0).unwrap();
        }
        write!(file, "{{\"cut\":").unwrap();
        drop(file);
        let tail = recover(&path, "a").unwrap();
        assert_eq!(tail.last, Some((200, last)));
        assert_eq!(tail.damaged_lines, 1);
        assert!(tail.unterminated);
        let none = recover(&path, "c").unwrap();
        assert_eq!(none.last, None);
        assert_eq!(none.damaged_lines, 1);
        assert_eq!(
            recover(&dir.path().join("missing"), "a").unwrap(),
            Tail::default()
        );
    }
}
