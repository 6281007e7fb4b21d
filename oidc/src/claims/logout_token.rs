//! Logout token claims (OIDC Back-Channel Logout 1.0 §2.4).

use std::collections::BTreeMap;

use serde::Serialize;

use super::Issue;
use super::subject::subject_for;
use super::{JTI_BYTES, jti};
use crate::clients::Client;
use crate::code::Authentication;

/// The event that marks a JWT as a logout token.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How long a logout token is valid, in seconds: long enough for a slow client, short
/// enough not to be replayable later.
const LOGOUT_TOKEN_LIFETIME: u64 = 120;

/// An empty JSON object, the value of the logout event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmptyObject {}

/// The claims of a logout token. It never carries a `nonce` (the spec forbids it, so it
/// cannot pass for an ID token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogoutTokenClaims {
    /// This provider.
    pub iss: String,
    /// The client being told.
    pub aud: String,
    /// Issue time (Unix seconds).
    pub iat: u64,
    /// Expiry (Unix seconds).
    pub exp: u64,
    /// Unique id, so a client can refuse replays.
    pub jti: String,
    /// `{"http://schemas.openid.net/event/backchannel-logout": {}}`.
    pub events: BTreeMap<&'static str, EmptyObject>,
    /// The ended SSO session.
    pub sid: String,
    /// The person, as this client sees them.
    pub sub: String,
}

/// The logout token telling `client` that the session of `auth` has ended.
pub fn logout_token_claims(
    at: Issue<'_>,
    client: &Client,
    auth: &Authentication,
    jti_bytes: [u8; JTI_BYTES],
) -> LogoutTokenClaims {
    LogoutTokenClaims {
        iss: at.issuer.to_owned(),
        aud: client.id.clone(),
        iat: at.now,
        exp: at.now.saturating_add(LOGOUT_TOKEN_LIFETIME),
        jti: jti(jti_bytes),
        events: BTreeMap::from([(BACKCHANNEL_LOGOUT_EVENT, EmptyObject {})]),
        sid: auth.sid.clone(),
        sub: subject_for(client, &auth.subject, at.salt),
    }
}
