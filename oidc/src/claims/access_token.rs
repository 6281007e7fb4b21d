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
    /// Who acts for the person: present only on a token from a token exchange (RFC 8693 §4.1).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub act: Option<Actor>,
}

/// The `act` claim (RFC 8693 §4.1): the client that exchanged a person's token, and inside it
/// whoever acted before it, so the API at the end of a chain sees every hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The acting client's `client_id`.
    pub sub: String,
    /// The actor before this one, when the exchanged token came from an exchange itself.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub act: Option<Box<Actor>>,
}

impl Actor {
    /// How many actors the chain names, this one included.
    pub fn depth(&self) -> usize {
        1 + self.act.as_ref().map_or(0, |prior| prior.depth())
    }
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
        act: None,
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
        act: None,
    }
}

/// A token exchange that passed every check of `token::exchange`: who asks, for whom, and what.
#[derive(Debug, Clone, Copy)]
pub struct Exchanged<'a> {
    /// The client that exchanges the token (the actor).
    pub actor: &'a Client,
    /// The client whose API the new token is for.
    pub target: &'a Client,
    /// The claims of the presented subject token.
    pub subject: &'a AccessTokenClaims,
    /// The person's directory id, from the live session the subject token's `sid` names.
    pub person: &'a str,
    /// The scopes of the new token.
    pub scopes: Scopes,
}

/// An access token for the target's API, for the person of the subject token (RFC 8693
/// §2.2.1): `sub` as the target sees the person (pairwise subjects differ per client), the
/// same `sid` and `auth_time`, so a logout ends it like the token it came from; `act` names
/// the actor and keeps the subject token's own `act` inside (§4.1); and it lives no longer
/// than the subject token, so an exchange never extends a grant.
pub fn exchanged_token_claims(
    at: Issue<'_>,
    exchanged: &Exchanged<'_>,
    jti_bytes: [u8; JTI_BYTES],
) -> AccessTokenClaims {
    let Exchanged {
        actor,
        target,
        subject,
        person,
        scopes,
    } = *exchanged;
    AccessTokenClaims {
        iss: at.issuer.to_owned(),
        sub: subject_for(target, person, at.salt),
        aud: target.id.clone(),
        exp: (at.now.saturating_add(target.lifetimes.access_token)).min(subject.exp),
        iat: at.now,
        jti: jti(jti_bytes),
        client_id: target.id.clone(),
        scope: scopes,
        auth_time: subject.auth_time,
        sid: subject.sid.clone(),
        act: Some(Actor {
            sub: actor.id.clone(),
            act: subject.act.clone().map(Box::new),
        }),
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
