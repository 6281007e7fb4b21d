//! `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693): a service that holds
//! a person's access token gets one for another client's API, acting for the person.
//!
//! ```text
//! Params ─▶ ExchangeRequest::parse ─▶ target_of ─▶ [gateway: signature, typ at+jwt, revocation]
//!           (invalid_request)          (invalid_target)
//!        ─▶ check_subject ─▶ granted_scopes ─▶ [gateway: live session, access rules of both apps]
//!           (invalid_request)  (invalid_scope)
//!        ─▶ exchanged: the new token's claims (sub for the target, same sid, act, capped exp)
//! ```
//!
//! The rules, and why:
//! - the subject token must be an access token this provider issued to the actor itself, for a
//!   person: a client trades only tokens it was given, never one it came across;
//! - the target must be one of the actor's `exchange_audiences` in `clients.toml`;
//! - the new token's scopes lie within the subject token's and the target client's, without
//!   `offline_access` (an exchanged token is never refreshed), and it lives no longer than the
//!   subject token, so an exchange never extends what the person granted;
//! - `actor_token` is not taken: the authenticated client is the actor;
//! - every refusal of the subject token is `invalid_request`, as RFC 8693 §2.2.2 requires, and
//!   names the `subject_token` field.

use crate::claims::{
    AccessTokenClaims, Exchanged, Issue, JTI_BYTES, exchanged_token_claims, subject_for,
};
use crate::clients::{Client, Clients};
use crate::error::{ErrorCode, ProtocolError};
use crate::params::Params;
use crate::scope::{Scope, Scopes};
use crate::token_value::OpaqueToken;

/// The token type of an OAuth access token (RFC 8693 §3): the only type exchanged and issued.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// The most actors one token may name (its `act` and the ones nested in it): a chain of
/// exchanges longer than this is refused rather than growing tokens without bound.
pub const MAX_ACTORS: usize = 4;

/// A token exchange request, parsed (RFC 8693 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeRequest {
    /// The person's access token (kept out of Debug output by [`OpaqueToken`]).
    pub subject_token: OpaqueToken,
    /// The `client_id` of the client whose API the new token is for.
    pub audience: String,
    /// A narrower scope, if asked.
    pub scope: Option<Scopes>,
}

impl ExchangeRequest {
    /// Reads the exchange's own parameters; `scope` was parsed with the request's others.
    pub fn parse(params: &Params, scope: Option<Scopes>) -> Result<Self, ProtocolError> {
        let invalid = |d: &str| Err(ProtocolError::new(ErrorCode::InvalidRequest, d));
        if params.get("actor_token").is_some() || params.get("actor_token_type").is_some() {
            return invalid(
                "actor_token is not supported: the authenticated client is the actor; send \
                 subject_token alone",
            );
        }
        let Some(subject_token) = params.get("subject_token") else {
            return invalid("subject_token is required: the person's access token");
        };
        match params.get("subject_token_type") {
            Some(ACCESS_TOKEN_TYPE) => {}
            Some(_) => {
                return invalid(
                    "subject_token_type must be urn:ietf:params:oauth:token-type:access_token: \
                     only this provider's access tokens are exchanged",
                );
            }
            None => return invalid("subject_token_type is required"),
        }
        if params
            .get("requested_token_type")
            .is_some_and(|t| t != ACCESS_TOKEN_TYPE)
        {
            return invalid(
                "requested_token_type must be urn:ietf:params:oauth:token-type:access_token, the \
                 only type issued",
            );
        }
        if params.get("resource").is_some() {
            return Err(ProtocolError::new(
                ErrorCode::InvalidTarget,
                "resource is not supported: name the target's client id in audience",
            ));
        }
        let Some(audience) = params.get("audience") else {
            return invalid("audience is required: the client id of the API the token is for");
        };
        Ok(Self {
            subject_token: OpaqueToken::presented(subject_token),
            audience: audience.to_owned(),
            scope,
        })
    }
}

/// The target client, if `actor` may exchange tokens for it (its `exchange_audiences` name it).
pub fn target_of<'c>(
    actor: &Client,
    clients: &'c Clients,
    audience: &str,
) -> Result<&'c Client, ProtocolError> {
    match clients.get(audience) {
        Some(target) if actor.may_exchange_for(audience) => Ok(target),
        _ => Err(ProtocolError::new(
            ErrorCode::InvalidTarget,
            "audience is not one of this client's exchange_audiences in clients.toml",
        )),
    }
}

/// A refusal of the subject token: `invalid_request` (RFC 8693 §2.2.2), naming the field.
pub fn subject_refused(why: &str) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidRequest, format!("subject_token {why}"))
}

/// Checks a subject token whose signature and `typ` (`at+jwt`, so no ID token) the gateway
/// verified; `revoked` says whether its `jti` is on the revocation list. Returns the SSO
/// session it came from, which the gateway must find alive.
pub fn check_subject<'s>(
    subject: &'s AccessTokenClaims,
    actor: &Client,
    issuer: &str,
    revoked: bool,
    now: u64,
) -> Result<&'s str, ProtocolError> {
    let refuse = |why: &str| Err(subject_refused(why));
    if subject.iss != issuer {
        return refuse("was not issued by this provider");
    }
    if now >= subject.exp {
        return refuse("has expired");
    }
    if revoked {
        return refuse("was revoked");
    }
    if subject.client_id != actor.id || subject.aud != actor.id {
        return refuse("was issued to another client: a client exchanges only its own tokens");
    }
    let Some(sid) = subject.sid.as_deref() else {
        return refuse("names no person (a client_credentials token is not exchanged)");
    };
    if subject
        .act
        .as_ref()
        .is_some_and(|a| a.depth() >= MAX_ACTORS)
    {
        return refuse("comes from too long a chain of exchanges");
    }
    Ok(sid)
}

/// The scopes of the new token: the requested ones, or by default all the subject token and
/// the target client share; never `offline_access`, since an exchanged token is not refreshed.
pub fn granted_scopes(
    subject: Scopes,
    target: &Client,
    requested: Option<Scopes>,
) -> Result<Scopes, ProtocolError> {
    let allowed = subject
        .iter()
        .filter(|s| target.scopes.contains(*s) && *s != Scope::OfflineAccess)
        .collect::<Scopes>();
    let granted = match requested {
        None => allowed,
        Some(requested) if requested.is_subset_of(allowed) => requested,
        Some(_) => {
            return Err(ProtocolError::new(
                ErrorCode::InvalidScope,
                "scope must lie within the subject token's scopes and the target client's, \
                 without offline_access",
            ));
        }
    };
    if granted.is_empty() {
        return Err(ProtocolError::new(
            ErrorCode::InvalidScope,
            "the subject token and the target client share no scope",
        ));
    }
    Ok(granted)
}

/// The new token's claims, once the gateway found the subject token's session alive and the
/// access rules allow the person both apps. The session's person must be the one the subject
/// token names: a token whose `sid` points at someone else's session is refused.
pub fn exchanged(
    at: Issue<'_>,
    exchange: &Exchanged<'_>,
    jti_bytes: [u8; JTI_BYTES],
) -> Result<AccessTokenClaims, ProtocolError> {
    if subject_for(exchange.actor, exchange.person, at.salt) != exchange.subject.sub {
        return Err(subject_refused(
            "does not name the person of its login session",
        ));
    }
    Ok(exchanged_token_claims(at, exchange, jti_bytes))
}

#[cfg(test)]
mod tests;
