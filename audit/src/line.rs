//! Reading a sealed line back: its hash checked against its bytes, and the few fields the chain
//! is made of. The event's other fields are skipped, not decoded, which keeps verifying a log
//! near the speed of hashing it.

use std::borrow::Cow;

use serde::Deserialize;

use crate::checkpoint::Checkpoint;
use crate::hash::Hash;
use crate::seal;

/// The event name of the line the writer adds after a damaged tail it found at start.
pub const TAIL_DAMAGED: &str = "audit_tail_damaged";
/// The event name of the line the writer adds when its file is behind the chain it wrote.
pub const CHAIN_RESUMED: &str = "audit_chain_resumed";

/// The chain's fields of a line, borrowed from it where no escape had to be undone.
#[derive(Debug, Deserialize)]
pub struct Fields<'a> {
    /// The chain.
    #[serde(borrow)]
    pub replica: Cow<'a, str>,
    /// The place in the chain.
    pub seq: u64,
    /// The previous event's hash, as written.
    #[serde(borrow)]
    pub prev: Cow<'a, str>,
    /// The event's name.
    #[serde(borrow, default)]
    pub event: Cow<'a, str>,
    /// A checkpoint event's checkpoint.
    #[serde(default)]
    pub checkpoint: Option<Checkpoint>,
    /// A checkpoint event's signature.
    #[serde(borrow, default)]
    pub signature: Option<Cow<'a, str>>,
    /// An `audit_tail_damaged` event's count of the lines before it that are not events.
    #[serde(default)]
    pub damaged_lines: Option<u64>,
}

/// A line read back.
#[derive(Debug)]
pub struct Read<'a> {
    /// Its chain fields.
    pub fields: Fields<'a>,
    /// The hash its `hash` member states.
    pub stated: Hash,
    /// Whether its content hashes to the stated hash.
    pub intact: bool,
}

/// Why a line is not an audit event at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAnEvent {
    /// It does not end with a `hash` member.
    Unsealed,
    /// It is not JSON with the chain's fields.
    Malformed,
}

/// Reads `line` (without its line break).
pub fn read(line: &str) -> Result<Read<'_>, NotAnEvent> {
    let (body, stated) = seal::split(line).ok_or(NotAnEvent::Unsealed)?;
    let fields: Fields<'_> = serde_json::from_str(line).map_err(|_| NotAnEvent::Malformed)?;
    Ok(Read {
        intact: seal::content_hash(body) == stated,
        fields,
        stated,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::{Value, json};

    use super::*;
    use crate::seal::{Link, seal};

    #[test]
    fn an_edited_line_reads_but_is_not_intact() {
        let Value::Object(fields) = json!({"event": "login_success", "username": "alice"}) else {
            unreachable!()
        };
        let sealed = seal(
            fields,
            &Link {
                replica: "r".into(),
                seq: 3,
                prev: Hash::ZERO,
            },
        )
        .unwrap();
        let read_back = read(&sealed.line).unwrap();
        assert!(read_back.intact);
        assert_eq!(read_back.fields.seq, 3);
        let edited = sealed.line.replace("alice", "mallory");
        assert!(!read(&edited).unwrap().intact);
        assert_eq!(read("not json").unwrap_err(), NotAnEvent::Unsealed);
    }
}
