//! Session ids, the keys the store files them under, and the short public handle.
//!
//! Three names for one session, each with one audience:
//! - [`SessionId`]: 256 random bits, the cookie value. Only the browser holds it; it is never
//!   stored, logged or shown (its `Debug` prints `***`).
//! - [`SessionKey`]: SHA-256 of the id. The store checks it, so a dump of the store cannot be
//!   replayed as cookies.
//! - [`Sid`]: the first 64 bits of the key in hex. It names the session in the store's keys, in
//!   admin listings, logs, `pforte sessions revoke SID` and the OIDC `sid` claim; knowing it
//!   does not let anyone use the session.

use std::fmt;

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq as _;

/// The random bytes of a session id, and of an SSO ticket.
pub(crate) const ID_BYTES: usize = 32;
/// Base64url without padding of 32 bytes.
const ID_CHARS: usize = 43;
const SID_BYTES: usize = 8;

/// Why a text is not a session id or a sid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The text has the wrong length (a session id has 43 characters, a sid 16).
    #[error("wrong length: {found} characters, expected {expected}")]
    WrongLength {
        /// The length seen.
        found: usize,
        /// The length a valid value has.
        expected: usize,
    },
    /// The text has a character outside the alphabet, or non-canonical trailing bits.
    #[error("not in the expected alphabet")]
    BadAlphabet,
    /// The operating system's random generator failed; no id can be made safely.
    #[error("the system random number generator failed")]
    Random,
}

/// The secret a browser presents in its session cookie.
#[derive(Clone)]
pub struct SessionId([u8; ID_BYTES]);

impl SessionId {
    /// Makes a new id from the operating system's CSPRNG; every login gets a fresh one, so an
    /// id planted before login (session fixation) never becomes valid.
    pub fn generate() -> Result<Self, IdError> {
        let mut bytes = [0u8; ID_BYTES];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| IdError::Random)?;
        Ok(Self(bytes))
    }

    /// Reads a cookie value strictly: exactly 43 base64url characters, no padding, canonical
    /// last character. Anything else is an error, never a panic.
    pub fn parse(text: &str) -> Result<Self, IdError> {
        decode_secret(text).map(Self)
    }

    /// Rebuilds an id from its bytes, as unsealed from an SSO ticket.
    pub(crate) fn from_bytes(bytes: [u8; ID_BYTES]) -> Self {
        Self(bytes)
    }

    /// The raw id, for sealing into an SSO ticket; never stored or shown as is.
    pub(crate) fn as_bytes(&self) -> &[u8; ID_BYTES] {
        &self.0
    }

    /// The cookie value: base64url without padding, 43 characters.
    pub fn to_cookie_value(&self) -> String {
        encode_secret(&self.0)
    }

    /// The key the store knows this session by.
    pub fn key(&self) -> SessionKey {
        let hash = digest(&SHA256, &self.0);
        let mut key = [0u8; ID_BYTES];
        key.copy_from_slice(hash.as_ref());
        SessionKey(key)
    }
}

/// Reads 32 secret bytes written as 43 base64url characters (a session id or an SSO ticket),
/// strictly: no padding, canonical last character. Anything else is an error, never a panic.
pub(crate) fn decode_secret(text: &str) -> Result<[u8; ID_BYTES], IdError> {
    if text.len() != ID_CHARS {
        return Err(IdError::WrongLength {
            found: text.len(),
            expected: ID_CHARS,
        });
    }
    let mut bytes = [0u8; ID_BYTES];
    match URL_SAFE_NO_PAD.decode_slice(text, &mut bytes) {
        Ok(ID_BYTES) => Ok(bytes),
        _ => Err(IdError::BadAlphabet),
    }
}

/// Writes 32 secret bytes as the 43 base64url characters [`decode_secret`] reads.
pub(crate) fn encode_secret(bytes: &[u8; ID_BYTES]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(***)")
    }
}

/// SHA-256 of a [`SessionId`]: what the store checks a presented cookie against.
#[derive(Clone)]
pub struct SessionKey([u8; ID_BYTES]);

impl SessionKey {
    /// Rebuilds a key from its stored bytes; `None` when the length is wrong.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Self> {
        <[u8; ID_BYTES]>::try_from(bytes).ok().map(Self)
    }

    /// The stored form.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The public handle of the session this key belongs to.
    pub fn sid(&self) -> Sid {
        let mut sid = [0u8; SID_BYTES];
        sid.copy_from_slice(&self.0[..SID_BYTES]);
        Sid(sid)
    }
}

impl PartialEq for SessionKey {
    /// Constant time, so comparing a presented key with a stored one leaks nothing by timing.
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SessionKey {}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionKey(sid {})", self.sid())
    }
}

