//! `GET|POST /device` on the login host: a person enters the user code a device shows, sees
//! which app asks and for what, and approves or denies it (RFC 8628 §3.3).
//!
//! ```text
//! no session ─▶ /login?return_to=…/device?user_code=… (and back here)
//! GET  /device                 ─▶ the code form
//! GET  /device?user_code=…     ─▶ rate limit ─▶ UserCode::parse ─▶ the authorization it names,
//!                                 waiting for a decision ─▶ the confirmation (app, scopes)
//!                               └▶ not a code, unknown, decided, expired: the form says so
//! POST /device (csrf, user_code, decision) ─▶ rate limit ─▶ the authorization, again
//!    deny ─▶ Denied ─▶ "not signed in"
//!    approve ─▶ access::check ─▶ allowed: Approved (this session's login) ─▶ "signed in"
//!                            ├▶ step-up (login = "mfa"): /mfa?return_to=…/device?user_code=…
//!                            └▶ refused: Denied, audited oidc_access_denied ─▶ "not allowed"
//! ```
//!
//! Lookups count against `[limits.rate.device]` per address, so user codes cannot be guessed.
//! A decision ends the user code: it cannot be entered again.

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use pforte_oidc::Client;
use pforte_oidc::device::{DeviceGrant, UserCode};
use pforte_oidc::discovery::paths;
use pforte_session::Session;

use super::access::{self, Refused};
use super::grants::{Grants, LoadedDevice};
use super::issue::authentication_of;
use super::provider::Provider;
use crate::config::lang::Lang;
use crate::login_host::LoginHost;
use crate::policy::decide::Refusal;
use crate::proxy::body::FromClient;
use crate::telemetry::audit::{self, AuditEvent, OidcEvent};
use crate::telemetry::limit_metrics::LimitedEndpoint;
use crate::visitor::Visitor;
use crate::web::csrf;
use crate::web::device_grant_pages::{self, ConfirmView, EntryProblem, EntryView, Outcome};
use crate::web::error::GatewayError;
use crate::web::form::Form;
use crate::web::reply::{read_form, respond_html, see_other};
use crate::web::url::{encode, query_value};

/// How often a decision reads the record again when a poll changed it in between.
const ATTEMPTS: usize = 3;

/// Answers a request for the verification page.
pub async fn answer<B: FromClient>(
    host: &LoginHost<'_>,
    provider: &Provider,
    visitor: Option<&Visitor>,
    req: Request<B>,
) -> Result<Response<Bytes>, GatewayError> {
    let headers = req.headers().clone();
    if req.method() == Method::POST {
        let Some(body) = read_form(req).await else {
            return Err(GatewayError::BadForm);
        };
        let form = Form::parse(&body);
        let lang = host.language(form.non_empty("lang"), &headers);
        return decide(host, provider, visitor, &headers, &form, lang).await;
    }
    let query = req.uri().query();
    let lang = host.language(query_value(query, "lang").as_deref(), &headers);
    let typed = query_value(query, "user_code").filter(|t| !t.trim().is_empty());
    let Some(visitor) = visitor else {
        return Ok(to_login(host, typed.as_deref()));
    };
    let Some(typed) = typed else {
        return Ok(entry(host, lang, "", None, StatusCode::OK));
    };
    host.rate_limit(LimitedEndpoint::Device, &headers)?;
    Ok(match find(host, provider, &typed).await? {
        Ok(found) => confirmation(host, provider, lang, visitor, &found),
        Err(problem) => entry_refused(host, lang, &typed, problem),
    })
}

/// An authorization waiting for a decision, as found by its user code.
struct Found<'p> {
    user_code: UserCode,
    loaded: LoadedDevice,
    client: &'p Client,
}

