//! The way of one request through the gateway, as one plain function:
//!
//! ```text
//! handle ─▶ policy::path (normal form) ─▶ route::request_host ─▶ route (host + path → Target)
//!   ─▶ Target::App         app: visitor::identify ─▶ policy::decide ─▶ proxy::forward
//!   ─▶ Target::LoginPage   visitor::identify ─▶ portal (login form, portal page, logout)
//!   ─▶ Target::Oidc        visitor::identify ─▶ oidc (the OpenID Connect provider)
//!   ─▶ Target::Builtin     builtin: handover (/.pforte/*), forward_auth, key set, logo
//! ```
//!
//! One [`RequestContext`] carries the request's facts through the stages. Errors from any stage
//! come back here and become a response in [`crate::web::error::respond`], in the person's
//! language and the configured theme ([`crate::web::look`]); every answer gets the HSTS header
//! ([`crate::web::hsts`]) unless it is an app's that turned it off; the access log line
//! and request metrics are written when the response body ends.

pub mod app;
pub mod body;
pub mod builtin;

use std::net::SocketAddr;
use std::sync::Arc;

use http::{HeaderValue, Request, Response};

use tracing::Instrument;

use crate::login_host::LoginHost;
use crate::policy::path;
use crate::proxy;
use crate::proxy::body::FromClient;
use crate::route::{self, Target};
use crate::state::{Shared, Snapshot};
use crate::telemetry::access::Logged;
use crate::telemetry::activity::Activity;
use crate::telemetry::error_chain;
use crate::telemetry::metrics::RouteMetrics;
use crate::visitor::{self, Visitor};
use crate::web::context::RequestContext;
use crate::web::error::{self, GatewayError};
use crate::web::hsts;
use crate::web::look::Look;
use crate::web::url::query_value;
use app::AppRequest;
use body::ResponseBody;

/// The connection a request arrived on.
pub struct ConnInfo {
    /// The peer's address.
    pub peer: SocketAddr,
    /// Traffic and in-flight record of the connection.
    pub activity: Arc<Activity>,
}

/// Answers one request.
pub async fn handle<B: FromClient>(
    shared: Arc<Shared>,
    conn: Arc<ConnInfo>,
    req: Request<B>,
) -> Response<Logged<ResponseBody>> {
    let in_flight = conn.activity.begin_request();
    let ctx = RequestContext::new(&req, conn.peer, &shared.clock);
    let snapshot = shared.snapshot.load_full();
    let work = route_and_dispatch(&shared, &snapshot, &ctx, req);
    // A span no subscriber wants (the log level is above it) need not be entered on every poll.
    let (route, outcome) = if ctx.span.is_disabled() {
        work.await
    } else {
        work.instrument(ctx.span.clone()).await
    };
    let hsts_on = route.hsts;
    let route = route.metrics;
    let mut response = match outcome {
        Ok(response) => response,
        Err(err) => {
            ctx.span
                .in_scope(|| tracing::debug!(error = %error_chain(&err), "request failed"));
            // The page in the person's language (`?lang=` as the login host's switch writes
            // it, else the browser's) and the loaded theme, whichever stage failed.
            let choice = query_value(ctx.uri.query(), "lang");
            let look = Look::of(&snapshot.config, choice.as_deref(), ctx.accept_language());
            error::respond(&err, &look, &ctx.request_id).map(ResponseBody::local)
        }
    };
    hsts::apply(response.headers_mut(), &snapshot.config.hsts, hsts_on);
    ctx.answered(response.status());
    if let Ok(value) = HeaderValue::from_str(&ctx.request_id) {
        response
            .headers_mut()
            .insert(proxy::headers::REQUEST_ID, value);
    }
    let record = ctx.into_record(route, response.status(), in_flight);
    response.map(|body| Logged::new(body, record))
}

/// Where a request went: the metrics it counts in, and whether its answer carries the
/// gateway's HSTS header (everything but the answers of an app with `hsts = false`).
struct Routed {
    metrics: Arc<RouteMetrics>,
    hsts: bool,
}

impl Routed {
    fn gateway(metrics: &Arc<RouteMetrics>) -> Self {
        Self {
            metrics: metrics.clone(),
            hsts: true,
        }
    }
}

