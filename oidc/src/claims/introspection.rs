//! The introspection response (RFC 7662 §2.2).

use serde::Serialize;

use super::access_token::{AccessTokenClaims, Actor};
use crate::refresh::RefreshFamily;
use crate::scope::Scopes;

/// What the introspection endpoint answers. An unknown, expired or revoked token is just
/// `{"active": false}`: nothing more may be said about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Introspection {
    /// Whether the token may be used now.
    pub active: bool,
    /// Granted scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scopes>,
    /// The client the token was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `Bearer` for access tokens; absent for refresh tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// Expiry (Unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    /// Issue time (Unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Audience.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Token id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Who acts for the person, for a token from a token exchange (RFC 8693 §4.1; RFC 7662
    /// §2.2 lets the answer carry such claims of the token), so the API sees the actor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
}

impl Introspection {
    /// The answer for a token that is not (or no longer) valid.
    pub fn inactive() -> Self {
        Self {
            active: false,
            scope: None,
            client_id: None,
            token_type: None,
            exp: None,
            iat: None,
            sub: None,
            aud: None,
            iss: None,
            jti: None,
            act: None,
        }
    }

    /// The answer for an access token whose signature the gateway verified; `revoked` says
    /// whether its `jti` or `sid` is on the revocation list.
    pub fn access_token(claims: &AccessTokenClaims, revoked: bool, now: u64) -> Self {
        if revoked || now >= claims.exp {
            return Self::inactive();
        }
        Self {
            active: true,
            scope: Some(claims.scope),
            client_id: Some(claims.client_id.clone()),
            token_type: Some("Bearer"),
            exp: Some(claims.exp),
            iat: Some(claims.iat),
            sub: Some(claims.sub.clone()),
            aud: Some(claims.aud.clone()),
            iss: Some(claims.iss.clone()),
            jti: Some(claims.jti.clone()),
            act: claims.act.clone(),
        }
    }

    /// The answer for a refresh token whose family is `family` (if it was found) and is
    /// the current token of it (`current`); `sub` is the subject the client sees.
    pub fn refresh_token(
        family: Option<&RefreshFamily>,
        current: bool,
        sub: &str,
        now: u64,
    ) -> Self {
        match family {
            Some(f) if current && !f.revoked && now < f.expires_at => Self {
                active: true,
                scope: Some(f.scopes),
                client_id: Some(f.client_id.clone()),
                exp: Some(f.expires_at),
                sub: Some(sub.to_owned()),
                ..Self::inactive()
            },
            _ => Self::inactive(),
        }
    }
}
