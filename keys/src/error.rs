//! Errors of the key directory and of token signing and verification.
//!
//! Directory errors name the file at fault, because the person reading them
//! has to fix that file; token errors never carry token text, because tokens
//! are credentials and errors end up in logs.

use std::path::PathBuf;

/// Why the key directory could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file system refused an operation on `path`.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A metadata file is not valid TOML or has unknown or missing fields.
    #[error("{path}: invalid key metadata: {reason}")]
    Metadata {
        /// The `<kid>.toml` file.
        path: PathBuf,
        /// What the parser or the checks found.
        reason: String,
    },
    /// A metadata file has no private key beside it.
    #[error("{path}: key metadata without its private key (expected {expected})")]
    MissingKey {
        /// The `<kid>.toml` file.
        path: PathBuf,
        /// The `<kid>.pem` file that should exist.
        expected: PathBuf,
    },
    /// A private key file is not a PKCS#8 PEM key of the algorithm its metadata names.
    #[error("{path}: unusable private key: {reason}")]
    BadKey {
        /// The `<kid>.pem` file.
        path: PathBuf,
        /// What went wrong while parsing it.
        reason: String,
    },
    /// No key is in state `active`, so nothing could sign.
    #[error("{dir}: no active key; generate one")]
    NoActiveKey {
        /// The key directory.
        dir: PathBuf,
    },
    /// More than one key claims to be active; replicas would disagree on which signs.
    #[error("{dir}: more than one active key: {kids:?}; retire all but one")]
    SeveralActiveKeys {
        /// The key directory.
        dir: PathBuf,
        /// The kids marked active.
        kids: Vec<String>,
    },
    /// `rotate` needs a published `next` key, else clients would meet a kid they never saw.
    #[error("{dir}: no next key to promote; generate one and wait for JWKS caches to refresh")]
    NoNextKey {
        /// The key directory.
        dir: PathBuf,
    },
    /// A `next` key is already published; rotate or retire it before generating another.
    #[error("key {kid} is already the next key; rotate or retire it first")]
    NextExists {
        /// The existing next kid.
        kid: String,
    },
    /// The only active key cannot be retired: rotate instead so that one stays active.
    #[error("key {kid} is active; rotate to replace it")]
    RetireActive {
        /// The active kid.
        kid: String,
    },
    /// No key with this kid exists in the directory.
    #[error("no key with kid {kid:?}")]
    UnknownKid {
        /// The kid asked for.
        kid: String,
    },
    /// The cryptographic library could not generate or encode a key.
    #[error("key generation failed: {0}")]
    Generate(String),
}

/// Why a token could not be signed or was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token is not a well-formed JWS compact serialisation with a known algorithm.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header names no kid, or one not in the published key set.
    #[error("token signed with an unknown key")]
    UnknownKid,
    /// The header's algorithm differs from the algorithm of the key it names.
    #[error("token algorithm does not match its key")]
    AlgorithmMismatch,
    /// The signature does not verify, or the claims (issuer, audience) are not the expected ones.
    #[error("token rejected: {0}")]
    Rejected(&'static str),
    /// The token has no `exp` claim; Pforte accepts only tokens that end.
    #[error("token has no exp claim")]
    MissingExpiry,
    /// The token's `exp` is in the past (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// The token's `nbf` is in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// The claims to sign could not be serialised.
    #[error("claims cannot be serialised: {0}")]
    Claims(String),
    /// The verified claims do not fit the type the caller expects.
    #[error("claims do not have the expected shape")]
    ClaimsShape,
    /// The signing library failed.
    #[error("signing failed: {0}")]
    Signing(String),
}
