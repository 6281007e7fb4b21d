//! The login host's own pages (`portal.host`): the login form, the portal with the person's
//! app tiles, and logout. The pipeline routes here only these pages; the OpenID Connect
//! provider, forward auth, the key set and the logo are siblings it routes to directly.
//!
//! ```text
//! GET  /              portal (tiles from the policy) · no session: → /login
//! GET  /login         the form · a session already: → return_to (hand-over) or /
//! POST /login         login::submit → new session → return_to or /
//! POST /logout        ends the session on every host and replica (signout)
//! GET|POST /mfa       second_factor: step-up to a second factor
//! GET  /security…     security: factors, recovery codes, sessions (and their forms)
//! POST …/passkey/…     passkey: the JSON of passkey ceremonies (register, step up, log in)
//! …  /federation/…     federation: logging in at a partner's OpenID provider
//! ```

pub mod federation;
pub mod login;
pub mod passkey;
pub mod return_to;
pub mod second_factor;
pub mod security;
pub mod throttle;

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use pforte_session::{SessionId, StoreError, Timestamp};

use crate::config::lang::Lang;
use crate::handover::{self, Binding};
use crate::login_host::LoginHost;
use crate::policy::engine::Subject;
use crate::proxy::body::FromClient;
use crate::signout;
use crate::telemetry::audit::{self, AuditEvent, FailureReason};
use crate::telemetry::limit_metrics::LimitedEndpoint;
use crate::telemetry::metrics::LoginResult;
use crate::visitor::Visitor;
use crate::web::csrf;
use crate::web::error::GatewayError;
use crate::web::form::Form;
use crate::web::pages::{self, PortalView, Tile};
use crate::web::reply::{read_form, respond_html, see_other};
use crate::web::url::query_value;
use return_to::ReturnTo;

/// A return URL as sent, if it names a host of this gateway on its public port.
fn check_return_to(host: &LoginHost<'_>, raw: &str) -> Option<ReturnTo> {
    return_to::check(
        raw,
        |name| host.snapshot.routes.knows_host(name),
        host.config().server.public_https_port,
    )
}

/// A refused login: audited with its reason class and metered.
fn refused(host: &LoginHost<'_>, username: &str, reason: FailureReason, result: LoginResult) {
    audit::record(
        host.audit_context(),
        AuditEvent::LoginFailure { username, reason },
    );
    host.shared.metrics.record_login(result);
}

/// Where someone with the session `id` goes from the login host: the return URL (through a
/// hand-over ticket bound to the browser when it is on an app host) or the portal. An app
/// host without the browser's binding is sent to directly: it asks for a bound hand-over.
async fn after_login(
    host: &LoginHost<'_>,
    id: &SessionId,
    return_to: Option<&ReturnTo>,
    binding: Option<&Binding>,
    now: Timestamp,
) -> Result<Response<Bytes>, StoreError> {
    let Some(target) = return_to else {
        return Ok(see_other("/"));
    };
    let Ok(uri) = target.as_str().parse::<http::Uri>() else {
        return Ok(see_other("/"));
    };
    let app_host = uri.host().unwrap_or_default();
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    if app_host == host.config().portal_host {
        return Ok(see_other(path));
    }
    let Some(binding) = binding else {
        return Ok(see_other(target.as_str()));
    };
    let ticket = host
        .sessions()
        .issue_ticket(id, &binding.audience(app_host), now)
        .await?;
    Ok(see_other(&handover::handover_url(
        app_host,
        &host.port_suffix(),
        &ticket,
        path,
    )))
}

