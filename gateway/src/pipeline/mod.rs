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
use crate::route::{self, Target};
use crate::server::activity::Activity;
use crate::state::{AppRuntime, Shared, Snapshot};
use crate::telemetry::access::Logged;
use crate::telemetry::audit::{self, AuditContext, AuditEvent};
use crate::telemetry::metrics::{DecisionResult, RouteMetrics};
use body::ResponseBody;
use context::RequestContext;
use decide::Verdict;
use error::GatewayError;

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
            tracing::debug!(request_id = ctx.request_id, error = %err, "request failed");
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
    if let Err(err) = path::normalise(&mut req) {
        return (
            snapshot.unrouted_metrics.clone(),
            Err(GatewayError::BadPath(err)),
        );
    }
    let Some(host) = route::request_host(&req) else {
        return (snapshot.unrouted_metrics.clone(), Err(GatewayError::NoHost));
    };
    let app_index = match snapshot.routes.resolve(&host, req.uri().path()) {
        None => {
            return (
                snapshot.unrouted_metrics.clone(),
                Err(GatewayError::UnknownHost(host)),
            );
        }
        Some(Target::Portal) => {
            let outcome = login_host(shared, snapshot, ctx, req).await;
            return (snapshot.portal_metrics.clone(), outcome);
        }
        Some(Target::App(index)) => index,
    };
    let Some(app) = snapshot.apps.get(app_index) else {
        return (
            snapshot.unrouted_metrics.clone(),
            Err(GatewayError::UnknownHost(host)),
        );
    };
    let outcome = app_host(shared, snapshot, ctx, app_index, app, &host, req).await;
    (app.metrics.clone(), outcome)
}

/// The login host: identify, then its own pages.
async fn login_host(
    shared: &Shared,
    snapshot: &Snapshot,
    ctx: &RequestContext,
    req: Request<Incoming>,
) -> Result<Response<ResponseBody>, GatewayError> {
    let visitor = identify::identify(&shared.sessions, req.headers(), Timestamp::now()).await?;
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
    app_index: usize,
    app: &AppRuntime,
    host: &str,
    req: Request<Incoming>,
) -> Result<Response<ResponseBody>, GatewayError> {
    if req.uri().path() == portal::sso::SSO_PATH {
        let page = portal::redeem(shared, snapshot, host, req.uri()).await?;
        return Ok(page.map(ResponseBody::local));
    }
    let visitor = identify::identify(&shared.sessions, req.headers(), Timestamp::now()).await?;
    let prepared = visitor
        .as_ref()
        .map(|v| shared.prepared.get(&v.session, &snapshot.policy));
    let session = prepared.as_deref().map(|p| &*p.session);
    let anonymous = Subject::anonymous();
    let subject = prepared.as_deref().map_or(&anonymous, |p| &p.subject);
    let verdict = decide::decide(&snapshot.policy, subject, app_index, ctx.peer.ip(), req);
    let permitted = match verdict {
        Verdict::Permit(permitted, _) => {
            app.decisions.record(DecisionResult::Allow);
            permitted
        }
        Verdict::Refuse(refusal) => {
            app.decisions.record(refusal.result());
            log_refusal(snapshot, ctx, &app.app.name, session, refusal);
            return Err(refused(snapshot, ctx, app, host, session, refusal));
        }
    };
    let client = ClientSide {
        peer: ctx.peer.ip(),
        trusted: snapshot.trusts(ctx.peer.ip()),
        host,
        request_id: &ctx.request_id,
    };
    let assertion = session.and_then(|s| assertion_for(shared, snapshot, ctx, app, app_index, s));
    let person = prepared.as_deref().map(|p| Identity {
        values: &p.values,
        assertion: assertion.as_deref(),
    });
    match proxy::forward(&app.proxy, permitted, client, person, &shared.tasks).await {
        Ok(response) => Ok(response.map(ResponseBody::upstream)),
        Err(err) => {
            tracing::warn!(request_id = ctx.request_id, app = %app.app.name, error = %err, "upstream error");
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
/// an API client with 401); everyone else gets the 403 page naming the app (and them).
fn refused(
    snapshot: &Snapshot,
    ctx: &RequestContext,
    app: &AppRuntime,
    host: &str,
    session: Option<&pforte_session::Session>,
    refusal: decide::Refusal,
) -> GatewayError {
    if refusal == decide::Refusal::LoginRequired {
        if ctx.wants_redirect {
            let port = portal::sso::port_suffix(snapshot.config.server.public_https_port);
            let back = portal::sso::request_url(host, &port, &ctx.uri);
            return GatewayError::LoginRedirect(portal::sso::login_url(
                &snapshot.config.portal_host,
                &port,
                &back,
            ));
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
