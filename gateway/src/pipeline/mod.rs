//! The way of one request through the gateway, as one plain function:
//!
//! ```text
//! handle ─▶ path (normal form) ─▶ route (host + path → app | login host) ─▶ decide (policy)
//!   ─▶ dispatch ─┬─▶ portal (login host)
//!                └─▶ proxy::forward (app, Permitted requests only)
//! ```
//!
//! One [`RequestContext`] carries the request's facts through the stages. Errors from any stage
//! come back here and become a response in [`error::respond`]; the access log line and request
//! metrics are written when the response body ends.

pub mod body;
pub mod context;
pub mod decide;
pub mod error;
pub mod pages;
pub mod path;

use std::net::SocketAddr;
use std::sync::Arc;

use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;

use crate::policy::engine::{RuleId, Subject};
use crate::proxy::{self, headers::ClientSide};
use crate::route::{self, Target};
use crate::server::activity::Activity;
use crate::state::{Shared, Snapshot};
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
            let page = crate::portal::start_page(snapshot).map(ResponseBody::local);
            return (snapshot.portal_metrics.clone(), Ok(page));
        }
        Some(Target::App(index)) => index,
    };
    let Some(app) = snapshot.apps.get(app_index) else {
        return (
            snapshot.unrouted_metrics.clone(),
            Err(GatewayError::UnknownHost(host)),
        );
    };
    let route = app.metrics.clone();
    let subject = Subject::anonymous();
    let permitted = match decide::decide(&snapshot.policy, &subject, app_index, ctx.peer.ip(), req)
    {
        Verdict::Permit(permitted, _) => {
            app.decisions.record(DecisionResult::Allow);
            permitted
        }
        Verdict::Refuse(refusal) => {
            app.decisions.record(refusal.result());
            log_refusal(snapshot, ctx, &app.app.name, refusal);
            let err = GatewayError::Refused {
                app: app.app.display_name.clone(),
                refusal,
            };
            return (route, Err(err));
        }
    };
    let client = ClientSide {
        peer: ctx.peer.ip(),
        trusted: snapshot.trusts(ctx.peer.ip()),
        host: &host,
        request_id: &ctx.request_id,
    };
    let outcome = match proxy::forward(&app.proxy, permitted, client, None, &shared.tasks).await {
        Ok(response) => Ok(response.map(ResponseBody::upstream)),
        Err(err) => {
            tracing::warn!(request_id = ctx.request_id, app = %app.app.name, error = %err, "upstream error");
            Err(GatewayError::Proxy(err))
        }
    };
    (route, outcome)
}

/// Every refusal goes to the audit log with the rule that refused (file:line) or the absence of
/// one.
fn log_refusal(snapshot: &Snapshot, ctx: &RequestContext, app: &str, refusal: decide::Refusal) {
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
            subject: None,
            app,
            method: ctx.method.as_str(),
            path: &ctx.path,
            decision,
            rule: &because,
        },
    );
}
