//! The login host (`portal.host`): the login form, the portal with the person's app tiles,
//! logout, and the hand-over that carries a login to the app hosts.
//!
//! ```text
//! GET  /              portal (tiles from the policy) · no session: → /login
//! GET  /login         the form · a session already: → return_to (hand-over) or /
//! POST /login         login::submit → new session → return_to or /
//! POST /logout        ends the session on every host and replica
//! GET  /assets/logo   the theme's logo
//! GET  /auth/verify   forward auth for sites behind their own proxy (verify)
//! GET  /.well-known/jwks.json   the public signing keys (assertions, later OIDC tokens)
//! app host GET /.pforte/sso?ticket=…   sso: redeem a hand-over ticket, set that host's cookie
//! app host GET /.pforte/login?return_to=…   off to log in, with this browser's hand-over binding
//! ```

pub mod cookies;
pub mod csrf;
pub mod handover;
pub mod i18n;
pub mod login;
pub mod pages;
pub mod return_to;
pub mod sso;
pub mod theme;
pub mod verify;

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use pforte_session::{SessionId, SessionStore, StoreError, Timestamp};

use crate::config::Config;
use crate::pipeline::context::RequestContext;
use crate::pipeline::error::GatewayError;
use crate::pipeline::identify::Visitor;
use crate::pipeline::pages::html_response;
use crate::policy::engine::Subject;
use crate::state::{Shared, Snapshot};
use crate::telemetry::audit::{self, AuditContext, AuditEvent, FailureReason};
use crate::telemetry::metrics::LoginResult;
use i18n::Lang;
use pages::{PortalView, Tile};
use return_to::ReturnTo;

/// What the login host's handlers need for one request.
pub struct LoginHost<'a> {
    /// Process state: directory, sessions, metrics.
    pub shared: &'a Shared,
    /// The loaded config, routes, apps and policy.
    pub snapshot: &'a Snapshot,
    /// This request's facts.
    pub ctx: &'a RequestContext,
}

impl LoginHost<'_> {
    fn config(&self) -> &Config {
        &self.snapshot.config
    }

    fn sessions(&self) -> &SessionStore {
        &self.shared.sessions
    }

    fn port_suffix(&self) -> String {
        sso::port_suffix(self.config().server.public_https_port)
    }

    /// `https://login.example.org[:port]`, what the browser sends as `Origin` for our forms.
    pub fn login_origin(&self) -> String {
        format!(
            "https://{}{}",
            self.config().portal_host,
            self.port_suffix()
        )
    }

    /// The language of the page: the explicit choice, else the browser's, else the default.
    pub fn language(&self, choice: Option<&str>, headers: &HeaderMap) -> Lang {
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        Lang::negotiate(choice, accept, self.config().portal.default_language)
    }

    fn check_return_to(&self, raw: &str) -> Option<ReturnTo> {
        return_to::check(
            raw,
            |host| self.snapshot.routes.knows_host(host),
            self.config().server.public_https_port,
        )
    }

    fn cookie_lifetime(&self) -> Duration {
        self.config().sessions.sessions.absolute_timeout
    }

    /// Where audit events of this request come from.
    pub fn audit_context(&self) -> AuditContext<'_> {
        AuditContext {
            request_id: &self.ctx.request_id,
            source: Some(self.ctx.peer.ip()),
        }
    }

    /// A refused login: audited with its reason class and metered.
    fn refused(&self, username: &str, reason: FailureReason, result: LoginResult) {
        audit::record(
            self.audit_context(),
            AuditEvent::LoginFailure { username, reason },
        );
        self.shared.metrics.record_login(result);
    }

    /// Where someone with the session `id` goes from the login host: the return URL (through a
    /// hand-over ticket bound to the browser when it is on an app host) or the portal. An app
    /// host without the browser's binding is sent to directly: it asks for a bound hand-over.
    async fn after_login(
        &self,
        id: &SessionId,
        return_to: Option<&ReturnTo>,
        binding: Option<&handover::Binding>,
        now: Timestamp,
    ) -> Result<Response<Bytes>, StoreError> {
        let Some(target) = return_to else {
            return Ok(see_other("/"));
        };
        let Ok(uri) = target.as_str().parse::<http::Uri>() else {
            return Ok(see_other("/"));
        };
        let host = uri.host().unwrap_or_default();
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        if host == self.config().portal_host {
            return Ok(see_other(path));
        }
        let Some(binding) = binding else {
            return Ok(see_other(target.as_str()));
        };
        let ticket = self
            .sessions()
            .issue_ticket(id, &binding.audience(host), now)
            .await?;
        Ok(see_other(&sso::handover_url(
            host,
            &self.port_suffix(),
            &ticket,
            path,
        )))
    }
}

