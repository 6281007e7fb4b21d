//! `GET /oidc/authorize`: the authorization code flow's front door (OIDC Core §3.1.2).
//!
//! ```text
//! par::resolve (a request_uri: the pushed parameters) ─▶ Page error: unknown, expired, used
//!    ▼
//! validate ─▶ Page error: shown here (the redirect URI is not proven)
//!    │      └▶ Redirect error: back to the client with error, state, iss
//!    ▼
//! session_verdict ─▶ Login: to the login form, then back here
//!    │             ├▶ StepUp (acr_values/claims ask for MFA): to the second-factor page,
//!    │             │          then back here
//!    │             └▶ Refuse: login_required / interaction_required (prompt=none)
//!    ▼
//! the app's access rules ─▶ deny: access_denied to the client, and an audit entry
//!    │                   └▶ step-up required (login = "mfa"): to the second-factor page
//!    ▼
//! code (random, stored 60 s, single use) ─▶ redirect to the client with code, state, iss
//! ```

use std::borrow::Cow;

use bytes::Bytes;
use http::Response;
use pforte_oidc::authorize::{
    AuthorizationResponse, Prompt, RedirectError, SessionAuth, SessionVerdict,
};
use pforte_oidc::pushed::ResolveError;
use pforte_oidc::{
    AuthorizationCode, AuthorizationRequest, AuthorizeError, ErrorCode, OpaqueToken, Params,
};

use super::access::{self, Refused};
use super::grants::{Grants, PendingLogin};
use super::issue::authentication_of;
use super::par::{self, Resolved};
use super::provider::Provider;
use super::reply::{error_page, found};
use crate::config::lang::Lang;
use crate::login_host::LoginHost;
use crate::policy::decide::Refusal;
use crate::telemetry::audit::{self, AuditEvent, OidcEvent};
use crate::visitor::Visitor;
use crate::web::error::GatewayError;

/// The query parameter that names a pending `prompt=login` request on its way back from the
/// login form (see [`PendingLogin`]): an id, never the time itself.
const PENDING: &str = "pforte_pending";

/// The login host's second-factor page (the portal's): it raises the session and sends the
/// browser back to its `return_to`.
const STEP_UP_PAGE: &str = "/mfa";

/// Answers an authorization request; `params` come from the query (GET) or the form (POST).
/// They are what the browser carries, and what the way back from the login form repeats; for a
/// pushed request (RFC 9126) the rules apply to the pushed parameters its `request_uri` names.
pub async fn authorize(
    host: &LoginHost<'_>,
    provider: &Provider,
    visitor: Option<&Visitor>,
    params: &Params,
) -> Result<Response<Bytes>, GatewayError> {
    let now = host.ctx.now.unix_secs();
    let issuer = host.snapshot.issuer.as_str();
    let (resolved, pushed) = match par::resolve(host, params).await? {
        Ok(Resolved::Direct) => (Cow::Borrowed(params), None),
        Ok(Resolved::Pushed { params, handle }) => (Cow::Owned(params), Some(handle)),
        Err(error) => return Ok(bad_link(host, &error.to_string())),
    };
    let request = match pforte_oidc::authorize::validate(&resolved, &provider.clients, issuer) {
        Ok(request) => request,
        Err(AuthorizeError::Page(error)) => return Ok(bad_link(host, &error.to_string())),
        Err(AuthorizeError::Redirect(error)) => return Ok(refused(host, &error)),
    };
    let must_push = provider
        .clients
        .get(&request.client_id)
        .is_some_and(|client| client.require_pushed_requests);
    if must_push && pushed.is_none() {
        let error = request.error(
            issuer,
            ErrorCode::InvalidRequest,
            "this client must push its authorization requests (RFC 9126)",
        );
        return Ok(refused(host, &error));
    }
    let pending = if request.prompt == Prompt::Login {
        Some(pending_login(host, params, now).await?)
    } else {
        None
    };
    let asked_at = pending.as_ref().map_or(now, |p| p.record.asked_at);
    let session_auth = visitor.map(|v| SessionAuth {
        auth_time: v.session.auth_time.unix_secs(),
        login: v.session.login,
    });
    match (
        request.session_verdict(session_auth, asked_at, now, issuer),
        visitor,
    ) {
        (SessionVerdict::Refuse(error), _) => Ok(refused(host, &error)),
        (SessionVerdict::Proceed, Some(visitor)) => match access(host, provider, visitor, &request)
        {
            Access::Allowed => {
                let grants = Grants::new(&host.shared.sessions);
                if let Some(pending) = &pending {
                    grants.end_pending(&pending.id).await?;
                }
                if let Some(handle) = &pushed
                    && !grants.end_pushed(handle).await?
                {
                    return Ok(bad_link(host, &ResolveError::Unknown.to_string()));
                }
                issue_code(host, visitor, &request, now).await
            }
            Access::StepUp if request.prompt == Prompt::None => {
                Ok(refused(host, &request.interaction_required(issuer)))
            }
            Access::StepUp => step_up(host, params, pending.as_ref()).await,
            Access::Denied => Ok(access_denied(host, visitor, &request)),
        },
        (SessionVerdict::StepUp, Some(_)) => step_up(host, params, pending.as_ref()).await,
        (SessionVerdict::Login | SessionVerdict::Proceed | SessionVerdict::StepUp, _) => {
            if let Some(pending) = pending.as_ref().filter(|p| p.is_new) {
                Grants::new(&host.shared.sessions)
                    .put_pending(&pending.id, &pending.record)
                    .await?;
            }
            Ok(found(&login_url(
                host,
                &request,
                params,
                pending.as_ref().map(|p| &p.id),
                visitor.is_some(),
            )))
        }
    }
}

