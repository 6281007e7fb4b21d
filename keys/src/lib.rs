//! Pforte's signing keys: one directory shared by every replica, rotated
//! without breaking a client, published as a JWKS and used to sign and
//! verify JWTs (ID, access, logout tokens and identity assertions for apps).
//!
//! # The key directory
//!
//! ```text
//! keys/
//!   .lock                       writers lock it exclusively, readers shared
//!   Xq3v...Jw.pem               private key, PKCS#8 PEM ("BEGIN PRIVATE KEY")
//!   Xq3v...Jw.toml              its metadata
//! ```
//!
//! A kid is 128 random bits in URL-safe base64. Metadata (timestamps in unix seconds):
//!
//! ```toml
//! alg = "ES256"        # ES256 (default) | RS256 (2048 or 3072 bits) | EdDSA (Ed25519)
//! state = "active"     # next | active | retired
//! created = 1795000000
//! activated = 1795000000   # once it has signed
//! retired = 1795600000     # required for retired keys
//! ```
//!
//! # Life of a key
//!
//! ```text
//! generate ──▶ next ──rotate──▶ active ──rotate──▶ retired ──(retire_after)──▶ out of the JWKS ──prune──▶ deleted
//!   (the first key, or any key made while none is active, starts active)
//! ```
//!
//! The JWKS publishes the active key, the next one (so clients have it cached
//! before it signs) and retired keys for `retire_after` (so tokens signed
//! before a rotation verify until they expire). Exactly one key is active;
//! [`KeyDir::load`] refuses anything else.
//!
//! # Consistency
//!
//! Each file is replaced atomically and durably (temporary file in the same
//! directory, fsync, rename, fsync of the directory). A change that spans files
//! (a rotation) runs under an exclusive lock on `.lock` and readers take a
//! shared one, so a replica reloading during a rotation sees the directory
//! before or after it. A read-only mount without `.lock`, such as a Kubernetes
//! Secret (swapped atomically by the kubelet), is read without locking.
//!
//! # On the request path
//!
//! [`KeyDir::load`] builds an immutable [`KeySet`], which the gateway swaps
//! atomically on reload. [`KeySet::sign`] and [`KeySet::verify`] use
//! `jsonwebtoken` (aws-lc-rs backend); [`KeySet::oidc_signer`] lends the
//! active key to `openidconnect` for ID tokens. Time always comes in as `now`.

mod alg;
mod dir;
mod error;
mod fsio;
mod jwt;
mod key;
mod keyset;
mod meta;
mod oidc;

pub use alg::{Alg, KeySpec, UnknownAlg};
pub use dir::{DEFAULT_RETIRE_AFTER, KeyDir, KeyInfo, Rotation};
pub use error::{KeyError, TokenError};
pub use jwt::VerifyOptions;
pub use key::PublishedKey;
pub use keyset::KeySet;
pub use meta::KeyState;
pub use oidc::OidcSigner;