/// The authorization `typed` names, if it is a user code and its device still waits for a
/// decision; its client must still be registered.
async fn find<'p>(
    host: &LoginHost<'_>,
    provider: &'p Provider,
    typed: &str,
) -> Result<Result<Found<'p>, EntryProblem>, GatewayError> {
    let Some(user_code) = UserCode::parse(typed) else {
        return Ok(Err(EntryProblem::Malformed));
    };
    let now = host.ctx.now.unix_secs();
    let Some(loaded) = Grants::new(&host.shared.sessions)
        .device_of(&user_code)
        .await?
        .filter(|loaded| loaded.grant.awaits_decision(now))
    else {
        return Ok(Err(EntryProblem::Unknown));
    };
    let Some(client) = provider.clients.get(&loaded.grant.client_id) else {
        return Ok(Err(EntryProblem::Unknown));
    };
    Ok(Ok(Found {
        user_code,
        loaded,
        client,
    }))
}

/// `POST /device`: the person's decision.
async fn decide(
    host: &LoginHost<'_>,
    provider: &Provider,
    visitor: Option<&Visitor>,
    headers: &HeaderMap,
    form: &Form,
    lang: Lang,
) -> Result<Response<Bytes>, GatewayError> {
    let typed = form.get("user_code");
    let Some(visitor) = visitor else {
        return Ok(to_login(host, Some(typed)));
    };
    if !csrf::check(headers, form.get("csrf"), &host.login_origin()) {
        return Ok(entry(
            host,
            lang,
            typed,
            Some(EntryProblem::FormExpired),
            StatusCode::FORBIDDEN,
        ));
    }
    host.rate_limit(LimitedEndpoint::Device, headers)?;
    let found = match find(host, provider, typed).await? {
        Ok(found) => found,
        Err(problem) => return Ok(entry_refused(host, lang, typed, problem)),
    };
    let app = app_name(host, provider, found.client);
    let outcome = match form.get("decision") {
        "approve" => {
            match access::check(
                host,
                provider,
                found.client,
                &visitor.session,
                host.ctx.peer.ip(),
            ) {
                Ok(()) => {
                    let authentication = authentication_of(&visitor.session);
                    (Outcome::Approved, Some(authentication))
                }
                Err(Refused::Rules(Refusal::StepUpRequired(_))) => {
                    return Ok(to_step_up(host, &found.user_code));
                }
                Err(refused) => {
                    audit_denied(host, found.client, &visitor.session, refused);
                    (Outcome::NotAllowed, None)
                }
            }
        }
        "deny" => (Outcome::Denied, None),
        _ => return Err(GatewayError::BadForm),
    };
    let (outcome, authentication) = outcome;
    let settled = settle(host, found.loaded, |grant| match &authentication {
        Some(authentication) => grant.approve(authentication.clone()),
        None => grant.deny(),
    })
    .await?;
    if !settled {
        return Ok(entry_refused(host, lang, typed, EntryProblem::Unknown));
    }
    Grants::new(&host.shared.sessions)
        .end_user_code(&found.user_code)
        .await?;
    let status = match outcome {
        Outcome::NotAllowed => StatusCode::FORBIDDEN,
        Outcome::Approved | Outcome::Denied => StatusCode::OK,
    };
    Ok(respond_html(
        status,
        device_grant_pages::decided(lang, &host.config().portal.theme, outcome, app),
    ))
}

/// Writes the decision `next` makes of the record, by compare-and-set: a poll may have changed
/// the record since it was read (it remembers each poll), then it is read again. `false` when
/// the authorization no longer waits for a decision (expired, or decided in another tab).
async fn settle(
    host: &LoginHost<'_>,
    mut loaded: LoadedDevice,
    next: impl Fn(&DeviceGrant) -> DeviceGrant,
) -> Result<bool, GatewayError> {
    let grants = Grants::new(&host.shared.sessions);
    let now = host.ctx.now.unix_secs();
    for _ in 0..ATTEMPTS {
        if grants
            .replace_device(&loaded, &next(&loaded.grant), now)
            .await?
        {
            return Ok(true);
        }
        match grants.reload_device(&loaded).await? {
            Some(again) if again.grant.awaits_decision(now) => loaded = again,
            _ => return Ok(false),
        }
    }
    Ok(false)
}

