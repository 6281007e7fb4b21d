//! Sealing second-factor data at rest: AES-256-GCM (aws-lc-rs) with a key the gateway reads
//! from its own secret files, never from the directory.
//!
//! A sealed value is text the directory can keep in any string attribute:
//!
//! ```text
//! v1.<key id: 8 hex digits>.<base64url(nonce ‖ ciphertext ‖ tag)>
//! ```
//!
//! The associated data binds a value to its person and its kind (`kind \0 subject`), so a value
//! copied to another person or another attribute does not open, and someone who may only write
//! to the directory cannot plant a factor they know: they cannot seal. The key id names which
//! key sealed a value, so a new key can be brought in while the old one still opens what it
//! sealed ([`Sealer::with_previous`]).

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The version prefix of the sealed form.
const VERSION: &str = "v1";

/// How many bytes a sealing key has (AES-256).
pub const KEY_BYTES: usize = 32;

/// Why a key could not be made or a value could not be sealed or opened. Opening failures say
/// nothing about the content: a tampered value, one sealed for someone else and one sealed with
/// an unknown key all look alike to a caller, apart from the key id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The key text is not 32 bytes in base64 (standard or URL-safe) or 64 hex digits.
    #[error("a sealing key must be 32 bytes, written as 64 hex digits or in base64")]
    BadKey,
    /// The value does not have the sealed form.
    #[error("not a sealed value")]
    Malformed,
    /// No key with this id is configured (the value was sealed with a key since removed).
    #[error("sealed with key {0}, which is not configured")]
    UnknownKey(String),
    /// The value does not open with its key: tampered with, or sealed for another person or kind.
    #[error("the sealed value does not open (tampered with, or not this person's)")]
    Tampered,
    /// The system's random generator or the cipher failed.
    #[error("sealing failed")]
    Crypto,
}

/// One sealing key and the id that names it in sealed values.
struct SealKey {
    id: String,
    key: RandomizedNonceKey,
}

impl SealKey {
    fn new(bytes: &[u8; KEY_BYTES]) -> Result<Self, SealError> {
        let hash = digest(&SHA256, bytes);
        let id = hash.as_ref()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let key = RandomizedNonceKey::new(&AES_256_GCM, bytes).map_err(|_| SealError::BadKey)?;
        Ok(Self { id, key })
    }
}

/// Seals with the current key and opens with the current or any previous one.
pub struct Sealer {
    current: SealKey,
    previous: Vec<SealKey>,
}

impl std::fmt::Debug for Sealer {
    /// Names the key ids only: a key never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("current", &self.current.id)
            .field(
                "previous",
                &self.previous.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// What a sealed value is for: part of the associated data, so kinds never mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A TOTP secret.
    Totp,
    /// A passkey or security key.
    Passkey,
    /// A recovery code's hash.
    RecoveryCode,
    /// A TOTP secret shown for enrolment and waiting for its confirming code.
    Enrolment,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Passkey => "passkey",
            Self::RecoveryCode => "recovery",
            Self::Enrolment => "enrolment",
        }
    }
}

impl Sealer {
    /// A sealer with one key, read from its text form (see [`parse_key`]).
    pub fn new(key: &str) -> Result<Self, SealError> {
        Ok(Self {
            current: SealKey::new(&parse_key(key)?)?,
            previous: Vec::new(),
        })
    }

    /// Adds keys that still open what they sealed but seal nothing new: for changing the key
    /// without making every enrolled factor unreadable at once.
    pub fn with_previous<'k>(
        mut self,
        keys: impl IntoIterator<Item = &'k str>,
    ) -> Result<Self, SealError> {
        for key in keys {
            self.previous.push(SealKey::new(&parse_key(key)?)?);
        }
        Ok(self)
    }

    /// The id of the key new values are sealed with (for logs and `pforte-admin`).
    pub fn key_id(&self) -> &str {
        &self.current.id
    }

    /// Seals `plain` for `subject` and `purpose`.
    pub fn seal(&self, purpose: Purpose, subject: &str, plain: &[u8]) -> Result<String, SealError> {
        let mut in_out = plain.to_vec();
        let nonce = self
            .current
            .key
            .seal_in_place_append_tag(Aad::from(associated(purpose, subject)), &mut in_out)
            .map_err(|_| SealError::Crypto)?;
        let mut blob = Vec::with_capacity(NONCE_LEN + in_out.len());
        blob.extend_from_slice(nonce.as_ref());
        blob.extend_from_slice(&in_out);
        Ok(format!(
            "{VERSION}.{}.{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(blob)
        ))
    }

    /// Opens a value sealed for `subject` and `purpose`.
    pub fn open(
        &self,
        purpose: Purpose,
        subject: &str,
        sealed: &str,
    ) -> Result<Vec<u8>, SealError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(id), Some(data)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(SealError::Malformed);
        };
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| SealError::UnknownKey(id.chars().take(8).collect()))?;
        let mut blob = URL_SAFE_NO_PAD
            .decode(data)
            .map_err(|_| SealError::Malformed)?;
        if blob.len() < NONCE_LEN {
            return Err(SealError::Malformed);
        }
        let mut in_out = blob.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&blob).map_err(|_| SealError::Malformed)?;
        let plain = key
            .key
            .open_in_place(nonce, Aad::from(associated(purpose, subject)), &mut in_out)
            .map_err(|_| SealError::Tampered)?;
        Ok(plain.to_vec())
    }
}

