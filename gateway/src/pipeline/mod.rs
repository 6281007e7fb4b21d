//! The way of one request through the gateway, as one plain function:
//!
//! ```text
//! handle ─▶ path (normal form) ─▶ route (host + path → app | login host)
//!   ─▶ identify (session cookie → session, from the store's local cache)
//!   ─▶ login host: portal (login, portal, logout)
//!   ─▶ app: decide (policy) ─▶ proxy::forward (Permitted requests only, with identity headers)
//! ```
//!
//! One [`RequestContext`] carries the request's facts through the stages. Errors from any stage
//! come back here and become a response in [`error::respond`]; the access log line and request
//! metrics are written when the response body ends.

pub mod body;
pub mod context;
pub mod decide;
pub mod error;
pub mod identify;
pub mod pages;
pub mod path;

use std::net::SocketAddr;
use std::sync::Arc;

use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;

use pforte_session::Timestamp;

use crate::policy::engine::{RuleId, Subject};
use crate::portal::{self, LoginHost};
use crate::proxy::identity::Identity;
use crate::proxy::{self, headers::ClientSide};
use crate::route::{self, RequestHost, Target};
use crate::server::activity::Activity;
use crate::state::{AppRuntime, Shared, Snapshot};
use crate::telemetry::access::Logged;
use crate::telemetry::audit::{self, AuditContext, AuditEvent};
use crate::telemetry::error_chain;
use crate::telemetry::metrics::{DecisionResult, RouteMetrics};
use body::ResponseBody;
use context::RequestContext;
use decide::Verdict;
use error::GatewayError;
use path::PolicyPath;

/// The connection a request arrived on.
pub struct ConnInfo {
    /// The peer's address.
    pub peer: SocketAddr,
    /// Traffic and in-flight record of the connection.
    pub activity: Arc<Activity>,
}

/// Answers one request.
pub async fn handle(
    shared: Arc<Shared>,
    conn: Arc<ConnInfo>,
    req: Request<Incoming>,
) -> Response<Logged<ResponseBody>> {
    let in_flight = conn.activity.begin_request();
    let ctx = RequestContext::new(&req, conn.peer);
    let snapshot = shared.snapshot.load_full();
    let (route, outcome) = route_and_dispatch(&shared, &snapshot, &ctx, req).await;
    let mut response = match outcome {
        Ok(response) => response,
        Err(err) => {
            tracing::debug!(request_id = ctx.request_id, error = %error_chain(&err), "request failed");
            error::respond(&err, &ctx.request_id).map(ResponseBody::local)
        }
    };
    if let Ok(value) = HeaderValue::from_str(&ctx.request_id) {
        response
            .headers_mut()
            .insert(proxy::headers::REQUEST_ID, value);
    }
    let record = ctx.into_record(route, response.status(), in_flight);
    response.map(|body| Logged::new(body, record))
}

async fn route_and_dispatch(
    shared: &Shared,
    snapshot: &Snapshot,
    ctx: &RequestContext,
    mut req: Request<Incoming>,
) -> (
    Arc<RouteMetrics>,
    Result<Response<ResponseBody>, GatewayError>,
) {
    let unrouted = |err: GatewayError| (snapshot.unrouted_metrics.clone(), Err(err));
    let judged = match path::normalise(&mut req) {
        Ok(judged) => judged,
        Err(err) => return unrouted(GatewayError::BadPath(err)),
    };
    let host = match route::request_host(&req) {
        Ok(host) => host,
        Err(err) => return unrouted(GatewayError::BadHost(err)),
    };
    // From here on the request names exactly the authority it is routed and judged by.
    req.headers_mut()
        .insert(http::header::HOST, host.authority.clone());
    let index = match snapshot
        .routes
        .resolve(&host.name, judged.of(req.uri().path()))
    {
        None => return unrouted(GatewayError::UnknownHost(host.name)),
        Some(Target::Portal) => {
            let outcome = login_host(shared, snapshot, ctx, req).await;
            return (snapshot.portal_metrics.clone(), outcome);
        }
        Some(Target::App(index)) => index,
    };
    let Some(app) = snapshot.apps.get(index) else {
        return unrouted(GatewayError::UnknownHost(host.name));
    };
    let target = AppRequest {
        index,
        app,
        host,
        judged,
    };
    let outcome = app_host(shared, snapshot, ctx, &target, req).await;
    (app.metrics.clone(), outcome)
}