/// A `prompt=login` request's pending record: the one its URL names, if that is still waiting
/// and belongs to these very parameters, else a new one that starts now.
struct Pending {
    id: OpaqueToken,
    record: PendingLogin,
    is_new: bool,
}

/// The pending record for a `prompt=login` request with `params`, received at `now`.
async fn pending_login(
    host: &LoginHost<'_>,
    params: &Params,
    now: u64,
) -> Result<Pending, GatewayError> {
    let request = request_digest(params);
    if let Some(presented) = params.get(PENDING) {
        let id = OpaqueToken::presented(presented);
        let stored = Grants::new(&host.shared.sessions).pending(&id).await?;
        if let Some(record) = stored.filter(|r| r.request == request && r.asked_at <= now) {
            return Ok(Pending {
                id,
                record,
                is_new: false,
            });
        }
    }
    Ok(Pending {
        id: OpaqueToken::from_random(rand::random()),
        record: PendingLogin {
            asked_at: now,
            request,
        },
        is_new: true,
    })
}

/// SHA-256 over the request's parameters (sorted, without the pending id), so a pending record
/// cannot be carried over to another authorization request.
fn request_digest(params: &Params) -> [u8; 32] {
    let mut pairs: Vec<(&str, &str)> = params.iter().filter(|(n, _)| *n != PENDING).collect();
    pairs.sort_unstable();
    let mut canonical = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        canonical.append_pair(name, value);
    }
    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.finish().as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// The provider's own page for a sign-in link it cannot follow, counted: nothing proves where
/// an error could be sent back to.
fn bad_link(host: &LoginHost<'_>, detail: &str) -> Response<Bytes> {
    host.shared
        .metrics
        .record_oidc_refusal("authorize", "invalid_request");
    error_page(
        &host.look(None),
        |t| &t.oidc_bad_sign_in_link,
        detail,
        &host.ctx.request_id,
    )
}

/// An error sent back to the client, counted.
fn refused(host: &LoginHost<'_>, error: &RedirectError) -> Response<Bytes> {
    host.shared
        .metrics
        .record_oidc_refusal("authorize", error.error.as_str());
    found(&error.location())
}

/// What the client's app's access rules say of the person.
enum Access {
    /// They may use the app.
    Allowed,
    /// They may once they show a second factor (`login = "mfa"`).
    StepUp,
    /// They may not (or the client has no app any more).
    Denied,
}

