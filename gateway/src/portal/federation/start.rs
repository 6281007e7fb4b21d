//! `GET /federation/{id}/start`: a login sent to the provider. Its secrets (state, nonce, PKCE
//! verifier) stay in the session store under the state's digest; the browser gets a fresh
//! binding cookie whose digest the record keeps, so only this browser can finish the login.

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode, header};
use pforte_federation::Provider;
use pforte_federation::identity::hashed;
use pforte_federation::request::Authorization;

use super::{callback_uri, refuse};
use crate::federation::records::{self, PENDING_LOGIN_TTL, PendingLogin};
use crate::handover::Binding;
use crate::login_host::LoginHost;
use crate::portal::check_return_to;
use crate::web::cookies;
use crate::web::csrf;
use crate::web::error::GatewayError;
use crate::web::pages::LoginProblem;
use crate::web::reply::see_other;
use crate::web::url::query_value;

/// Longest `login_hint` passed on to a provider.
const MAX_HINT_CHARS: usize = 256;

/// Sends the browser to `provider`'s authorization endpoint.
pub(super) async fn begin(
    host: &LoginHost<'_>,
    provider: &Provider,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response<Bytes>, GatewayError> {
    let return_to = query_value(query, "return_to").and_then(|raw| check_return_to(host, &raw));
    let handover = query_value(query, "handover")
        .as_deref()
        .and_then(Binding::parse);
    let login_hint = query_value(query, "login_hint")
        .filter(|h| h.chars().count() <= MAX_HINT_CHARS && !h.chars().any(char::is_control));
    let Some(upstreams) = host.shared.upstreams.as_ref() else {
        return Ok(unreachable(host, headers, provider));
    };
    let metadata = match upstreams
        .metadata(&provider.issuer, host.ctx.now.unix_secs())
        .await
    {
        Ok(metadata) => metadata,
        Err(error) => {
            tracing::warn!(provider = %provider.id, %error, "a partner's provider cannot be used");
            return Ok(unreachable(host, headers, provider));
        }
    };
    let authorization = Authorization::new();
    let binding = csrf::new_token();
    let pending = PendingLogin {
        provider: provider.id.clone(),
        nonce: authorization.nonce.clone(),
        verifier: authorization.verifier.clone(),
        binding: hashed(&binding),
        return_to: return_to.map(|r| r.as_str().to_owned()),
        handover: handover.map(|b| b.as_str().to_owned()),
    };
    records::put_pending(host.sessions(), &authorization.state, &pending).await?;
    let url = authorization.url(
        &metadata,
        provider,
        &callback_uri(host, &provider.id),
        login_hint.as_deref(),
    );
    let mut response = see_other(url.as_str());
    if let Some(cookie) = cookies::set(cookies::FEDERATION, &binding, PENDING_LOGIN_TTL) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// The login page saying the provider cannot be reached (200: the password login still works).
fn unreachable(host: &LoginHost<'_>, headers: &HeaderMap, provider: &Provider) -> Response<Bytes> {
    refuse(
        host,
        headers,
        &provider.id,
        "unreachable",
        LoginProblem::PartnerUnreachable,
        StatusCode::OK,
    )
}