/// A request routed to an app: which app, for which host, judged on which path.
struct AppRequest<'a> {
    /// The app's index in the snapshot (the policy uses the same).
    index: usize,
    /// The app.
    app: &'a AppRuntime,
    /// The host the request was routed by, and the authority the app receives.
    host: RequestHost,
    /// The path the policy judges.
    judged: PolicyPath,
}

/// The login host: identify, then its own pages.
async fn login_host(
    shared: &Shared,
    snapshot: &Snapshot,
    ctx: &RequestContext,
    req: Request<Incoming>,
) -> Result<Response<ResponseBody>, GatewayError> {
    let visitor = identify::identify(
        &shared.sessions,
        req.headers(),
        snapshot.config.portal.cookie_domain.is_some(),
        Timestamp::now(),
    )
    .await?;
    let host = LoginHost {
        shared,
        snapshot,
        ctx,
    };
    let page = portal::handle(&host, visitor, req).await?;
    Ok(page.map(ResponseBody::local))
}

/// An app: the hand-over path, else identify → decide → proxy.
async fn app_host(
    shared: &Shared,
    snapshot: &Snapshot,
    ctx: &RequestContext,
    target: &AppRequest<'_>,
    req: Request<Incoming>,
) -> Result<Response<ResponseBody>, GatewayError> {
    let (app, host) = (target.app, target.host.name.as_str());
    match target.judged.of(req.uri().path()) {
        portal::sso::SSO_PATH => {
            let (parts, _) = req.into_parts();
            let page = portal::redeem(shared, snapshot, host, &parts).await?;
            return Ok(page.map(ResponseBody::local));
        }
        portal::sso::LOGIN_PATH => {
            let (parts, _) = req.into_parts();
            let page = portal::start_login(snapshot, host, &parts);
            return Ok(page.map(ResponseBody::local));
        }
        _ => {}
    }
    let visitor = identify::identify(
        &shared.sessions,
        req.headers(),
        snapshot.config.portal.cookie_domain.is_some(),
        Timestamp::now(),
    )
    .await?;
    let prepared = visitor
        .as_ref()
        .map(|v| shared.prepared.get(&v.session, &snapshot.policy));
    let session = prepared.as_deref().map(|p| &*p.session);
    let anonymous = Subject::anonymous();
    let subject = prepared.as_deref().map_or(&anonymous, |p| &p.subject);
    // Someone not logged in may be sent to log in: their browser's hand-over cookie, if any.
    let handover = visitor
        .is_none()
        .then(|| portal::handover::nonce(req.headers()))
        .flatten();
    let verdict = decide::decide(
        &snapshot.policy,
        subject,
        target.index,
        ctx.peer.ip(),
        &target.judged,
        req,
    );
    let permitted = match verdict {
        Verdict::Permit(permitted, _) => {
            app.decisions.record(DecisionResult::Allow);
            permitted
        }
        Verdict::Refuse(refusal) => {
            app.decisions.record(refusal.result());
            log_refusal(snapshot, ctx, &app.app.name, session, refusal);
            return Err(refused(
                snapshot,
                ctx,
                app,
                host,
                session,
                refusal,
                handover.as_deref(),
            ));
        }
    };
    let client = ClientSide {
        peer: ctx.peer.ip(),
        trusted: snapshot.trusts(ctx.peer.ip()),
        host,
        authority: &target.host.authority,
        request_id: &ctx.request_id,
    };
    let assertion =
        session.and_then(|s| assertion_for(shared, snapshot, ctx, app, target.index, s));
    let person = prepared.as_deref().map(|p| Identity {
        values: &p.values,
        assertion: assertion.as_deref(),
    });
    match proxy::forward(&app.proxy, permitted, client, person, &shared.tasks).await {
        Ok(response) => Ok(response.map(ResponseBody::upstream)),
        Err(err) => {
            if err.upstream_kind().is_some() {
                tracing::warn!(request_id = ctx.request_id, app = %app.app.name, error = %error_chain(&err), "upstream error");
            }
            Err(GatewayError::Proxy(err))
        }
    }
}

