//! The SHA-256 digest that links events, written as 64 lowercase hex digits in the lines.

use std::fmt;

use aws_lc_rs::digest::{SHA256, digest};

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The `prev` of a chain's first event: there is nothing before it.
    pub const ZERO: Hash = Hash([0; 32]);

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Hash {
        let mut out = [0; 32];
        out.copy_from_slice(digest(&SHA256, bytes).as_ref());
        Hash(out)
    }

    /// Reads 64 lowercase hex digits, as the lines write them; anything else is `None`, so an
    /// uppercase or short value is a changed line, not another spelling of the same hash.
    pub fn from_hex(text: &str) -> Option<Hash> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Some(Hash(out))
    }
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

impl serde::Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn hex_goes_both_ways_and_refuses_other_spellings() {
        let h = Hash::of(b"abc");
        assert_eq!(
            h.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Hash::from_hex(&h.to_string()), Some(h));
        assert_eq!(Hash::from_hex(&h.to_string().to_uppercase()), None);
        assert_eq!(Hash::from_hex("00"), None);
        assert_eq!(Hash::from_hex(&"0".repeat(64)), Some(Hash::ZERO));
    }
}
