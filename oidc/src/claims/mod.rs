//! Claims of every token and response this provider issues, as serde structs.
//!
//! The gateway signs them with `pforte-keys` (ID, access and logout tokens) or writes them
//! as JSON (userinfo, introspection). What a client learns about a person follows its
//! granted scopes: `profile` gives names, `email` the address, `groups` the group names.

mod access_token;
mod id_token;
mod introspection;
mod logout_token;
mod person;
mod subject;

pub use access_token::{
    AccessTokenClaims, Actor, Exchanged, access_token_claims, exchanged_token_claims,
    service_token_claims,
};
pub use id_token::{IdTokenClaims, at_hash, id_token_claims};
pub use introspection::Introspection;
pub use logout_token::{BACKCHANNEL_LOGOUT_EVENT, LogoutTokenClaims, logout_token_claims};
pub use person::{Person, ProfileClaims, UserinfoClaims, userinfo_claims};
pub use subject::{PairwiseSalt, subject_for};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Bytes of randomness in a `jti`.
pub const JTI_BYTES: usize = 16;

/// What every issued token shares: who issues it, the pairwise salt, and the time.
#[derive(Debug, Clone, Copy)]
pub struct Issue<'a> {
    /// This provider's issuer identifier (`iss`).
    pub issuer: &'a str,
    /// The salt of pairwise subjects.
    pub salt: &'a PairwiseSalt,
    /// Now (Unix seconds).
    pub now: u64,
}

/// A token id from fresh random bytes.
fn jti(bytes: [u8; JTI_BYTES]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests;
