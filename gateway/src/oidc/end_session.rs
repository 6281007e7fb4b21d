//! `GET|POST /oidc/end_session` (OpenID Connect RP-Initiated Logout 1.0).
//!
//! With a valid `id_token_hint` for the browser's own session, the session ends at once; its
//! clients are told by back-channel logout (the store queues the notice with the revocation),
//! and the browser goes to the client's exact `post_logout_redirect_uri`. Without a hint, or
//! with one for another session, the person is asked first, so a stray link cannot sign them
//! out. Anything invalid stays on Pforte's pages: logout is never an open redirect.

use bytes::Bytes;
use http::{HeaderMap, Method, Response, StatusCode};
use pforte_keys::{KeySet, VerifyOptions};
use pforte_oidc::Params;
use pforte_oidc::end_session::{EndSession, IdTokenHint, validate};
use serde::Deserialize;

use super::provider::Provider;
use super::reply::{error_page, found};
use crate::login_host::LoginHost;
use crate::signout;
use crate::visitor::Visitor;
use crate::web::csrf;
use crate::web::error::GatewayError;
use crate::web::pages;
use crate::web::reply::respond_html;

/// The parameters a confirmation posts back.
const CARRIED: [&str; 5] = [
    "id_token_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
    "ui_locales",
];

/// The claims of an ID token used as a logout hint.
#[derive(Deserialize)]
struct HintClaims {
    iss: String,
    aud: String,
    sid: Option<String>,
}

/// A logout request as it arrived.
#[derive(Clone, Copy)]
pub struct LogoutRequest<'a> {
    /// GET (the app's link) or POST (the confirmation form, or an app's form post).
    pub method: &'a Method,
    /// Its headers (the form token's cookie, the language).
    pub headers: &'a HeaderMap,
    /// Its parameters, from the query or the form.
    pub params: &'a Params,
}

/// Answers a logout request from a client.
pub async fn end_session(
    host: &LoginHost<'_>,
    provider: &Provider,
    keys: &KeySet,
    visitor: Option<&Visitor>,
    request: &LogoutRequest<'_>,
) -> Result<Response<Bytes>, GatewayError> {
    let LogoutRequest {
        method,
        headers,
        params,
    } = *request;
    let issuer = host.snapshot.issuer.as_str();
    let hint = match params.get("id_token_hint") {
        None => None,
        Some(token) => match verify_hint(keys, issuer, token, host.ctx.now.unix_secs()) {
            Some(hint) => Some(hint),
            None => {
                return Ok(invalid(
                    host,
                    "the id_token_hint is not a valid ID token of this provider",
                ));
            }
        },
    };
    let logout = match validate(params, hint.as_ref(), &provider.clients, issuer) {
        Ok(logout) => logout,
        Err(error) => return Ok(invalid(host, &error.to_string())),
    };
    let own_session = visitor.is_none_or(|v| {
        logout
            .sid
            .as_deref()
            .is_some_and(|sid| sid == v.session.sid.to_string())
    });
    let confirmed = *method == Method::POST
        && params.get("confirm") == Some("yes")
        && params
            .get("csrf")
            .is_some_and(|token| csrf::check(headers, token, &host.login_origin()));
    if !own_session && !confirmed {
        return Ok(confirmation(host, headers, params));
    }
    if logout.confirm && visitor.is_some() && !confirmed {
        return Ok(confirmation(host, headers, params));
    }
    if let Some(visitor) = visitor {
        signout::sign_out(host, visitor).await?;
    }
    Ok(finish(host, headers, &logout))
}

/// The hint's claims if its signature is ours (its expiry does not matter for a logout);
/// `now` is the request's time.
fn verify_hint(keys: &KeySet, issuer: &str, token: &str, now: u64) -> Option<IdTokenHint> {
    let options = VerifyOptions::new(issuer, Vec::<String>::new())
        .with_typ("JWT")
        .with_leeway(u64::from(u32::MAX));
    let claims: HintClaims = keys.verify(token, &options, now).ok()?;
    Some(IdTokenHint {
        iss: claims.iss,
        aud: claims.aud,
        sid: claims.sid,
    })
}

/// After the logout: to the client's registered page, or Pforte's signed-out page.
fn finish(host: &LoginHost<'_>, headers: &HeaderMap, request: &EndSession) -> Response<Bytes> {
    let mut response = match &request.redirect {
        Some(location) => found(location),
        None => respond_html(
            StatusCode::OK,
            pages::signed_out(
                host.language(None, headers),
                &host.snapshot.config.portal.theme,
            ),
        ),
    };
    signout::clear_session_cookies(host, response.headers_mut());
    response
}

/// Asks the person whether to sign out, posting the request back with a form token.
fn confirmation(host: &LoginHost<'_>, headers: &HeaderMap, params: &Params) -> Response<Bytes> {
    let token = csrf::new_token();
    let fields: Vec<(&str, &str)> = CARRIED
        .iter()
        .filter_map(|name| params.get(name).map(|value| (*name, value)))
        .collect();
    let body = pages::confirm_sign_out(
        host.language(params.get("ui_locales"), headers),
        &host.snapshot.config.portal.theme,
        pforte_oidc::discovery::paths::END_SESSION,
        &token,
        &fields,
    );
    csrf::with_cookie(
        respond_html(StatusCode::OK, body),
        &token,
        csrf::FORM_LIFETIME,
    )
}

fn invalid(host: &LoginHost<'_>, detail: &str) -> Response<Bytes> {
    host.shared
        .metrics
        .record_oidc_refusal("end_session", "invalid_request");
    error_page(
        &host.look(None),
        |t| &t.oidc_bad_sign_out_link,
        detail,
        &host.ctx.request_id,
    )
}
