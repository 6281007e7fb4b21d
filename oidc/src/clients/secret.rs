//! Client secrets: stored only as argon2id PHC hashes, checked with argon2's own verifier.
//!
//! argon2 compares its outputs in constant time, so a wrong secret takes as long as a right
//! one. For an unknown client id the check runs against a stand-in hash (a registered
//! client's), so that the answer time does not tell which client ids exist.

use std::fmt;

use argon2::{ARGON2ID_IDENT, Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

/// A client secret's argon2id hash, parsed and checked at load time.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash(PasswordHash);

impl SecretHash {
    /// Parses a PHC string; only argon2id hashes are accepted.
    pub fn parse(phc: &str) -> Result<Self, String> {
        let hash = PasswordHash::new(phc).map_err(|e| {
            format!("secret_hash is not a PHC string ({e}); write an argon2id hash ($argon2id$v=19$...), never the secret itself")
        })?;
        if hash.algorithm != ARGON2ID_IDENT {
            return Err(format!(
                "secret_hash uses {}; only argon2id hashes are accepted",
                hash.algorithm
            ));
        }
        if hash.salt.is_none() || hash.hash.is_none() {
            return Err("secret_hash lacks its salt or hash part".to_owned());
        }
        Ok(Self(hash))
    }

    /// Hashes a new client secret with argon2id's default parameters, for the admin CLI
    /// that writes `secret_hash`; `salt` comes from the system CSPRNG.
    pub fn create(secret: &str, salt: [u8; 16]) -> Result<String, argon2::password_hash::Error> {
        Argon2::default()
            .hash_password_with_salt(secret.as_bytes(), &salt)
            .map(|hash| hash.to_string())
    }

    /// Whether `secret` is the one this hash was made from (constant time by construction).
    pub fn verify(&self, secret: &str) -> bool {
        Argon2::default()
            .verify_password(secret.as_bytes(), &self.0)
            .is_ok()
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(argon2id, redacted)")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use argon2::{Algorithm, Params, PasswordHasher, Version};

    /// A cheap argon2id hash of `secret`, for tests (the PHC string carries the parameters).
    pub(crate) fn cheap_hash(secret: &str) -> String {
        let params = Params::new(256, 1, 1, None).unwrap();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_with_salt(secret.as_bytes(), b"pforte-test-salt")
            .unwrap()
            .to_string()
    }

    #[test]
    fn verifies_the_right_secret_only() {
        let hash = SecretHash::parse(&cheap_hash("s3cret")).unwrap();
        assert!(hash.verify("s3cret"));
        assert!(!hash.verify("s3cret "));
        assert!(!hash.verify(""));
    }

    #[test]
    fn created_hashes_load_and_verify() {
        let phc = SecretHash::create("s3cret", [3; 16]).unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(SecretHash::parse(&phc).unwrap().verify("s3cret"));
    }

    #[test]
    fn refuses_plain_secrets_and_other_algorithms() {
        assert!(SecretHash::parse("s3cret").is_err());
        let argon2i = cheap_hash("x").replace("$argon2id$", "$argon2i$");
        assert!(
            SecretHash::parse(&argon2i)
                .unwrap_err()
                .contains("argon2id")
        );
    }

    #[test]
    fn debug_does_not_show_the_hash() {
        let phc = cheap_hash("s3cret");
        let shown = format!("{:?}", SecretHash::parse(&phc).unwrap());
        assert!(!shown.contains("argon2id$"));
    }
}
