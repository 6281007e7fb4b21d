//! Logging in at a partner's OpenID provider (federation, `idps.toml`): Pforte is the
//! provider's confidential client, with code + PKCE + nonce + state and the response's issuer
//! checked (RFC 9207). The way of such a login:
//!
//! ```text
//! GET  /login ─ a button per provider, or login_hint / a typed user@domain of a provider
//! GET  /federation/{id}/start ─▶ start: state, nonce, PKCE kept server-side, the browser bound
//!      by a cookie ─303─▶ the provider's authorization endpoint
//! GET  /federation/{id}/callback ─▶ callback: state taken once, binding, iss, code exchange,
//!      ID token (JWKS, refetched once for an unknown key) ─▶ federation::resolve (guest or
//!      linked person) ─▶ login::log_in (session with its origin) ─303─▶ return_to or /
//! POST /federation/{id}/backchannel-logout ─▶ backchannel: the provider ends local sessions
//! GET  /federation/{id}/logged-out ─303─▶ /login (where the provider's logout sends people)
//! POST /logout of a federated session ─303─▶ the provider's end_session_endpoint (logout_url)
//! ```
//!
//! Every refusal is the login page with a message and a 4xx (a provider that cannot be reached:
//! a notice with 200, since the person may still log in by password), audited as
//! `federated_login_refused`; never a 5xx.

mod backchannel;
mod callback;
mod start;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use pforte_federation::logout::end_session_url;
use pforte_session::Session;

use super::login;
use super::return_to::ReturnTo;
use crate::handover::Binding;
use crate::login_host::LoginHost;
use crate::proxy::body::FromClient;
use crate::telemetry::audit::{self, AuditEvent};
use crate::telemetry::limit_metrics::LimitedEndpoint;
use crate::web::error::GatewayError;
use crate::web::pages::LoginProblem;

/// Where the federation pages live on the login host.
pub const PREFIX: &str = "/federation/";

/// Whether `path` is one of the federation pages.
pub fn is_endpoint(path: &str) -> bool {
    path.starts_with(PREFIX)
}

/// Answers `/federation/{id}/{page}`.
pub async fn answer<B: FromClient>(
    host: &LoginHost<'_>,
    req: Request<B>,
) -> Result<Response<Bytes>, GatewayError> {
    let path = req.uri().path().to_owned();
    let Some((id, page)) = path
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split_once('/'))
    else {
        return Err(GatewayError::NotFound);
    };
    let Some(partners) = host.snapshot.partners.clone() else {
        return Err(GatewayError::NotFound);
    };
    let Some(provider) = partners.providers.get(id) else {
        return Err(GatewayError::NotFound);
    };
    if matches!(page, "start" | "callback") {
        host.rate_limit(LimitedEndpoint::Login, req.headers())?;
    }
    match (req.method(), page) {
        (&Method::GET | &Method::HEAD, "start") => {
            start::begin(host, provider, req.uri().query(), req.headers()).await
        }
        (&Method::GET, "callback") => {
            callback::finish(host, &partners, provider, req.uri().query(), req.headers()).await
        }
        (&Method::POST, "backchannel-logout") => backchannel::end(host, provider, req).await,
        (&Method::GET | &Method::HEAD, "logged-out") => Ok(crate::web::reply::see_other("/login")),
        (_, "start" | "callback" | "backchannel-logout" | "logged-out") => {
            Err(GatewayError::MethodNotAllowed)
        }
        _ => Err(GatewayError::NotFound),
    }
}

/// The provider serving the domain of `hint` (a `login_hint`, or a user name typed as
/// `name@domain`), if there is one: the login goes there instead of asking for a password.
pub fn start_for_hint(
    host: &LoginHost<'_>,
    hint: &str,
    return_to: Option<&ReturnTo>,
    binding: Option<&Binding>,
) -> Option<Response<Bytes>> {
    let partners = host.snapshot.partners.as_ref()?;
    let provider = partners.providers.for_hint(hint)?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("login_hint", hint);
    if let Some(return_to) = return_to {
        query.append_pair("return_to", return_to.as_str());
    }
    if let Some(binding) = binding {
        query.append_pair("handover", binding.as_str());
    }
    Some(crate::web::reply::see_other(&format!(
        "{PREFIX}{}/start?{}",
        provider.id,
        query.finish()
    )))
}

/// Where a person whose federated session just ended goes next: the provider's own logout,
/// when it offers one and the file does not turn it off.
pub async fn logout_url(host: &LoginHost<'_>, session: &Session) -> Option<String> {
    let federated = session.federated.as_ref()?;
    let partners = host.snapshot.partners.as_ref()?;
    let provider = partners.providers.get(&federated.provider)?;
    let upstreams = host.shared.upstreams.as_ref()?;
    let metadata = match upstreams
        .metadata(&provider.issuer, host.ctx.now.unix_secs())
        .await
    {
        Ok(metadata) => metadata,
        Err(error) => {
            tracing::warn!(provider = %provider.id, %error, "cannot send the person on to the provider's logout");
            return None;
        }
    };
    let back = format!("{}{PREFIX}{}/logged-out", host.login_origin(), provider.id);
    end_session_url(&metadata, provider, &federated.id_token, &back).map(String::from)
}

/// The redirect URI registered at every provider for its callback.
fn callback_uri(host: &LoginHost<'_>, id: &str) -> String {
    format!("{}{PREFIX}{id}/callback", host.login_origin())
}

/// A refused federated login: audited with its reason, and the login page with `problem`.
fn refuse(
    host: &LoginHost<'_>,
    headers: &http::HeaderMap,
    provider: &str,
    reason: &str,
    problem: LoginProblem,
    status: StatusCode,
) -> Response<Bytes> {
    audit::record(
        host.audit_context(),
        AuditEvent::FederatedLoginRefused { provider, reason },
    );
    let lang = host.language(None, headers);
    login::show(host, lang, None, None, "", Some(problem), status)
}
