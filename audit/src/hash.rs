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
        Self::from_hex_bytes(text.as_bytes())
    }

    /// [`Hash::from_hex`] of bytes as they are read from a file.
    pub fn from_hex_bytes(bytes: &[u8]) -> Option<Hash> {
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0; 32];
        let mut bad = 0u8;
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let (high, low) = (NIBBLE[usize::from(pair[0])], NIBBLE[usize::from(pair[1])]);
            bad |= (high | low) & 0xf0;
            out[i] = (high << 4) | (low & 0x0f);
        }
        (bad == 0).then_some(Hash(out))
    }
}

impl Hash {
    /// Appends the 64 lowercase hex digits to `out`, without the formatting machinery (this is
    /// on every audit event's path, twice).
    pub fn push_hex(&self, out: &mut Vec<u8>) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for byte in self.0 {
            out.push(DIGITS[usize::from(byte >> 4)]);
            out.push(DIGITS[usize::from(byte & 0x0f)]);
        }
    }
}

/// Each byte's value as a lowercase hex digit, 0xff for any other byte: verifying reads two
/// hashes per line, and a table keeps that off the profile.
const NIBBLE: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut hex = Vec::with_capacity(64);
        self.push_hex(&mut hex);
        f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
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
