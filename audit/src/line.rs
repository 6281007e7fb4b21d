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

/// Reads `line` (without its line break) as its bytes are in the file: the hash covers the
/// bytes, so the line as a whole is checked for UTF-8 only when it must be decoded fully.
pub fn read(line: &[u8]) -> Result<Read<'_>, NotAnEvent> {
    let (body, stated) = seal::split(line).ok_or(NotAnEvent::Unsealed)?;
    let fields = match scan(body) {
        Some(fields) => fields,
        None => serde_json::from_slice(line).map_err(|_| NotAnEvent::Malformed)?,
    };
    Ok(Read {
        intact: seal::content_hash(body) == stated,
        fields,
        stated,
    })
}

/// The quick way to a line's chain fields: one pass over the top-level members as the writer
/// writes them, skipping the values of all others without decoding them. Anything it is not
/// sure of (an escape in a field it keeps, a member named twice, a checkpoint's or a damage
/// record's fields, anything that is not the writer's shape) returns `None`, and the line is
/// decoded fully instead; so both ways agree on every line the writer writes.
fn scan(body: &[u8]) -> Option<Fields<'_>> {
    let mut at = 1;
    if body.first() != Some(&b'{') {
        return None;
    }
    let (mut replica, mut seq, mut prev, mut event) = (None, None, None, None);
    while at < body.len() {
        let key = plain_string(body, &mut at)?;
        if body.get(at) != Some(&b':') {
            return None;
        }
        at += 1;
        let slot = match key {
            b"replica" => &mut replica,
            b"prev" => &mut prev,
            b"event" => &mut event,
            b"seq" => {
                let start = at;
                while body.get(at).is_some_and(u8::is_ascii_digit) {
                    at += 1;
                }
                let digits = std::str::from_utf8(body.get(start..at)?).ok()?;
                if seq.replace(digits.parse::<u64>().ok()?).is_some() {
                    return None;
                }
                next_member(body, &mut at)?;
                continue;
            }
            b"checkpoint" | b"signature" | b"damaged_lines" => return None,
            _ => {
                skip_value(body, &mut at)?;
                next_member(body, &mut at)?;
                continue;
            }
        };
        let value = plain_string(body, &mut at)?;
        if slot.replace(std::str::from_utf8(value).ok()?).is_some() {
            return None;
        }
        next_member(body, &mut at)?;
    }
    Some(Fields {
        replica: Cow::Borrowed(replica?),
        seq: seq?,
        prev: Cow::Borrowed(prev?),
        event: Cow::Borrowed(event.unwrap_or("")),
        checkpoint: None,
        signature: None,
        damaged_lines: None,
    })
}

/// A string without escapes at `at`; moves past it.
fn plain_string<'a>(body: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    if body.get(*at) != Some(&b'"') {
        return None;
    }
    let start = *at + 1;
    let len = memchr::memchr2(b'"', b'\\', body.get(start..)?)?;
    let end = start + len;
    if body[end] != b'"' {
        return None;
    }
    *at = end + 1;
    Some(&body[start..end])
}

/// Moves past a value of any kind: strings with their escapes, nested objects and arrays.
fn skip_value(body: &[u8], at: &mut usize) -> Option<()> {
    let mut depth = 0usize;
    loop {
        match *body.get(*at)? {
            b'"' => {
                *at += 1;
                loop {
                    *at += memchr::memchr2(b'"', b'\\', body.get(*at..)?)?;
                    if body[*at] == b'"' {
                        break;
                    }
                    *at += 2;
                }
                *at += 1;
            }
            b'{' | b'[' => {
                depth += 1;
                *at += 1;
            }
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                *at += 1;
            }
            b',' | b'}' | b']' if depth == 0 => return Some(()),
            _ => *at += 1,
        }
        if depth == 0 && matches!(body.get(*at), None | Some(b',' | b'}')) {
            return Some(());
        }
    }
}

/// Moves past the comma between members; at the end of the body (the hash member was split
/// off) there is none.
fn next_member(body: &[u8], at: &mut usize) -> Option<()> {
    match body.get(*at) {
        None => Some(()),
        Some(b',') => {
            *at += 1;
            Some(())
        }
        Some(_) => None,
    }
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
        let read_back = read(sealed.line.as_bytes()).unwrap();
        assert!(read_back.intact);
        assert_eq!(read_back.fields.seq, 3);
        let edited = sealed.line.replace("alice", "mallory");
        assert!(!read(edited.as_bytes()).unwrap().intact);
        assert_eq!(read(b"not json").unwrap_err(), NotAnEvent::Unsealed);
    }

    #[test]
    fn the_quick_way_and_the_full_decoding_agree() {
        let Value::Object(fields) = json!({
            "event": "policy_impact", "apps": "[{\"name\":\"mail\"}]", "n": 3, "ok": true,
            "nested": {"a": [1, {"b": "}"}], "c": "x\\\""}, "quote": "say \"hi\"", "none": null
        }) else {
            unreachable!()
        };
        let sealed = seal(
            fields,
            &Link {
                replica: "gw-1".into(),
                seq: 42,
                prev: Hash::of(b"41"),
            },
        )
        .unwrap();
        let (body, _) = crate::seal::split(sealed.line.as_bytes()).unwrap();
        let quick = scan(body).unwrap();
        let full: Fields<'_> = serde_json::from_str(&sealed.line).unwrap();
        assert_eq!(
            (&quick.replica, quick.seq, &quick.prev, &quick.event),
            (&full.replica, full.seq, &full.prev, &full.event)
        );
        let escaped = sealed.line.replace("\"gw-1\"", "\"gw\\u002d1\"");
        let (body, _) = crate::seal::split(escaped.as_bytes()).unwrap();
        assert!(
            scan(body).is_none(),
            "an escape in a kept field: decoded fully"
        );
        assert_eq!(read(escaped.as_bytes()).unwrap().fields.replica, "gw-1");
    }
}
