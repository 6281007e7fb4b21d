//! The `sub` a client sees: the directory's stable id, or a pairwise one (OIDC Core §8.1).
//!
//! A pairwise `sub` is the base64url SHA-256 of the client id, the person's id and a
//! provider-wide salt, so two apps cannot match their users by `sub`, and nobody without the
//! salt can map a `sub` back to the person.

use std::fmt;

use aws_lc_rs::digest::{Context, SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::clients::Client;

/// The provider-wide secret salt of pairwise subjects (read from a file by the gateway).
#[derive(Clone)]
pub struct PairwiseSalt(Vec<u8>);

impl PairwiseSalt {
    /// Wraps the salt's bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for PairwiseSalt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PairwiseSalt(<redacted>)")
    }
}

/// The `sub` that `client` sees for the person with directory id `subject`.
pub fn subject_for(client: &Client, subject: &str, salt: &PairwiseSalt) -> String {
    if !client.pairwise_subject {
        return subject.to_owned();
    }
    let mut ctx = Context::new(&SHA256);
    for part in [client.id.as_bytes(), subject.as_bytes(), salt.0.as_slice()] {
        // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    URL_SAFE_NO_PAD.encode(ctx.finish())
}
