//! Access token claims (RFC 9068, JWT profile; the signer sets `typ: at+jwt`).

use serde::{Deserialize, Serialize};

use super::Issue;
use super::subject::subject_for;
use super::{JTI_BYTES, jti};
use crate::clients::Client;
use crate::code::Authentication;
use crate::error::{ErrorCode, ProtocolError};
use crate::scope::{Scope, Scopes};

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// This provider.
    pub iss: String,
    /// The person (as the client sees them), or the client itself for client_credentials.
    pub sub: String,
    /// The client the token was issued to.
    pub aud: String,
    /// Expiry (Unix seconds).
    pub exp: u64,
    /// Issue time (Unix seconds).
    pub iat: u64,
    /// Unique token id, for revocation lists.
    pub jti: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// Granted scopes, space-separated.
    pub scope: Scopes,
    /// When the person entered credentials (absent for client_credentials).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub auth_time: Option<u64>,
    /// The SSO session (absent for client_credentials), so a logout can revoke its tokens.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sid: Option<String>,
}

/// An access token for a person, issued to `client`.
pub fn access_token_claims(
    at: Issue<'_>,
    client: &Client,
    auth: &Authentication,
    scopes: Scopes,
    jti_bytes: [u8; JTI_BYTES],
) -> AccessTokenClaims {
    AccessTokenClaims {
        iss: at.issuer.to_owned(),
        sub: subject_for(client, &auth.subject, at.salt),
        aud: client.id.clone(),
        exp: at.now.saturating_add(client.lifetimes.access_token),
        iat: at.now,
        jti: jti(jti_bytes),
        client_id: client.id.clone(),
        scope: scopes,
        auth_time: Some(auth.auth_time),
        sid: Some(auth.sid.clone()),
    }
}

/// An access token for a service client acting for itself (RFC 9068 §2.2: `sub` is the
/// client).
pub fn service_token_claims(
    at: Issue<'_>,
    client: &Client,
    scopes: Scopes,
    jti_bytes: [u8; JTI_BYTES],
) -> AccessTokenClaims {
    AccessTokenClaims {
        iss: at.issuer.to_owned(),
        sub: client.id.clone(),
        aud: client.id.clone(),
        exp: at.now.saturating_add(client.lifetimes.access_token),
        iat: at.now,
        jti: jti(jti_bytes),
        client_id: client.id.clone(),
        scope: scopes,
        auth_time: None,
        sid: None,
    }
}

impl AccessTokenClaims {
    /// Checks a bearer token whose signature the gateway verified, for a resource that
    /// needs `required` (userinfo needs `openid`). `revoked` says whether its `jti` or `sid`
    /// is on the revocation list.
    pub fn check_bearer(
        &self,
        issuer: &str,
        required: Scope,
        revoked: bool,
        now: u64,
    ) -> Result<(), ProtocolError> {
        let invalid = |d: &str| Err(ProtocolError::new(ErrorCode::InvalidToken, d));
        if self.iss != issuer {
            return invalid("the token was not issued by this provider");
        }
        if now >= self.exp {
            return invalid("the token has expired");
        }
        if revoked {
            return invalid("the token was revoked");
        }
        if !self.scope.contains(required) {
            return Err(ProtocolError::new(
                ErrorCode::InsufficientScope,
                format!("the token lacks the {} scope", required.as_str()),
            ));
        }
        Ok(())
    }
}
