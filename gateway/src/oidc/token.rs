//! `POST /oidc/token`: the grants (RFC 6749 §4.1.3, §6, §4.4; RFC 8693), and a device's polls
//! (RFC 8628, in `device_poll`).
//!
//! ```text
//! client authentication ─▶ TokenRequest::parse ─▶ authorization_code: take the code once
//!                                               │   (a second use revokes what the first issued)
//!                                               ├▶ refresh_token: rotate the family by
//!                                               │   compare-and-set (reuse revokes it)
//!                                               ├▶ client_credentials: a token for the service
//!                                               └▶ token exchange: a person's token for another
//!                                                   client's API (exchange)
//! ```
//!
//! Tokens for a person come from their SSO session: when it has ended (logout, revocation,
//! timeout, the person disabled in the directory) neither a code nor a refresh token yields
//! anything, so logging out everywhere ends what clients can renew too. Both ask the app's
//! access rules again for the person as the directory has them now; a refused refresh revokes
//! its family.

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use pforte_keys::KeySet;
use pforte_oidc::claims::Issue;
use pforte_oidc::token::{client_credentials, exchange_code};
use pforte_oidc::{
    Client, ErrorCode, GrantType, OpaqueToken, Params, ProtocolError, RefreshFamily, RefreshToken,
    Rotation, Scopes, TokenRequest,
};

use super::access;
use super::client_auth;
use super::device_poll;
use super::exchange;
use super::grants::{Grants, Redeemed};
use super::issue::{self, PersonGrant, session_ended, signing};
use super::provider::Provider;
use super::reply::{json_no_store, refused};
use crate::login_host::LoginHost;
use crate::telemetry::audit::{self, AuditEvent, OidcEvent};
use crate::web::error::GatewayError;

/// A token request's outcome before it becomes a response.
type Outcome = Result<issue::TokenResponse, ProtocolError>;

/// Answers a token request.
pub async fn token(
    host: &LoginHost<'_>,
    provider: &Provider,
    keys: &KeySet,
    headers: &HeaderMap,
    form: &Params,
) -> Result<Response<Bytes>, GatewayError> {
    let outcome = match client_auth::authenticate(host, provider, headers, form).await {
        Ok(client) => grant(host, provider, keys, client, form).await?,
        Err(error) => Err(error),
    };
    Ok(match outcome {
        Ok(tokens) => json_no_store(StatusCode::OK, &tokens),
        Err(error) => refused(&host.shared.metrics, "token", &error),
    })
}

async fn grant(
    host: &LoginHost<'_>,
    provider: &Provider,
    keys: &KeySet,
    client: &Client,
    form: &Params,
) -> Result<Outcome, GatewayError> {
    let request = match TokenRequest::parse(form).and_then(|r| r.check_client(client).map(|()| r)) {
        Ok(request) => request,
        Err(error) => return Ok(Err(error)),
    };
    let now = host.ctx.now.unix_secs();
    let at = Issue {
        issuer: &host.snapshot.issuer,
        salt: &provider.salt,
        now,
    };
    let grant_type = request.grant_type();
    let outcome = match request {
        TokenRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            let exchange = CodeExchange {
                code: &code,
                redirect_uri: redirect_uri.as_deref(),
                code_verifier: code_verifier.as_ref(),
            };
            code_grant(host, provider, keys, at, client, exchange).await?
        }
        TokenRequest::RefreshToken {
            refresh_token,
            scope,
        } => refresh_grant(host, provider, keys, at, client, &refresh_token, scope).await?,
        TokenRequest::ClientCredentials { scope } => client_credentials(client, scope)
            .and_then(|scopes| issue::for_service(keys, at, client, scopes).map_err(signing)),
        TokenRequest::DeviceCode { device_code } => {
            device_poll::grant(host, provider, keys, at, client, &device_code).await?
        }
        TokenRequest::TokenExchange(request) => {
            exchange::exchange(host, provider, keys, at, client, &request)
                .await?
                .and_then(|claims| issue::for_exchange(keys, &claims, now).map_err(signing))
        }
    };
    if outcome.is_ok() {
        host.shared.metrics.record_oidc_tokens(grant_type.as_str());
    }
    Ok(outcome)
}

/// What a code exchange presented.
struct CodeExchange<'a> {
    code: &'a OpaqueToken,
    redirect_uri: Option<&'a str>,
    code_verifier: Option<&'a OpaqueToken>,
}

