//! `grant_type=urn:ietf:params:oauth:grant-type:device_code` at the token endpoint: a device
//! polls for the tokens its person approved (RFC 8628 §3.4, §3.5).
//!
//! ```text
//! the record (device code's digest) ─▶ device::poll
//!   ├▶ Wait: the poll remembered by compare-and-set ─▶ authorization_pending | slow_down
//!   ├▶ Refused: invalid_grant | access_denied | expired_token
//!   └▶ Approved: the record taken (once) ─▶ the person's session still live?
//!        ─▶ the app's access rules, asked again ─▶ tokens as the code grant issues them
//! ```
//!
//! The tokens belong to the SSO session the person approved with: its end (logout, revocation,
//! the person disabled) ends the device's refresh tokens too, and its back-channel logout
//! reaches the device's client.

use pforte_keys::KeySet;
use pforte_oidc::claims::Issue;
use pforte_oidc::device::{Decision, Poll};
use pforte_oidc::{
    Authentication, Client, ErrorCode, GrantType, OpaqueToken, ProtocolError, RefreshFamily, Scope,
    Scopes,
};

use super::access;
use super::grants::Grants;
use super::issue::{self, PersonGrant, TokenResponse, session_ended, signing};
use super::provider::Provider;
use crate::login_host::LoginHost;
use crate::web::error::GatewayError;

/// How often a poll reads the record again when another request changed it between the read
/// and the write (the person deciding at that moment, or the device polling twice at once).
const ATTEMPTS: usize = 3;

/// Answers one poll of `client` with `device_code`.
pub async fn grant(
    host: &LoginHost<'_>,
    provider: &Provider,
    keys: &KeySet,
    at: Issue<'_>,
    client: &Client,
    device_code: &OpaqueToken,
) -> Result<Result<TokenResponse, ProtocolError>, GatewayError> {
    let grants = Grants::new(&host.shared.sessions);
    for _ in 0..ATTEMPTS {
        let loaded = grants.device(device_code).await?;
        let stored = loaded.as_ref().map(|l| &l.grant);
        match pforte_oidc::device::poll(stored, client, at.now) {
            Poll::Refused(error) => return Ok(Err(error)),
            Poll::Wait { next, error } => {
                if let Some(loaded) = &loaded
                    && grants.replace_device(loaded, &next, at.now).await?
                {
                    return Ok(Err(error));
                }
            }
            Poll::Approved {
                authentication,
                scopes,
            } => {
                // Single use: of two polls that both saw the approval, the take picks one.
                let taken = grants.take_device(device_code).await?;
                if !taken.is_some_and(|t| matches!(t.decision, Decision::Approved { .. })) {
                    return Ok(Err(ProtocolError::new(
                        ErrorCode::InvalidGrant,
                        "the device code is invalid, expired or already used",
                    )));
                }
                return issue_tokens(host, provider, keys, at, client, &authentication, scopes)
                    .await;
            }
        }
    }
    Ok(Err(ProtocolError::new(
        ErrorCode::SlowDown,
        "the device code changed while it was polled; poll once per interval",
    )))
}

/// Tokens for the person who approved, as the code grant issues them: an ID token, an RFC 9068
/// access token, and a refresh token when the client may refresh and asked for
/// `offline_access` (a device has no browser to log the person in again).
async fn issue_tokens(
    host: &LoginHost<'_>,
    provider: &Provider,
    keys: &KeySet,
    at: Issue<'_>,
    client: &Client,
    authentication: &Authentication,
    scopes: Scopes,
) -> Result<Result<TokenResponse, ProtocolError>, GatewayError> {
    let Some(session) = access::live_session(host, &authentication.sid).await? else {
        return Ok(Err(session_ended()));
    };
    if let Err(refused) = access::check(host, provider, client, &session, session.source) {
        access::audit_refusal(host, &client.id, &session.subject, "device code", refused);
        return Ok(Err(ProtocolError::new(
            ErrorCode::AccessDenied,
            "the app's access rules no longer allow this person",
        )));
    }
    let person = issue::person_of(&session);
    let may_refresh =
        client.allows(GrantType::RefreshToken) && scopes.contains(Scope::OfflineAccess);
    let family = may_refresh.then(|| {
        RefreshFamily::start(
            client,
            authentication.clone(),
            scopes,
            rand::random(),
            rand::random(),
            at.now,
        )
    });
    let grant = PersonGrant {
        auth: authentication,
        person: &person,
        scopes,
        nonce: None,
        refresh: family.as_ref().map(|(_, token)| token),
    };
    let tokens = match issue::for_person(keys, at, client, &grant) {
        Ok((tokens, _)) => tokens,
        Err(error) => return Ok(Err(signing(error))),
    };
    Grants::new(&host.shared.sessions)
        .keep_issued(
            &session.sid,
            client,
            family.as_ref().map(|(f, _)| f),
            at.now,
        )
        .await?;
    Ok(Ok(tokens))
}