/// The signed assertion for an app that asks for one. A signing failure is logged and the
/// assertion left out: the app then refuses the request, as it must.
fn assertion_for(
    shared: &Shared,
    snapshot: &Snapshot,
    ctx: &RequestContext,
    app: &AppRuntime,
    app_index: usize,
    session: &pforte_session::Session,
) -> Option<String> {
    app.app.identity_headers.assertion.as_ref()?;
    let keys = snapshot.keys.as_deref()?;
    let now = Timestamp::now().unix_secs();
    match shared.assertions.get(
        keys,
        &snapshot.issuer,
        &app.app.name,
        app_index,
        session,
        now,
    ) {
        Ok(token) => Some(token),
        Err(e) => {
            tracing::error!(request_id = ctx.request_id, app = %app.app.name, error = %e, "cannot sign the assertion");
            None
        }
    }
}

/// What a refused request gets: someone not logged in is sent to log in (a browser by redirect,
/// with its hand-over binding; an API client with 401); everyone else gets the 403 page naming
/// the app (and them). `handover` is the browser's hand-over cookie, if it has one.
fn refused(
    snapshot: &Snapshot,
    ctx: &RequestContext,
    app: &AppRuntime,
    host: &str,
    session: Option<&pforte_session::Session>,
    refusal: decide::Refusal,
    handover: Option<&str>,
) -> GatewayError {
    if refusal == decide::Refusal::LoginRequired {
        if ctx.wants_redirect {
            let port = portal::sso::port_suffix(snapshot.config.server.public_https_port);
            let back = portal::sso::request_url(host, &port, &ctx.uri);
            let (binding, cookie) = portal::handover::start(handover);
            return GatewayError::LoginRedirect {
                location: portal::sso::login_url(
                    &snapshot.config.portal_host,
                    &port,
                    &back,
                    Some(&binding),
                ),
                cookie,
            };
        }
        return GatewayError::Unauthenticated;
    }
    GatewayError::Refused {
        app: app.app.display_name.clone(),
        user: session.map(|s| s.display_name.clone()),
        refusal,
    }
}

/// Every refusal goes to the audit log with the rule that refused (file:line) or the absence of
/// one.
fn log_refusal(
    snapshot: &Snapshot,
    ctx: &RequestContext,
    app: &str,
    session: Option<&pforte_session::Session>,
    refusal: decide::Refusal,
) {
    let rule = |id: RuleId| {
        snapshot
            .policy
            .rule_origin(id)
            .map_or_else(|| "unknown rule".to_string(), ToString::to_string)
    };
    let (decision, because) = match refusal {
        decide::Refusal::Denied(Some(id)) => ("deny", rule(id)),
        decide::Refusal::Denied(None) => ("deny", "no rule allows it (default deny)".to_string()),
        decide::Refusal::LoginRequired => (
            "login_required",
            "an allow rule needs a logged-in person".to_string(),
        ),
        decide::Refusal::StepUpRequired(login) => (
            "step_up_required",
            format!("an allow rule needs login = {login}"),
        ),
    };
    audit::record(
        AuditContext {
            request_id: &ctx.request_id,
            source: Some(ctx.peer.ip()),
        },
        AuditEvent::AccessDenied {
            subject: session.map(|s| s.subject.as_str()),
            app,
            method: ctx.method.as_str(),
            path: &ctx.path,
            decision,
            rule: &because,
        },
    );
}
