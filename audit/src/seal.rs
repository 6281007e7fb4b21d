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
    let mut line = Vec::with_capacity(384);
    canonical::write_object_bytes(&fields, &mut line)?;
    Ok(finish(line))
}

/// Hashes a canonical object and appends the hash member.
fn finish(mut line: Vec<u8>) -> Sealed {
    let hash = Hash::of(&line);
    line.pop();
    line.extend_from_slice(HASH_MEMBER.as_bytes());
    hash.push_hex(&mut line);
    line.extend_from_slice(b"\"}");
    // Canonical JSON of Rust strings is UTF-8; the lossy fallback is never taken.
    let line = String::from_utf8(line)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Sealed { line, hash }
}

/// An event's members already written as canonical JSON values, sealed without building a JSON
/// tree: the path every audit event of a request takes. Names are the event's field names
/// (ASCII, as tracing's are); a name given twice keeps its last value, as a JSON object would.
#[derive(Debug, Default)]
pub struct Encoded {
    values: Vec<u8>,
    members: Vec<(&'static str, std::ops::Range<usize>)>,
}

impl Encoded {
    /// A string member.
    pub fn string(&mut self, name: &'static str, value: &str) {
        let start = self.values.len();
        canonical::write_string(value, &mut self.values);
        self.members.push((name, start..self.values.len()));
    }

    /// An integer member; one beyond ±2^53 is written as a string, which has one spelling.
    pub fn integer(&mut self, name: &'static str, value: i128) {
        if value.unsigned_abs() > u128::from(canonical::MAX_EXACT) {
            self.string(name, &value.to_string());
            return;
        }
        let start = self.values.len();
        canonical::write_integer(value, &mut self.values);
        self.members.push((name, start..self.values.len()));
    }

    /// A boolean member.
    pub fn boolean(&mut self, name: &'static str, value: bool) {
        let start = self.values.len();
        self.values
            .extend_from_slice(if value { b"true" } else { b"false" });
        self.members.push((name, start..self.values.len()));
    }

    /// Seals the members as the event `link` names (chain members given are replaced), and
    /// empties `self` for the next event.
    pub fn seal(&mut self, link: &Link) -> Sealed {
        self.members
            .retain(|(name, _)| !matches!(*name, "hash" | "prev" | "replica" | "seq"));
        self.string("replica", &link.replica);
        self.integer("seq", i128::from(link.seq));
        let start = self.values.len();
        self.values.push(b'"');
        link.prev.push_hex(&mut self.values);
        self.values.push(b'"');
        self.members.push(("prev", start..self.values.len()));
        // Stable: of two members with one name, the later stays later, and wins below.
        self.members.sort_by(|a, b| a.0.cmp(b.0));
        let mut line = Vec::with_capacity(self.values.len() + self.members.len() * 16 + 160);
        line.push(b'{');
        let mut first = true;
        for (i, (name, range)) in self.members.iter().enumerate() {
            if self.members.get(i + 1).is_some_and(|next| next.0 == *name) {
                continue;
            }
            if !first {
                line.push(b',');
            }
            first = false;
            canonical::write_string(name, &mut line);
            line.push(b':');
            line.extend_from_slice(&self.values[range.clone()]);
        }
        line.push(b'}');
        self.values.clear();
        self.members.clear();
        finish(line)
    }
}

/// Splits a sealed line into the canonical JSON it was hashed over (returned as the bytes before
/// the hash member, to which the closing brace belongs) and its stated hash; `None` when the line
/// does not end the way a sealed line ends.
pub fn split(line: &[u8]) -> Option<(&[u8], Hash)> {
    let tail_len = HASH_MEMBER.len() + 64 + 2;
    let cut = line.len().checked_sub(tail_len)?;
    let (body, tail) = line.split_at(cut);
    let hex = tail
        .strip_prefix(HASH_MEMBER.as_bytes())?
        .strip_suffix(b"\"}")?;
    Some((body, Hash::from_hex_bytes(hex)?))
}

/// The hash a line's content has, whatever its `hash` member says.
pub fn content_hash(body: &[u8]) -> Hash {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(body);
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
        let (body, stated) = split(sealed.line.as_bytes()).unwrap();
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
    fn the_encoded_path_seals_what_the_json_path_seals() {
        let link = Link {
            replica: "gw-a".into(),
            seq: 9,
            prev: Hash::of(b"8"),
        };
        let mut encoded = Encoded::default();
        encoded.string("username", "al\"ice\n\u{7}é");
        encoded.integer("count", 3);
        encoded.integer("huge", 1 << 60);
        encoded.boolean("ok", true);
        encoded.string("seq", "forged");
        encoded.string("event", "first");
        encoded.string("event", "login_success");
        let fast = encoded.seal(&link);
        let slow = seal(
            fields(json!({
                "username": "al\"ice\n\u{7}é", "count": 3, "huge": (1u64 << 60).to_string(),
                "ok": true, "event": "login_success"
            })),
            &link,
        )
        .unwrap();
        assert_eq!(fast, slow);
        let again = encoded.seal(&link);
        assert!(
            !again.line.contains("username"),
            "emptied for the next event"
        );
    }

    #[test]
    fn lines_that_were_not_sealed_do_not_split() {
        assert!(split(b"{\"event\":\"x\"}").is_none());
        assert!(split(b"").is_none());
        assert!(
            split(format!("{{\"a\":1{HASH_MEMBER}{}\"}}", "G".repeat(64)).as_bytes()).is_none()
        );
    }
}
