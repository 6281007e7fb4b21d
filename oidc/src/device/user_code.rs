//! The user code a device shows and a person types: eight letters of an alphabet without
//! vowels (no words), without letters that look like digits or like each other (RFC 8628 §6.1:
//! `BCDFGHJKLMNPQRSTVWXZ`), shown in two halves as `WDJB-MJHT`. 20⁸ codes are about 34 bits:
//! with a few live codes and the verification page's rate limit, guessing one is hopeless.
//!
//! A typed code is taken in any case, with or without the dash and with spaces.

use std::fmt;

/// The letters of a user code.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// Letters in a user code.
pub const USER_CODE_LEN: usize = 8;

/// Random bytes [`UserCode::from_random`] draws its letters from: enough that it fails only
/// with a probability below 10⁻¹⁸.
pub const USER_CODE_RANDOM_BYTES: usize = 32;

/// The longest text [`UserCode::parse`] looks at: a code with any dashes and spaces a person
/// might type, and nothing that costs work to refuse.
const MAX_TYPED_LEN: usize = 64;

/// A user code, normalised: eight letters of [`USER_CODE_ALPHABET`], no dash. Its text is the
/// key the verification page finds a device by, so it is kept out of Debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCode(String);

impl UserCode {
    /// Draws a code from random bytes (the system's CSPRNG in production): each byte below 240
    /// gives a letter, which keeps the 20 letters equally likely; bytes of 240 and above are
    /// skipped. `None` in the rare case the bytes do not give eight letters: draw again.
    pub fn from_random(bytes: [u8; USER_CODE_RANDOM_BYTES]) -> Option<Self> {
        let letters = USER_CODE_ALPHABET.len();
        let limit = 256 - 256 % letters;
        let code: String = bytes
            .iter()
            .map(|b| usize::from(*b))
            .filter(|b| *b < limit)
            .filter_map(|b| USER_CODE_ALPHABET.get(b % letters))
            .take(USER_CODE_LEN)
            .map(|b| char::from(*b))
            .collect();
        (code.len() == USER_CODE_LEN).then_some(Self(code))
    }

    /// The code a person typed, if it is shaped like one: letters in any case, with dashes and
    /// spaces anywhere ignored. Whether such a code was handed out is the store's to say.
    pub fn parse(typed: &str) -> Option<Self> {
        if typed.len() > MAX_TYPED_LEN {
            return None;
        }
        let code: String = typed
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let valid =
            code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
        valid.then_some(Self(code))
    }

    /// The normalised code: the key of its record.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code as the device shows it and the page repeats it: `WDJB-MJHT`.
    pub fn display(&self) -> String {
        let (first, second) = self.0.split_at(USER_CODE_LEN / 2);
        format!("{first}-{second}")
    }
}

impl fmt::Debug for UserCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserCode(<redacted>)")
    }
}