/// The public handle of a session: 16 lowercase hex characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid([u8; SID_BYTES]);

impl Sid {
    /// Reads a sid as typed by an admin or sent by a peer replica: exactly 16 lowercase hex
    /// characters.
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let bytes = text.as_bytes();
        if bytes.len() != SID_BYTES * 2 {
            return Err(IdError::WrongLength {
                found: bytes.len(),
                expected: SID_BYTES * 2,
            });
        }
        let mut sid = [0u8; SID_BYTES];
        for (out, pair) in sid.iter_mut().zip(bytes.chunks_exact(2)) {
            *out = (hex_value(pair[0])? << 4) | hex_value(pair[1])?;
        }
        Ok(Self(sid))
    }
}

fn hex_value(c: u8) -> Result<u8, IdError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(IdError::BadAlphabet),
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_roundtrip_through_the_cookie_value() {
        let id = SessionId::generate().unwrap();
        let text = id.to_cookie_value();
        assert_eq!(text.len(), 43);
        assert!(
            text.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        let back = SessionId::parse(&text).unwrap();
        assert_eq!(back.key(), id.key());
    }

    #[test]
    fn two_ids_differ() {
        let a = SessionId::generate().unwrap();
        let b = SessionId::generate().unwrap();
        assert_ne!(a.to_cookie_value(), b.to_cookie_value());
        assert_ne!(a.key(), b.key());
    }

    #[test]
    fn parse_rejects_wrong_length() {
        let good = SessionId::generate().unwrap().to_cookie_value();
        for bad in ["", &good[..42], &format!("{good}A"), &good.repeat(100)] {
            assert!(
                matches!(SessionId::parse(bad), Err(IdError::WrongLength { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn parse_rejects_wrong_alphabet_and_padding() {
        let good = SessionId::generate().unwrap().to_cookie_value();
        for c in ['+', '/', '=', ' ', '.', '\0'] {
            let bad = format!("{}{c}", &good[..42]);
            assert_eq!(
                SessionId::parse(&bad).unwrap_err(),
                IdError::BadAlphabet,
                "{bad:?}"
            );
        }
        let multibyte = format!("{}é", &good[..41]);
        assert_eq!(multibyte.len(), 43);
        assert!(SessionId::parse(&multibyte).is_err());
    }

    #[test]
    fn parse_rejects_non_canonical_trailing_bits() {
        // 256 bits fill the 43rd character's top 4 bits only: "A" is canonical, "B" is not.
        let good = SessionId::generate().unwrap().to_cookie_value();
        let canonical = format!("{}A", &good[..42]);
        let sloppy = format!("{}B", &good[..42]);
        assert!(SessionId::parse(&canonical).is_ok());
        assert_eq!(SessionId::parse(&sloppy).unwrap_err(), IdError::BadAlphabet);
    }

    #[test]
    fn debug_hides_the_id() {
        let id = SessionId::generate().unwrap();
        let shown = format!("{id:?} {:?}", id.key());
        assert!(!shown.contains(&id.to_cookie_value()));
        assert!(!shown.contains(&id.to_cookie_value()[..8]));
        assert!(shown.contains("***"));
    }

    #[test]
    fn the_key_is_sha256_of_the_id_and_names_the_sid() {
        let id = SessionId::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
        // SHA-256 of 32 zero bytes.
        assert_eq!(id.key().sid().to_string(), "66687aadf862bd77");
        assert_eq!(
            SessionKey::from_bytes(id.key().as_bytes()).unwrap(),
            id.key()
        );
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics_and_accepts_only_its_own_encoding(text in "\\PC{0,64}") {
            if let Ok(id) = SessionId::parse(&text) {
                proptest::prop_assert_eq!(id.to_cookie_value(), text);
            }
        }

        #[test]
        fn any_32_bytes_roundtrip(bytes in proptest::array::uniform32(proptest::num::u8::ANY)) {
            let id = SessionId(bytes);
            let back = SessionId::parse(&id.to_cookie_value()).unwrap();
            proptest::prop_assert_eq!(back.0, bytes);
        }

        #[test]
        fn sid_parse_never_panics(text in "\\PC{0,20}") {
            if let Ok(sid) = Sid::parse(&text) {
                proptest::prop_assert_eq!(sid.to_string(), text);
            }
        }
    }

    #[test]
    fn sids_roundtrip_and_parse_strictly() {
        let sid = SessionId::generate().unwrap().key().sid();
        assert_eq!(Sid::parse(&sid.to_string()).unwrap(), sid);
        assert!(Sid::parse("66687AADF862BD77").is_err());
        assert!(Sid::parse("66687aadf862bd7").is_err());
        assert!(Sid::parse("66687aadf862bd7g").is_err());
        assert!(Sid::parse("").is_err());
    }
}