/// Audits a device the app's access rules refused the person, with the rule that refused.
fn audit_denied(host: &LoginHost<'_>, client: &Client, session: &Session, refused: Refused) {
    let because = match refused {
        Refused::NoApp => "the client belongs to no app".to_owned(),
        Refused::Rules(refusal) => {
            let (decision, rule) = refusal.explain(&host.snapshot.policy);
            format!("{decision}: {rule}")
        }
    };
    audit::record(
        host.audit_context(),
        AuditEvent::Oidc {
            event: OidcEvent::AccessDenied,
            client: &client.id,
            subject: Some(&session.subject),
            detail: &format!("device authorization refused by the app's access rules ({because})"),
        },
    );
}

/// The confirmation of `found`, with a fresh anti-forgery token.
fn confirmation(
    host: &LoginHost<'_>,
    provider: &Provider,
    lang: Lang,
    visitor: &Visitor,
    found: &Found<'_>,
) -> Response<Bytes> {
    let token = csrf::new_token();
    let user_code = found.user_code.display();
    let body = device_grant_pages::confirm(&ConfirmView {
        lang,
        theme: &host.config().portal.theme,
        csrf: &token,
        user_code: &user_code,
        app: app_name(host, provider, found.client),
        client_id: &found.client.id,
        scopes: found.loaded.grant.scopes.iter().collect(),
        person: &visitor.session.display_name,
    });
    csrf::with_cookie(
        respond_html(StatusCode::OK, body),
        &token,
        csrf::FORM_LIFETIME,
    )
}

/// The code form, with what was typed and what went wrong.
fn entry(
    host: &LoginHost<'_>,
    lang: Lang,
    typed: &str,
    problem: Option<EntryProblem>,
    status: StatusCode,
) -> Response<Bytes> {
    let body = device_grant_pages::entry(&EntryView {
        lang,
        theme: &host.config().portal.theme,
        typed,
        problem,
    });
    respond_html(status, body)
}

/// The code form for a code that names nothing to decide: 400 for a text that is no code,
/// 404 for a code no device waits under.
fn entry_refused(
    host: &LoginHost<'_>,
    lang: Lang,
    typed: &str,
    problem: EntryProblem,
) -> Response<Bytes> {
    let status = match problem {
        EntryProblem::Malformed => StatusCode::BAD_REQUEST,
        EntryProblem::Unknown => StatusCode::NOT_FOUND,
        EntryProblem::FormExpired => StatusCode::FORBIDDEN,
    };
    entry(host, lang, typed, Some(problem), status)
}

/// The display name of `client`'s app, or its client id when the app is gone.
fn app_name<'a>(host: &'a LoginHost<'_>, provider: &Provider, client: &'a Client) -> &'a str {
    provider
        .app_of(client)
        .and_then(|index| host.snapshot.apps.get(index))
        .map_or(client.id.as_str(), |runtime| {
            runtime.app.display_name.as_str()
        })
}

/// This page with `code` filled in, as an absolute URL for a `return_to`.
fn page_url(host: &LoginHost<'_>, code: Option<&UserCode>) -> String {
    let mut url = format!("{}{}", host.login_origin(), paths::DEVICE_VERIFICATION);
    if let Some(code) = code {
        url.push_str("?user_code=");
        url.push_str(&code.display());
    }
    url
}

/// A person without a session logs in first, then comes back here with the code: only a text
/// shaped like a code is carried through the login, in its one spelling.
fn to_login(host: &LoginHost<'_>, typed: Option<&str>) -> Response<Bytes> {
    let code = typed.and_then(UserCode::parse);
    see_other(&format!(
        "/login?return_to={}",
        encode(&page_url(host, code.as_ref()))
    ))
}

/// The app's rules want a second factor: the step-up page raises the session and returns to
/// the confirmation, where the person approves again.
fn to_step_up(host: &LoginHost<'_>, user_code: &UserCode) -> Response<Bytes> {
    see_other(&format!(
        "/mfa?return_to={}",
        encode(&page_url(host, Some(user_code)))
    ))
}
