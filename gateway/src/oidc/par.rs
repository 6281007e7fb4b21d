//! `POST /oidc/par`: pushed authorization requests (RFC 9126).
//!
//! ```text
//! client authentication ─▶ pushed_params ─▶ authorize::validate (every rule of the front door)
//!                                              │ refused: 400 with the rule's error, no redirect
//!                                              ▼
//!                          PushedRequest stored 5 min ─▶ 201 {request_uri, expires_in}
//! ```
//!
//! The authorization endpoint resolves the `request_uri` ([`resolve`]) and takes the pushed
//! parameters, not the browser's; the record ends when its code is issued.

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use pforte_oidc::pushed::{
    PUSHED_REQUEST_SECONDS, PushedRequest, PushedResponse, ResolveError, handle_of, pushed_params,
    request_uri,
};
use pforte_oidc::{AuthorizeError, ErrorCode, OpaqueToken, Params, ProtocolError};

use super::client_auth;
use super::grants::Grants;
use super::provider::Provider;
use super::reply::{json_no_store, refused};
use crate::login_host::LoginHost;
use crate::web::error::GatewayError;

/// The parameter of an authorization request that names a pushed request.
pub const REQUEST_URI: &str = "request_uri";

/// Answers a push: the request is checked as the authorization endpoint would check it, so a
/// client learns of a mistake here rather than after a redirect.
pub async fn push(
    host: &LoginHost<'_>,
    provider: &Provider,
    headers: &HeaderMap,
    form: &Params,
) -> Result<Response<Bytes>, GatewayError> {
    let refuse = |error: &ProtocolError| Ok(refused(&host.shared.metrics, "par", error));
    let client = match client_auth::authenticate(host, provider, headers, form).await {
        Ok(client) => client,
        Err(error) => return refuse(&error),
    };
    let params = match pushed_params(form, &client.id) {
        Ok(params) => params,
        Err(error) => return refuse(&error),
    };
    let issuer = host.snapshot.issuer.as_str();
    if let Err(refusal) = pforte_oidc::authorize::validate(&params, &provider.clients, issuer) {
        let error = match refusal {
            AuthorizeError::Page(page) => {
                ProtocolError::new(ErrorCode::InvalidRequest, page.to_string())
            }
            AuthorizeError::Redirect(redirect) => {
                ProtocolError::new(redirect.error, redirect.description)
            }
        };
        return refuse(&error);
    }
    let now = host.ctx.now.unix_secs();
    let handle = OpaqueToken::from_random(rand::random());
    Grants::new(&host.shared.sessions)
        .put_pushed(&handle, &PushedRequest::new(&client.id, &params, now), now)
        .await?;
    let body = PushedResponse {
        request_uri: request_uri(&handle),
        expires_in: PUSHED_REQUEST_SECONDS,
    };
    Ok(json_no_store(StatusCode::CREATED, &body))
}

/// What an authorization request's parameters stand for.
pub enum Resolved {
    /// Parameters sent in the front channel, as they are.
    Direct,
    /// The pushed request its `request_uri` names, with the handle that ends it.
    Pushed {
        /// The pushed parameters.
        params: Params,
        /// The handle, to end the record when a code is issued.
        handle: OpaqueToken,
    },
}

/// The request that `front` (the browser's parameters) stands for: itself, or the pushed request
/// its `request_uri` names. Every parameter but `client_id` and `request_uri` is then the
/// pushed one's (RFC 9126 §4).
pub async fn resolve(
    host: &LoginHost<'_>,
    front: &Params,
) -> Result<Result<Resolved, ResolveError>, GatewayError> {
    let Some(uri) = front.get(REQUEST_URI) else {
        return Ok(Ok(Resolved::Direct));
    };
    let Some(handle) = handle_of(uri).filter(|_| !front.is_repeated(REQUEST_URI)) else {
        return Ok(Err(ResolveError::Unknown));
    };
    let stored = Grants::new(&host.shared.sessions).pushed(&handle).await?;
    let now = host.ctx.now.unix_secs();
    let client_id = front
        .get("client_id")
        .filter(|_| !front.is_repeated("client_id"));
    Ok(
        pforte_oidc::pushed::resolve(stored.as_ref(), client_id, now)
            .map(|params| Resolved::Pushed { params, handle }),
    )
}
