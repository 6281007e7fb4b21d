//! Client secrets that verified once in this load of `clients.toml`, remembered as SHA-256
//! digests: argon2id is slow on purpose, so a busy service client pays it once, while a wrong
//! secret always pays it in full (it is never remembered) and guessing stays slow.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use aws_lc_rs::digest::{SHA256, digest};
use subtle::ConstantTimeEq;

/// Secrets that verified in this load, by client id.
#[derive(Default)]
pub struct VerifiedSecrets {
    digests: RwLock<HashMap<String, [u8; 32]>>,
}

impl VerifiedSecrets {
    /// Whether `secret` is the one that verified for `client_id` in this load (constant time).
    pub fn knows(&self, client_id: &str, secret: &str) -> bool {
        let presented = fingerprint(client_id, secret);
        self.digests
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(client_id)
            .is_some_and(|known| bool::from(known.ct_eq(&presented)))
    }

    /// Remembers that `secret` verified for `client_id`, as its digest.
    pub fn remember(&self, client_id: &str, secret: &str) {
        self.digests
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(client_id.to_owned(), fingerprint(client_id, secret));
    }
}

fn fingerprint(client_id: &str, secret: &str) -> [u8; 32] {
    let mut input = Vec::with_capacity(client_id.len() + secret.len() + 1);
    input.extend_from_slice(client_id.as_bytes());
    input.push(0);
    input.extend_from_slice(secret.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, &input).as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_secret_is_known_only_for_its_client() {
        let secrets = VerifiedSecrets::default();
        assert!(!secrets.knows("docs", "s3cret"));
        secrets.remember("docs", "s3cret");
        assert!(secrets.knows("docs", "s3cret"));
        assert!(!secrets.knows("docs", "s3cret2"));
        assert!(!secrets.knows("mail", "s3cret"));
    }

    #[test]
    fn id_and_secret_cannot_be_shifted_into_each_other() {
        assert_ne!(fingerprint("ab", "c"), fingerprint("a", "bc"));
    }
}
