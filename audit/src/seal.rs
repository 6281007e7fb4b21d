//! Sealing an event into its line: the chain fields (`replica`, `seq`, `prev`) are added, the
//! canonical JSON is hashed, and the hash is appended as the line's last member. The line without
//! that last member is exactly the canonical JSON, so a verifier hashes the line's own bytes
//! without parsing and re-encoding it.

use serde_json::{Map, Value};

use crate::canonical;
use crate::error::AuditError;
use crate::hash::Hash;

/// The member a sealed line ends with, before its 64 hex digits and `"}`.
pub const HASH_MEMBER: &str = ",\"hash\":\"";

/// Where in its chain an event goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The writer: one chain per replica (and one for `pforte-admin` on each host).
    pub replica: String,
    /// The event's number in its chain, from 1.
    pub seq: u64,
    /// The hash of the chain's previous event, [`Hash::ZERO`] before the first.
    pub prev: Hash,
}

/// A sealed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The JSON line, without a line break.
    pub line: String,
    /// Its hash: the next event's `prev`.
    pub hash: Hash,
}

/// Seals `fields` (the event's own, including `event` and `timestamp`) as the event `link` names.
/// Chain fields in `fields` are replaced, so an event can never claim another place.
pub fn seal(mut fields: Map<String, Value>, link: &Link) -> Result<Sealed, AuditError> {
    fields.remove("hash");
    fields.insert("replica".into(), Value::String(link.replica.clone()));
    fields.insert("seq".into(), Value::from(link.seq));
    fields.insert("prev".into(), Value::String(link.prev.to_string()));
    let mut line = String::with_capacity(384);
    canonical::write_object(&fields, &mut line)?;
    let hash = Hash::of(line.as_bytes());
    line.pop();
    line.push_str(HASH_MEMBER);
    line.push_str(&hash.to_string());
    line.push_str("\"}");
    Ok(Sealed { line, hash })
}

/// Splits a sealed line into the canonical JSON it was hashed over (returned as the bytes before
/// the hash member, to which the closing brace belongs) and its stated hash; `None` when the line
/// does not end the way a sealed line ends.
pub fn split(line: &str) -> Option<(&str, Hash)> {
    let tail_len = HASH_MEMBER.len() + 64 + 2;
    let cut = line.len().checked_sub(tail_len)?;
    let (body, tail) = (line.get(..cut)?, line.get(cut..)?);
    let hex = tail.strip_prefix(HASH_MEMBER)?.strip_suffix("\"}")?;
    Some((body, Hash::from_hex(hex)?))
}

/// The hash a line's content has, whatever its `hash` member says.
pub fn content_hash(body: &str) -> Hash {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(body.as_bytes());
    ctx.update(b"}");
    let mut out = [0; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    Hash(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn fields(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn a_sealed_line_hashes_to_its_own_hash_and_parses_as_json() {
        let link = Link {
            replica: "gw-a".into(),
            seq: 1,
            prev: Hash::ZERO,
        };
        let sealed = seal(
            fields(json!({"event": "login_success", "subject": "s1"})),
            &link,
        )
        .unwrap();
        let (body, stated) = split(&sealed.line).unwrap();
        assert_eq!(stated, sealed.hash);
        assert_eq!(content_hash(body), sealed.hash);
        let parsed: Value = serde_json::from_str(&sealed.line).unwrap();
        assert_eq!(parsed["seq"], 1);
        assert_eq!(parsed["replica"], "gw-a");
        assert_eq!(parsed["prev"], "0".repeat(64));
        assert_eq!(parsed["hash"], sealed.hash.to_string());
    }

    #[test]
    fn an_event_cannot_claim_its_own_place() {
        let link = Link {
            replica: "gw-a".into(),
            seq: 7,
            prev: Hash::of(b"x"),
        };
        let sealed = seal(
            fields(json!({"event": "e", "seq": 1, "replica": "other", "hash": "f"})),
            &link,
        )
        .unwrap();
        let parsed: Value = serde_json::from_str(&sealed.line).unwrap();
        assert_eq!(parsed["seq"], 7);
        assert_eq!(parsed["replica"], "gw-a");
    }

    #[test]
    fn lines_that_were_not_sealed_do_not_split() {
        assert!(split("{\"event\":\"x\"}").is_none());
        assert!(split("").is_none());
        assert!(split(&format!("{{\"a\":1{HASH_MEMBER}{}\"}}", "G".repeat(64))).is_none());
    }
}
