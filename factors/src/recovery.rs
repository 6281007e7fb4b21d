//! Recovery codes: ten single-use codes for when the phone or key is lost, shown once and kept
//! only as slow hashes (argon2id).
//!
//! A code is 16 characters of Crockford's base32 alphabet (no I, L, O or U, so nothing is
//! misread), shown in four groups: `7KQ2-M9XD-4TNB-HC3W`. The first group names the code, so
//! checking one costs one hash, not ten; the 60 bits after it are the secret. Typing is
//! forgiving: case, spaces and dashes do not matter, and `I`/`L` read as 1, `O` as 0.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use serde::{Deserialize, Serialize};

/// How many codes a set has.
pub const SET_SIZE: usize = 10;
/// Characters per code, without dashes.
const CODE_CHARS: usize = 16;
/// Characters of the naming first group.
const ID_CHARS: usize = 4;
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Why codes could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryError {
    /// The system's random generator failed.
    #[error("no random code could be made")]
    Random,
    /// Hashing failed.
    #[error("a recovery code could not be hashed: {0}")]
    Hash(String),
}

/// A recovery code as it is kept (sealed) in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRecoveryCode {
    /// The code's first group, in clear inside the seal: which hash to check.
    pub id: String,
    /// argon2id PHC string of the whole code.
    pub hash: String,
    /// When the set was made (unix seconds).
    pub created: u64,
}

/// A new code: the text shown once, and what is kept.
#[derive(Debug, Clone)]
pub struct NewRecoveryCode {
    /// The code as shown, in groups of four.
    pub shown: String,
    /// What the directory keeps.
    pub stored: StoredRecoveryCode,
}

/// A code as typed, put in its canonical form; `None` when it cannot be a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedCode {
    id: String,
    whole: String,
}

impl TypedCode {
    /// Reads what a person typed.
    pub fn parse(input: &str) -> Option<Self> {
        if input.len() > 64 {
            return None;
        }
        let mut whole = String::with_capacity(CODE_CHARS);
        for c in input.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' => continue,
                'I' | 'L' => '1',
                'O' => '0',
                c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
                _ => return None,
            };
            whole.push(c);
        }
        if whole.len() != CODE_CHARS {
            return None;
        }
        Some(Self {
            id: whole[..ID_CHARS].to_owned(),
            whole,
        })
    }

    /// The naming first group: compare it with [`StoredRecoveryCode::id`] before hashing.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether this is the code `stored` was made from (argon2 compares in constant time).
    /// Slow on purpose: run it where slow hashes run.
    pub fn matches(&self, stored: &StoredRecoveryCode) -> bool {
        stored.id == self.id
            && PasswordHash::new(&stored.hash).is_ok_and(|hash| {
                Argon2::default()
                    .verify_password(self.whole.as_bytes(), &hash)
                    .is_ok()
            })
    }
}

/// A new set of [`SET_SIZE`] codes with distinct ids. Slow on purpose (ten hashes).
pub fn generate_set(now_unix: u64) -> Result<Vec<NewRecoveryCode>, RecoveryError> {
    let mut set: Vec<NewRecoveryCode> = Vec::with_capacity(SET_SIZE);
    while set.len() < SET_SIZE {
        let whole = random_code()?;
        let id = whole[..ID_CHARS].to_owned();
        if set.iter().any(|c| c.stored.id == id) {
            continue;
        }
        let hash = Argon2::default()
            .hash_password(whole.as_bytes())
            .map_err(|e| RecoveryError::Hash(e.to_string()))?
            .to_string();
        let shown = whole
            .as_bytes()
            .chunks(4)
            .map(|g| String::from_utf8_lossy(g).into_owned())
            .collect::<Vec<_>>()
            .join("-");
        set.push(NewRecoveryCode {
            shown,
            stored: StoredRecoveryCode {
                id,
                hash,
                created: now_unix,
            },
        });
    }
    Ok(set)
}

fn random_code() -> Result<String, RecoveryError> {
    let mut bytes = [0u8; CODE_CHARS];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| RecoveryError::Random)?;
    // 32 divides 256: taking the low five bits of a uniform byte is uniform.
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_has_ten_distinct_codes_that_match_only_themselves() {
        let set = generate_set(7).unwrap();
        assert_eq!(set.len(), SET_SIZE);
        let mut ids: Vec<_> = set.iter().map(|c| c.stored.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), SET_SIZE);
        let first = &set[0];
        assert_eq!(first.shown.len(), 19);
        assert!(!first.stored.hash.contains(&first.shown.replace('-', "")));
        let typed = TypedCode::parse(&first.shown.to_lowercase()).unwrap();
        assert!(typed.matches(&first.stored));
        assert!(!typed.matches(&set[1].stored));
    }

    #[test]
    fn typing_is_forgiving_about_case_spaces_and_look_alikes() {
        let a = TypedCode::parse("1000-0000-0000-0000").unwrap();
        assert_eq!(TypedCode::parse("i0o0 0000 0000 0000").unwrap(), a);
        assert_eq!(TypedCode::parse("l000000000000000").unwrap(), a);
        assert_eq!(a.id(), "1000");
    }

    #[test]
    fn what_cannot_be_a_code_is_refused() {
        for bad in [
            "",
            "1234",
            "1000-0000-0000-000U",
            "1000-0000-0000-00000",
            "ä000-0000-0000-0000",
            &"0".repeat(65),
        ] {
            assert!(TypedCode::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_damaged_hash_matches_nothing() {
        let typed = TypedCode::parse("1000-0000-0000-0000").unwrap();
        let stored = StoredRecoveryCode {
            id: "1000".into(),
            hash: "not a hash".into(),
            created: 0,
        };
        assert!(!typed.matches(&stored));
    }
}