/// The associated data: purpose and subject, separated by a byte neither contains.
fn associated(purpose: Purpose, subject: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(16 + subject.len());
    aad.extend_from_slice(b"pforte-factor\0");
    aad.extend_from_slice(purpose.label().as_bytes());
    aad.push(0);
    aad.extend_from_slice(subject.as_bytes());
    aad
}

/// Reads a key: 64 hex digits, or 32 bytes in base64 (standard or URL-safe, padded or not).
/// Surrounding white space (a trailing newline in a key file) is ignored.
pub fn parse_key(text: &str) -> Result<[u8; KEY_BYTES], SealError> {
    let text = text.trim();
    let bytes = if text.len() == 2 * KEY_BYTES && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..KEY_BYTES)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| SealError::BadKey)?
    } else {
        let unpadded = text.trim_end_matches('=');
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(unpadded)
            .or_else(|_| URL_SAFE_NO_PAD.decode(unpadded))
            .map_err(|_| SealError::BadKey)?
    };
    bytes.try_into().map_err(|_| SealError::BadKey)
}

/// A new random key in its text form (base64), for `pforte-admin` and the demo.
pub fn generate_key() -> Result<String, SealError> {
    let mut key = [0u8; KEY_BYTES];
    aws_lc_rs::rand::fill(&mut key).map_err(|_| SealError::Crypto)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::new(&generate_key().unwrap()).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_for_its_person_and_purpose_only() {
        let s = sealer();
        let sealed = s
            .seal(Purpose::Totp, "uuid-alice", b"JBSWY3DPEHPK3PXP")
            .unwrap();
        assert!(sealed.starts_with(&format!("v1.{}.", s.key_id())));
        assert!(!sealed.contains("JBSWY3DP"));
        assert_eq!(
            s.open(Purpose::Totp, "uuid-alice", &sealed).unwrap(),
            b"JBSWY3DPEHPK3PXP"
        );
        assert_eq!(
            s.open(Purpose::Totp, "uuid-bob", &sealed),
            Err(SealError::Tampered)
        );
        assert_eq!(
            s.open(Purpose::Passkey, "uuid-alice", &sealed),
            Err(SealError::Tampered)
        );
    }

    #[test]
    fn two_seals_of_one_value_differ() {
        let s = sealer();
        assert_ne!(
            s.seal(Purpose::Totp, "a", b"x").unwrap(),
            s.seal(Purpose::Totp, "a", b"x").unwrap()
        );
    }

    #[test]
    fn tampered_and_foreign_values_are_refused_without_panicking() {
        let s = sealer();
        let sealed = s.seal(Purpose::RecoveryCode, "a", b"hash").unwrap();
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 3;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(
            s.open(Purpose::RecoveryCode, "a", &flipped),
            Err(SealError::Tampered)
        );
        let other = sealer().seal(Purpose::RecoveryCode, "a", b"hash").unwrap();
        assert!(matches!(
            s.open(Purpose::RecoveryCode, "a", &other),
            Err(SealError::UnknownKey(_))
        ));
        for bad in ["", "v1", "v1.x", "v2.abcd.AAAA", "v1.zz.!!!", "plain text"] {
            assert!(s.open(Purpose::RecoveryCode, "a", bad).is_err(), "{bad}");
        }
        let short = format!("v1.{}.AAAA", s.key_id());
        assert_eq!(
            s.open(Purpose::RecoveryCode, "a", &short),
            Err(SealError::Malformed)
        );
    }

    #[test]
    fn a_previous_key_still_opens_what_it_sealed() {
        let old_key = generate_key().unwrap();
        let old = Sealer::new(&old_key).unwrap();
        let sealed = old.seal(Purpose::Totp, "a", b"secret").unwrap();
        let new = Sealer::new(&generate_key().unwrap())
            .unwrap()
            .with_previous([old_key.as_str()])
            .unwrap();
        assert_eq!(new.open(Purpose::Totp, "a", &sealed).unwrap(), b"secret");
        assert!(
            new.seal(Purpose::Totp, "a", b"x")
                .unwrap()
                .starts_with(&format!("v1.{}.", new.key_id()))
        );
    }

    #[test]
    fn keys_are_read_as_hex_or_base64_and_nothing_else() {
        let hex = "00".repeat(32);
        assert_eq!(parse_key(&format!("{hex}\n")).unwrap(), [0u8; 32]);
        let b64 = generate_key().unwrap();
        assert!(parse_key(&b64).is_ok());
        assert!(parse_key(b64.trim_end_matches('=')).is_ok());
        for bad in [
            "",
            "00",
            &"0".repeat(63),
            "not a key at all",
            &"A".repeat(40),
        ] {
            assert_eq!(parse_key(bad), Err(SealError::BadKey), "{bad}");
        }
    }
}