/// Answers a request for the login host.
pub async fn handle(
    host: &LoginHost<'_>,
    visitor: Option<Visitor>,
    req: Request<Incoming>,
) -> Result<Response<Bytes>, GatewayError> {
    if let Some(provider) = &host.snapshot.oidc
        && crate::oidc::is_endpoint(req.uri().path())
    {
        return crate::oidc::handle(host, provider, visitor, req).await;
    }
    let now = Timestamp::now();
    let query = req.uri().query().map(str::to_string);
    let lang_choice = sso::query_value(query.as_deref(), "lang");
    let lang = host.language(lang_choice.as_deref(), req.headers());
    match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/") => Ok(match &visitor {
            Some(visitor) => portal_page(host, visitor, lang),
            None => see_other("/login"),
        }),
        (&Method::GET | &Method::HEAD, "/login") => {
            let return_to = sso::query_value(query.as_deref(), "return_to")
                .and_then(|raw| host.check_return_to(&raw));
            // `prompt=login`: an app (OIDC) asks for the password again, session or not.
            let again = sso::query_value(query.as_deref(), "prompt").as_deref() == Some("login");
            let username = sso::query_value(query.as_deref(), "username").unwrap_or_default();
            let binding = sso::query_value(query.as_deref(), "handover")
                .as_deref()
                .and_then(handover::Binding::parse);
            match visitor {
                Some(visitor) if !again => Ok(host
                    .after_login(&visitor.id, return_to.as_ref(), binding.as_ref(), now)
                    .await?),
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
            let headers = req.headers().clone();
            let Some(body) = read_form(req).await else {
                return Err(GatewayError::BadForm);
            };
            login::submit(host, &headers, login::LoginForm::parse(&body), now).await
        }
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
        (&Method::GET | &Method::HEAD, JWKS_PATH) => match &host.snapshot.keys {
            Some(_) => Ok(crate::oidc::reply::json_public(host.snapshot.jwks.clone())),
            None => Err(GatewayError::NotFound),
        },
        (&Method::GET | &Method::HEAD, "/auth/verify") => {
            let prepared = visitor
                .as_ref()
                .map(|v| host.shared.prepared.get(&v.session, &host.snapshot.policy));
            Ok(verify::answer(
                host.snapshot,
                prepared.as_deref(),
                req.headers(),
                host.ctx.peer.ip(),
            ))
        }
        (&Method::GET | &Method::HEAD, theme::LOGO_PATH) => {
            match &host.config().portal.theme.logo {
                Some(logo) => Ok(asset(logo.bytes.clone(), logo.content_type)),
                None => Err(GatewayError::NotFound),
            }
        }
        (_, "/" | "/login" | "/logout") => Err(GatewayError::MethodNotAllowed),
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
    let mut response = respond_html(StatusCode::OK, body);
    if let Some(cookie) = cookies::set(cookies::CSRF, &token, Duration::from_secs(12 * 3600)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Ends the session everywhere: in the store (so every replica and every app host refuses it
/// within the revocation bound) and the cookie on the login host.
async fn logout(
    host: &LoginHost<'_>,
    visitor: Option<Visitor>,
    lang: Lang,
) -> Result<Response<Bytes>, GatewayError> {
    if let Some(visitor) = visitor {
        sign_out(host, &visitor).await?;
    }
    let mut response = respond_html(
        StatusCode::OK,
        pages::signed_out(lang, &host.config().portal.theme),
    );
    clear_session_cookies(host, response.headers_mut());
    Ok(response)
}

/// Ends the visitor's session in the store, so every replica and every app host refuses it
/// within the revocation bound and OIDC clients holding its tokens are told (back-channel
/// logout), and audits the logout.
pub async fn sign_out(host: &LoginHost<'_>, visitor: &Visitor) -> Result<(), StoreError> {
    let session = &visitor.session;
    host.sessions().revoke(&session.sid).await?;
    let sid = session.sid.to_string();
    audit::record(
        host.audit_context(),
        AuditEvent::Logout {
            subject: &session.subject,
            session: &sid,
        },
    );
    Ok(())
}

/// Clears the login host's session and form cookies (and the parent-domain one, if used).
pub fn clear_session_cookies(host: &LoginHost<'_>, headers: &mut HeaderMap) {
    headers.append(header::SET_COOKIE, cookies::clear(cookies::SESSION));
    headers.append(header::SET_COOKIE, cookies::clear(cookies::CSRF));
    if let Some(domain) = &host.config().portal.cookie_domain
        && let Some(cookie) = cookies::clear_for_domain(cookies::DOMAIN_SESSION, domain)
    {
        headers.append(header::SET_COOKIE, cookie);
    }
}

/// Reads a small form body; `None` when it is too large or broken.
pub async fn read_form(req: Request<Incoming>) -> Option<Bytes> {
    Limited::new(req.into_body(), login::MAX_FORM_BYTES)
        .collect()
        .await
        .ok()
        .map(|collected| collected.to_bytes())
}

/// A page of the login host: never cached, never framed, images only from itself.
pub fn respond_html(status: StatusCode, body: String) -> Response<Bytes> {
    let mut response = html_response(status, body);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    // `same-origin`, not `no-referrer`: with no referrer policy browsers send `Origin: null` on
    // the login form's post, which the anti-forgery check must refuse.
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A `303 See Other` to `location` (after a form post, the browser follows with a GET).
pub fn see_other(location: &str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Where the login host publishes the signing keys (RFC 7517 JWK set).
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

fn asset(bytes: Bytes, content_type: &'static str) -> Response<Bytes> {
    let mut response = Response::new(bytes);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Redeems a hand-over ticket on an app host: with the browser's hand-over cookie, sets that
/// host's session cookie and lands on the local path. A ticket that is unknown, used, expired,
/// for another host or for another browser sends the person to log in again (which hands over
/// a fresh ticket when their session is alive).
pub async fn redeem(
    shared: &Shared,
    snapshot: &Snapshot,
    host: &str,
    req: &http::request::Parts,
) -> Result<Response<Bytes>, GatewayError> {
    let now = Timestamp::now();
    let ticket = sso::query_value(req.uri.query(), "ticket").unwrap_or_default();
    let landing = landing(req.uri.query());
    let redeemed = match handover::proven(&req.headers) {
        Some(binding) => {
            shared
                .sessions
                .redeem_ticket(&ticket, &binding.audience(host), now)
                .await?
        }
        None => None,
    };
    let Some(id) = redeemed else {
        return Ok(to_login(snapshot, host, &landing, &req.headers));
    };
    let mut response = see_other(&landing);
    let lifetime = snapshot.config.sessions.sessions.absolute_timeout;
    if let Some(cookie) = cookies::set(cookies::SESSION, &id.to_cookie_value(), lifetime) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::clear(cookies::HANDOVER));
    Ok(response)
}

/// `/.pforte/login` on an app host: off to the login host with this browser's hand-over
/// binding, to come back to the local `return_to` path.
pub fn start_login(snapshot: &Snapshot, host: &str, req: &http::request::Parts) -> Response<Bytes> {
    to_login(snapshot, host, &landing(req.uri.query()), &req.headers)
}

/// The local path a query's `return_to` names, `/` when it names none or another host.
fn landing(query: Option<&str>) -> String {
    let landing = sso::query_value(query, "return_to");
    landing
        .as_deref()
        .and_then(sso::local_path)
        .unwrap_or("/")
        .to_string()
}

/// The redirect from app host `host` to the login form, returning to `landing` there, with the
/// browser's hand-over binding (and its cookie, for a browser that has none yet).
fn to_login(
    snapshot: &Snapshot,
    host: &str,
    landing: &str,
    headers: &HeaderMap,
) -> Response<Bytes> {
    let port = sso::port_suffix(snapshot.config.server.public_https_port);
    let back = format!("https://{host}{port}{landing}");
    let (binding, cookie) = handover::start(handover::nonce(headers).as_deref());
    let mut response = see_other(&sso::login_url(
        &snapshot.config.portal_host,
        &port,
        &back,
        Some(&binding),
    ));
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