async fn route_and_dispatch<B: FromClient>(
    shared: &Shared,
    snapshot: &Snapshot,
    ctx: &RequestContext,
    mut req: Request<B>,
) -> (Routed, Result<Response<ResponseBody>, GatewayError>) {
    let unrouted = |err: GatewayError| (Routed::gateway(&snapshot.unrouted_metrics), Err(err));
    let judged = match path::normalise(&mut req) {
        Ok(judged) => judged,
        Err(err) => return unrouted(GatewayError::BadPath(err)),
    };
    let host = match route::request_host(&req) {
        Ok(host) => host,
        Err(err) => return unrouted(GatewayError::BadHost(err)),
    };
    // From here on the request names exactly the authority it is routed and judged by; no
    // later stage touches Host, and `Connection` cannot name it (proxy::headers).
    if let Some(rebuilt) = host.rebuilt.clone() {
        req.headers_mut().insert(http::header::HOST, rebuilt);
    }
    let target = snapshot
        .routes
        .resolve(&host.name, judged.of(req.uri().path()));
    let login_host = LoginHost {
        shared,
        snapshot,
        ctx,
    };
    match target {
        None => unrouted(GatewayError::UnknownHost(host.name)),
        Some(Target::App(index)) => {
            let Some(app) = snapshot.apps.get(index) else {
                return unrouted(GatewayError::UnknownHost(host.name));
            };
            let target = AppRequest {
                index,
                app,
                host,
                judged,
            };
            let outcome = app::app_host(shared, snapshot, ctx, &target, req).await;
            let routed = Routed {
                metrics: app.metrics.clone(),
                hsts: app.app.hsts,
            };
            (routed, outcome)
        }
        // The login host's and the built-ins' futures are large (forms, the OIDC grants) and
        // their requests few: boxed, they keep every request's future as small as an app's,
        // which the server moves into place for each request.
        Some(Target::LoginPage) => {
            ctx.learned_app(&snapshot.portal_metrics.label);
            let outcome = match identify(&login_host, req.headers()).await {
                Ok(visitor) => Box::pin(crate::portal::handle(&login_host, visitor, req)).await,
                Err(err) => Err(err),
            };
            (Routed::gateway(&snapshot.portal_metrics), local(outcome))
        }
        Some(Target::Oidc) => {
            ctx.learned_app(&snapshot.portal_metrics.label);
            let outcome = match (&snapshot.oidc, identify(&login_host, req.headers()).await) {
                (Some(provider), Ok(visitor)) => {
                    Box::pin(crate::oidc::handle(&login_host, provider, visitor, req)).await
                }
                (None, _) => Err(GatewayError::NotFound),
                (_, Err(err)) => Err(err),
            };
            (Routed::gateway(&snapshot.portal_metrics), local(outcome))
        }
        Some(Target::Builtin(which)) => {
            let routed = match which.app().and_then(|index| snapshot.apps.get(index)) {
                Some(app) => Routed {
                    metrics: app.metrics.clone(),
                    hsts: app.app.hsts,
                },
                None => Routed::gateway(&snapshot.portal_metrics),
            };
            ctx.learned_app(&routed.metrics.label);
            let outcome = Box::pin(builtin::answer(&login_host, which, &host.name, req)).await;
            (routed, local(outcome))
        }
    }
}

/// Who is asking the login host: the live session its cookie names, if any.
async fn identify(
    host: &LoginHost<'_>,
    headers: &http::HeaderMap,
) -> Result<Option<Visitor>, GatewayError> {
    let domain_cookie = host.config().portal.cookie_domain.is_some();
    let refresher = host.shared.refresher(host.snapshot, host.audit_context());
    let visitor = visitor::identify(&refresher, headers, domain_cookie, host.ctx.now).await?;
    if let Some(visitor) = &visitor {
        host.ctx.learned_subject(&visitor.session.subject);
    }
    Ok(visitor)
}

/// A page the gateway answers itself, as a response body.
fn local(
    outcome: Result<Response<bytes::Bytes>, GatewayError>,
) -> Result<Response<ResponseBody>, GatewayError> {
    outcome.map(|page| page.map(ResponseBody::local))
}