/// Answers a request for the login host.
pub async fn handle<B: FromClient>(
    host: &LoginHost<'_>,
    visitor: Option<Visitor>,
    req: Request<B>,
) -> Result<Response<Bytes>, GatewayError> {
    let now = host.ctx.now;
    let query = req.uri().query().map(str::to_string);
    let lang_choice = query_value(query.as_deref(), "lang");
    let lang = host.language(lang_choice.as_deref(), req.headers());
    match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/") => Ok(match &visitor {
            Some(visitor) => portal_page(host, visitor, lang),
            None => see_other("/login"),
        }),
        (&Method::GET | &Method::HEAD, "/login") => {
            let return_to = query_value(query.as_deref(), "return_to")
                .and_then(|raw| check_return_to(host, &raw));
            // `prompt=login`: an app (OIDC) asks for the password again, session or not.
            let again = query_value(query.as_deref(), "prompt").as_deref() == Some("login");
            let username = query_value(query.as_deref(), "username").unwrap_or_default();
            let binding = query_value(query.as_deref(), "handover")
                .as_deref()
                .and_then(Binding::parse);
            // A partner's person (a login hint, or an app's OIDC login_hint passed on as the
            // user name, in their domain) goes to their provider.
            if visitor.is_none()
                && let Some(hint) = query_value(query.as_deref(), "login_hint")
                    .or_else(|| (!username.is_empty()).then(|| username.clone()))
                && let Some(response) =
                    federation::start_for_hint(host, &hint, return_to.as_ref(), binding.as_ref())
            {
                return Ok(response);
            }
            match visitor {
                Some(visitor) if !again => {
                    Ok(
                        after_login(host, &visitor.id, return_to.as_ref(), binding.as_ref(), now)
                            .await?,
                    )
                }
                _ => Ok(login::show(
                    host,
                    lang,
                    return_to.as_ref(),
                    binding.as_ref(),
                    &username,
                    None,
                    StatusCode::OK,
                )),
            }
        }
        (&Method::POST, "/login") => {
            host.rate_limit(LimitedEndpoint::Login, req.headers())?;
            let headers = req.headers().clone();
            let Some(body) = read_form(req).await else {
                return Err(GatewayError::BadForm);
            };
            let form = login::LoginForm::parse(&body);
            // A user name in a partner's domain logs in at the partner's provider, not here.
            let return_to = form
                .return_to
                .as_deref()
                .and_then(|raw| check_return_to(host, raw));
            let binding = form.handover.as_deref().and_then(Binding::parse);
            if let Some(response) = federation::start_for_hint(
                host,
                form.username.trim(),
                return_to.as_ref(),
                binding.as_ref(),
            ) {
                return Ok(response);
            }
            login::submit(host, &headers, form, now).await
        }
        (&Method::GET | &Method::HEAD, "/mfa") => {
            let return_to = query_value(query.as_deref(), "return_to")
                .and_then(|raw| check_return_to(host, &raw));
            second_factor::show(host, visitor.as_ref(), lang, return_to.as_ref()).await
        }
        (&Method::GET | &Method::HEAD, "/security") => {
            security::show(host, visitor.as_ref(), lang).await
        }
        (&Method::GET | &Method::HEAD, "/security/totp") => {
            let return_to = query_value(query.as_deref(), "return_to")
                .and_then(|raw| check_return_to(host, &raw));
            security::show_enrolment(host, visitor.as_ref(), lang, return_to.as_ref()).await
        }
        (
            &Method::POST,
            path @ ("/mfa"
            | "/security/totp"
            | "/security/factor"
            | "/security/recovery"
            | "/security/sessions/end"),
        ) => {
            let path = path.to_owned();
            if path == "/mfa" {
                host.rate_limit(LimitedEndpoint::SecondFactor, req.headers())?;
            }
            let headers = req.headers().clone();
            let Some(body) = read_form(req).await else {
                return Err(GatewayError::BadForm);
            };
            let form = Form::parse(&body);
            let visitor = visitor.as_ref();
            match path.as_str() {
                "/mfa" => second_factor::submit(host, visitor, &headers, &form, now).await,
                "/security/totp" => {
                    security::confirm_enrolment(host, visitor, &headers, &form).await
                }
                "/security/factor" => security::change_factor(host, visitor, &headers, &form).await,
                "/security/recovery" => {
                    security::renew_recovery_codes(host, visitor, &headers, &form).await
                }
                _ => security::end_session(host, visitor, &headers, &form).await,
            }
        }
        (&Method::POST, path) if passkey::is_endpoint(path) => {
            if matches!(path, passkey::STEP_UP | passkey::LOGIN) {
                host.rate_limit(LimitedEndpoint::SecondFactor, req.headers())?;
            }
            let path = path.to_owned();
            passkey::answer(host, visitor.as_ref(), &path, req).await
        }
        (_, path) if passkey::is_endpoint(path) => Err(GatewayError::MethodNotAllowed),
        (_, path) if federation::is_endpoint(path) => federation::answer(host, req).await,
        (&Method::POST, "/logout") => {
            let headers = req.headers().clone();
            let Some(body) = read_form(req).await else {
                return Err(GatewayError::BadForm);
            };
            let token = login::LoginForm::parse(&body).csrf;
            if !csrf::check(&headers, &token, &host.login_origin()) {
                return Err(GatewayError::BadForm);
            }
            logout(host, visitor, lang).await
        }
        (
            _,
            "/"
            | "/login"
            | "/logout"
            | "/mfa"
            | "/security"
            | "/security/totp"
            | "/security/factor"
            | "/security/recovery"
            | "/security/sessions/end",
        ) => Err(GatewayError::MethodNotAllowed),
        _ => Err(GatewayError::NotFound),
    }
}

/// The portal page: the apps this person may open from where they are, as the policy says.
fn portal_page(host: &LoginHost<'_>, visitor: &Visitor, lang: Lang) -> Response<Bytes> {
    let session = &visitor.session;
    let policy = &host.snapshot.policy;
    let subject: Subject = policy.subject(&session.username, &session.groups, session.login);
    let port = host.port_suffix();
    let apps = policy.portal_apps(&subject, host.ctx.peer.ip());
    let tiles = apps
        .iter()
        .filter_map(|app| {
            let app_host = app.host?;
            Some(Tile {
                name: app.display_name,
                url: format!("https://{app_host}{port}{}", app.path),
            })
        })
        .collect();
    let token = csrf::new_token();
    let body = pages::portal(&PortalView {
        lang,
        theme: &host.config().portal.theme,
        display_name: &session.display_name,
        tiles,
        csrf: &token,
    });
    csrf::with_cookie(
        respond_html(StatusCode::OK, body),
        &token,
        Duration::from_secs(12 * 3600),
    )
}

/// Ends the session everywhere: in the store (so every replica and every app host refuses it
/// within the revocation bound) and the cookie on the login host.
async fn logout(
    host: &LoginHost<'_>,
    visitor: Option<Visitor>,
    lang: Lang,
) -> Result<Response<Bytes>, GatewayError> {
    let mut upstream_logout = None;
    if let Some(visitor) = visitor {
        signout::sign_out(host, &visitor).await?;
        upstream_logout = federation::logout_url(host, &visitor.session).await;
    }
    let mut response = match upstream_logout {
        Some(url) => see_other(&url),
        None => respond_html(
            StatusCode::OK,
            pages::signed_out(lang, &host.config().portal.theme),
        ),
    };
    signout::clear_session_cookies(host, response.headers_mut());
    Ok(response)
}
