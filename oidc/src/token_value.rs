//! Opaque random values handed to clients (codes, refresh-token secrets).
//!
//! The randomness comes in as bytes, so the gateway chooses the generator (the system's
//! CSPRNG) and tests choose fixed bytes. Stores keep only [`OpaqueToken::digest`], so a
//! read of the store does not yield usable codes or tokens.

use std::fmt;

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Bytes of randomness in every opaque token: 256 bits.
pub const TOKEN_BYTES: usize = 32;

/// A random value shown to a client once; its text is never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct OpaqueToken(String);

impl OpaqueToken {
    /// Encodes fresh random bytes (from the system CSPRNG in production).
    pub fn from_random(bytes: [u8; TOKEN_BYTES]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Wraps a value a client presented.
    pub fn presented(text: &str) -> Self {
        Self(text.to_owned())
    }

    /// The text to send to the client.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The key to store it under: base64url SHA-256 of the text.
    pub fn digest(&self) -> String {
        URL_SAFE_NO_PAD.encode(digest(&SHA256, self.0.as_bytes()))
    }
}

impl fmt::Debug for OpaqueToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpaqueToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_256_bits_and_hides_itself() {
        let t = OpaqueToken::from_random([7; TOKEN_BYTES]);
        assert_eq!(t.expose().len(), 43);
        assert_eq!(t.digest(), OpaqueToken::presented(t.expose()).digest());
        assert_ne!(t.digest(), t.expose());
        assert!(!format!("{t:?}").contains(t.expose()));
    }
}
