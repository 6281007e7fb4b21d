//! The authorization code record: what a code stands for while it waits to be exchanged.
//!
//! The gateway stores it under the code's digest for [`CODE_LIFETIME`] seconds and takes it
//! atomically (single use); the token endpoint checks it with
//! [`crate::token::exchange_code`].

use pforte_policy::{AuthMethod, LoginStrength};
use serde::{Deserialize, Serialize};

use crate::authorize::AuthorizationRequest;
use crate::pkce::CodeChallenge;
use crate::scope::Scopes;

/// How long a code may wait to be exchanged, in seconds.
pub const CODE_LIFETIME: u64 = 60;

/// Who logged in, and how: carried from the session into codes, refresh families and
/// ID tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authentication {
    /// The SSO session id (`sid`), for logout.
    pub sid: String,
    /// The directory's stable id of the person (entryUUID), before pairwise mapping.
    pub subject: String,
    /// When the person entered credentials (Unix seconds).
    pub auth_time: u64,
    /// How strongly they did (gives `acr`).
    pub login: LoginStrength,
    /// The factors used, in order (give `amr`). Empty in records written before Pforte kept
    /// them (a code or refresh family from the previous version), which read as a password.
    #[serde(default)]
    pub methods: Vec<AuthMethod>,
}

/// What an issued code stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationCode {
    /// The client the code was issued to; no other client may exchange it.
    pub client_id: String,
    /// The redirect URI the code was sent to.
    pub redirect_uri: String,
    /// Whether the authorization request named the redirect URI (then the token request
    /// must repeat it, RFC 6749 §4.1.3).
    pub redirect_uri_sent: bool,
    /// Granted scopes.
    pub scopes: Scopes,
    /// The client's nonce, for the ID token.
    pub nonce: Option<String>,
    /// The PKCE challenge the verifier must match.
    pub code_challenge: Option<CodeChallenge>,
    /// The person and their login.
    pub authentication: Authentication,
    /// When the code stops being valid (Unix seconds).
    pub expires_at: u64,
}

impl AuthorizationCode {
    /// The record for a code issued now for `request` to the person of `authentication`.
    pub fn issue(request: &AuthorizationRequest, authentication: Authentication, now: u64) -> Self {
        Self {
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            redirect_uri_sent: request.redirect_uri_sent,
            scopes: request.scopes,
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.clone(),
            authentication,
            expires_at: now.saturating_add(CODE_LIFETIME),
        }
    }
}
