//! `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693): a service holding a
//! person's access token (the docs server) gets one for another client's API (the files API),
//! so that API sees the person, with the service as actor in `act`.
//!
//! ```text
//! target_of ─▶ subject token: signature, typ at+jwt (bearer::verify) ─▶ revocation list
//!   ─▶ check_subject ─▶ granted_scopes ─▶ its session alive (access::live_session)
//!   ─▶ the actor's app still allows the person (as userinfo asks) ─▶ the TARGET's app allows them
//!   ─▶ claims (token::exchange::exchanged) ─▶ the target noted on the session for back-channel logout
//! ```
//!
//! The protocol's rules are the `pforte-oidc` crate's; this module fetches what they need.
//! The subject token is checked as userinfo checks a bearer token, but every refusal of it is
//! `invalid_request` (RFC 8693 §2.2.2). When the target app's rules refuse the person the answer
//! is `invalid_grant`, as for a code exchange or refresh the rules refuse, and an
//! `oidc_token_refused` audit event names the rule.

use pforte_keys::KeySet;
use pforte_oidc::claims::{AccessTokenClaims, Exchanged, Issue};
use pforte_oidc::token::exchange::{
    ExchangeRequest, check_subject, exchanged, granted_scopes, subject_refused, target_of,
};
use pforte_oidc::{Client, ErrorCode, ProtocolError};

use super::access;
use super::bearer;
use super::grants::Grants;
use super::provider::Provider;
use crate::login_host::LoginHost;
use crate::web::error::GatewayError;

/// Checks a token exchange by `actor` and returns the new token's claims, to be signed.
pub async fn exchange(
    host: &LoginHost<'_>,
    provider: &Provider,
    keys: &KeySet,
    at: Issue<'_>,
    actor: &Client,
    request: &ExchangeRequest,
) -> Result<Result<AccessTokenClaims, ProtocolError>, GatewayError> {
    let target = match target_of(actor, &provider.clients, &request.audience) {
        Ok(target) => target,
        Err(error) => return Ok(Err(error)),
    };
    let presented = request.subject_token.expose();
    let Some(subject) = bearer::verify(keys, at.issuer, presented, host.ctx.now) else {
        return Ok(Err(subject_refused(
            "is not an access token of this provider (an ID token or refresh token is not one)",
        )));
    };
    let revoked = Grants::new(&host.shared.sessions)
        .is_revoked(&subject.jti)
        .await?;
    let sid = match check_subject(&subject, actor, at.issuer, revoked, at.now) {
        Ok(sid) => sid,
        Err(error) => return Ok(Err(error)),
    };
    let scopes = match granted_scopes(subject.scope, target, request.scope) {
        Ok(scopes) => scopes,
        Err(error) => return Ok(Err(error)),
    };
    let Some(session) = access::live_session(host, sid).await? else {
        return Ok(Err(subject_refused(
            "comes from a login session that has ended",
        )));
    };
    if let Err(refused) = access::check(host, provider, actor, &session, session.source) {
        access::audit_refusal(host, &actor.id, &session.subject, "token exchange", refused);
        return Ok(Err(subject_refused(
            "is for a person its own app's access rules no longer allow",
        )));
    }
    if let Err(refused) = access::check(host, provider, target, &session, session.source) {
        let what = format!("token exchange by {}", actor.id);
        access::audit_refusal(host, &target.id, &session.subject, &what, refused);
        return Ok(Err(ProtocolError::new(
            ErrorCode::InvalidGrant,
            "the access rules of the audience's app do not allow this person",
        )));
    }
    let exchange = Exchanged {
        actor,
        target,
        subject: &subject,
        person: &session.subject,
        scopes,
    };
    let claims = match exchanged(at, &exchange, rand::random()) {
        Ok(claims) => claims,
        Err(error) => return Ok(Err(error)),
    };
    // The target now holds tokens of this session: it is told by back-channel logout when the
    // session ends, like a client that got them by a code. Noted once per session and target.
    if !session.clients.contains(&target.id) {
        host.shared
            .sessions
            .add_client(&session.sid, &target.id)
            .await?;
    }
    Ok(Ok(claims))
}
