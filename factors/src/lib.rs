//! A person's second factors, without HTTP, sessions or directories: what the login host needs
//! to enrol and check them, and how they are kept at rest.
//!
//! ```text
//! seal       AES-256-GCM with a key that is not in the directory: every stored value is sealed,
//!            bound to its person and kind, so a directory dump yields no working secret and a
//!            directory writer cannot plant a factor
//! totp       RFC 6238 codes (totp-rs) with the step a code was accepted in, for the replay guard
//! recovery   ten single-use codes, kept as slow hashes
//! passkey    WebAuthn ceremonies (webauthn-rs), their state serialisable for the session store
//! ```
//!
//! The directory keeps the sealed values as opaque text (`pforte_directory::FactorKind`); the
//! session store keeps what is short-lived (the last accepted TOTP step, ceremony state).

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod passkey;
pub mod recovery;
pub mod seal;
pub mod totp;