async fn code_grant(
    host: &LoginHost<'_>,
    provider: &Provider,
    keys: &KeySet,
    at: Issue<'_>,
    client: &Client,
    exchange: CodeExchange<'_>,
) -> Result<Outcome, GatewayError> {
    let grants = Grants::new(&host.shared.sessions);
    let record = grants.take_code(exchange.code).await?;
    if record.is_none()
        && let Some(redeemed) = grants.redeemed(exchange.code).await?
    {
        revoke_redeemed(host, &grants, &redeemed, at.now).await?;
    }
    let code = match exchange_code(
        record,
        client,
        exchange.redirect_uri,
        exchange.code_verifier,
        at.now,
    ) {
        Ok(code) => code,
        Err(error) => return Ok(Err(error)),
    };
    let Some(session) = access::live_session(host, &code.authentication.sid).await? else {
        return Ok(Err(session_ended()));
    };
    if let Err(refused) = access::check(host, provider, client, &session, session.source) {
        access::audit_refusal(host, &client.id, &session.subject, "code exchange", refused);
        return Ok(Err(not_allowed()));
    }
    let sid = session.sid;
    let person = issue::person_of(&session);
    let family = client.allows(GrantType::RefreshToken).then(|| {
        RefreshFamily::start(
            client,
            code.authentication.clone(),
            code.scopes,
            rand::random(),
            rand::random(),
            at.now,
        )
    });
    let grant = PersonGrant {
        auth: &code.authentication,
        person: &person,
        scopes: code.scopes,
        nonce: code.nonce.as_deref(),
        refresh: family.as_ref().map(|(_, token)| token),
    };
    let (tokens, access) = match issue::for_person(keys, at, client, &grant) {
        Ok(issued) => issued,
        Err(error) => return Ok(Err(signing(error))),
    };
    // The records are independent of each other: written at once, they share round trips
    // (Redis pipelines concurrent commands on its one connection).
    let redeemed = Redeemed {
        client_id: client.id.clone(),
        family: family.as_ref().map(|(f, _)| f.id.clone()),
        jti: access.jti.clone(),
        until: access.exp,
    };
    tokio::try_join!(
        grants.put_redeemed(exchange.code, &redeemed),
        grants.keep_issued(&sid, client, family.as_ref().map(|(f, _)| f), at.now),
    )?;
    Ok(Ok(tokens))
}

/// A code came a second time: whoever holds it now may be a thief, so what the first
/// exchange issued is revoked (RFC 6749 §4.1.2, RFC 9700 §4.5).
async fn revoke_redeemed(
    host: &LoginHost<'_>,
    grants: &Grants<'_>,
    redeemed: &Redeemed,
    now: u64,
) -> Result<(), GatewayError> {
    grants
        .revoke_access_token(&redeemed.jti, redeemed.until, now)
        .await?;
    if let Some(id) = &redeemed.family
        && let Some(loaded) = grants.family(id).await?
    {
        grants.put_family(&loaded.family.revoke(), now).await?;
    }
    audit::record(
        host.audit_context(),
        AuditEvent::Oidc {
            event: OidcEvent::CodeReplay,
            client: &redeemed.client_id,
            subject: None,
            detail: "a used authorization code was presented again; its tokens are revoked",
        },
    );
    Ok(())
}

async fn refresh_grant(
    host: &LoginHost<'_>,
    provider: &Provider,
    keys: &KeySet,
    at: Issue<'_>,
    client: &Client,
    presented: &OpaqueToken,
    scope: Option<Scopes>,
) -> Result<Outcome, GatewayError> {
    let invalid = || {
        Ok(Err(ProtocolError::new(
            ErrorCode::InvalidGrant,
            "the refresh token is invalid, expired or revoked",
        )))
    };
    let Some(token) = RefreshToken::parse(presented.expose()) else {
        return invalid();
    };
    let grants = Grants::new(&host.shared.sessions);
    let Some(loaded) = grants.family(token.family_id()).await? else {
        return invalid();
    };
    match loaded
        .family
        .rotate(&token, client, scope, rand::random(), at.now)
    {
        Rotation::Refused(error) => Ok(Err(error)),
        Rotation::Reused { family } => {
            grants.put_family(&family, at.now).await?;
            audit::record(
                host.audit_context(),
                AuditEvent::Oidc {
                    event: OidcEvent::RefreshReuse,
                    client: &client.id,
                    subject: Some(&family.authentication.subject),
                    detail: "a retired refresh token was presented; its family is revoked",
                },
            );
            invalid()
        }
        Rotation::Rotated {
            family,
            token,
            scopes,
        } => {
            let Some(session) = access::live_session(host, &family.authentication.sid).await?
            else {
                grants.put_family(&family.revoke(), at.now).await?;
                return Ok(Err(session_ended()));
            };
            if let Err(refused) = access::check(host, provider, client, &session, session.source) {
                grants.put_family(&family.revoke(), at.now).await?;
                access::audit_refusal(host, &client.id, &session.subject, "refresh", refused);
                return Ok(Err(not_allowed()));
            }
            if !grants.replace_family(&loaded, &family, at.now).await? {
                // Another request rotated the family with the same token at the same moment:
                // one token, two users. Treat it as reuse.
                grants.put_family(&family.revoke(), at.now).await?;
                return invalid();
            }
            let person = issue::person_of(&session);
            let grant = PersonGrant {
                auth: &family.authentication,
                person: &person,
                scopes,
                nonce: None,
                refresh: Some(&token),
            };
            Ok(issue::for_person(keys, at, client, &grant)
                .map(|(tokens, _)| tokens)
                .map_err(signing))
        }
    }
}

/// The app's access rules no longer allow the person: the grant is refused like an expired
/// one (RFC 6749 §5.2), and the client must send them through authorization again.
fn not_allowed() -> ProtocolError {
    ProtocolError::new(
        ErrorCode::InvalidGrant,
        "the app's access rules no longer allow this person",
    )
}