/// Asks the policy whether the visitor may use the client's app, as a plain visit to the app's
/// start page from the visitor's address: what the person would be allowed through the proxy.
fn access(
    host: &LoginHost<'_>,
    provider: &Provider,
    visitor: &Visitor,
    request: &AuthorizationRequest,
) -> Access {
    let Some(client) = provider.clients.get(&request.client_id) else {
        return Access::Denied;
    };
    match access::check(host, provider, client, &visitor.session, host.ctx.peer.ip()) {
        Ok(()) => Access::Allowed,
        Err(Refused::Rules(Refusal::StepUpRequired(_))) => Access::StepUp,
        Err(_) => Access::Denied,
    }
}

/// `access_denied` to the client, and an audit entry.
fn access_denied(
    host: &LoginHost<'_>,
    visitor: &Visitor,
    request: &AuthorizationRequest,
) -> Response<Bytes> {
    audit::record(
        host.audit_context(),
        AuditEvent::Oidc {
            event: OidcEvent::AccessDenied,
            client: &request.client_id,
            subject: Some(&visitor.session.subject),
            detail: "the app's access rules do not allow this person",
        },
    );
    let error = request.error(
        host.snapshot.issuer.as_str(),
        ErrorCode::AccessDenied,
        "the access rules of this app do not allow you",
    );
    refused(host, &error)
}

/// Hands out a code for the visitor's session (the access rules allowed it).
async fn issue_code(
    host: &LoginHost<'_>,
    visitor: &Visitor,
    request: &AuthorizationRequest,
    now: u64,
) -> Result<Response<Bytes>, GatewayError> {
    let code = OpaqueToken::from_random(rand::random());
    let record = AuthorizationCode::issue(request, authentication_of(&visitor.session), now);
    Grants::new(&host.shared.sessions)
        .put_code(&code, &record, now)
        .await?;
    let response = AuthorizationResponse {
        redirect_uri: request.redirect_uri.clone(),
        code,
        state: request.state.clone(),
        iss: host.snapshot.issuer.clone(),
    };
    Ok(found(&response.location()))
}

/// Sends the browser to the second-factor page, which raises the session and returns here
/// (with the pending record's id, for `prompt=login`, kept until a code is issued).
async fn step_up(
    host: &LoginHost<'_>,
    params: &Params,
    pending: Option<&Pending>,
) -> Result<Response<Bytes>, GatewayError> {
    if let Some(pending) = pending.filter(|p| p.is_new) {
        Grants::new(&host.shared.sessions)
            .put_pending(&pending.id, &pending.record)
            .await?;
    }
    let back = authorize_url(host, params, pending.map(|p| &p.id));
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("return_to", &back);
    Ok(found(&format!(
        "{}{STEP_UP_PAGE}?{}",
        host.login_origin(),
        query.finish()
    )))
}

/// The login form, returning here afterwards (with the pending record's id, for `prompt=login`).
/// A person who is logged in but must log in again (`prompt=login`, `max_age`) gets the form
/// anyway; `login_hint` fills in the user name and `ui_locales` picks the language.
fn login_url(
    host: &LoginHost<'_>,
    request: &AuthorizationRequest,
    params: &Params,
    pending: Option<&OpaqueToken>,
    again: bool,
) -> String {
    let back = authorize_url(host, params, pending);
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("return_to", &back);
    if again || request.prompt == Prompt::Login {
        query.append_pair("prompt", "login");
    }
    if let Some(hint) = &request.login_hint {
        query.append_pair("username", hint);
    }
    if let Some(lang) = request
        .ui_locales
        .iter()
        .find_map(|tag| Lang::from_tag(tag))
    {
        query.append_pair("lang", lang.tag());
    }
    format!("/login?{}", query.finish())
}

/// This authorization request's URL, naming its pending record when it has one.
fn authorize_url(host: &LoginHost<'_>, params: &Params, pending: Option<&OpaqueToken>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params.iter() {
        if name != PENDING {
            query.append_pair(name, value);
        }
    }
    if let Some(id) = pending {
        query.append_pair(PENDING, id.expose());
    }
    format!(
        "{}{}?{}",
        host.snapshot.issuer,
        pforte_oidc::discovery::paths::AUTHORIZE,
        query.finish()
    )
}
