//! The way of one request through the gateway, as one plain function:
//!
//! ```text
//! handle ─▶ route (host + path → app | login host) ─▶ decide (Permitted | …) ─▶ dispatch
//!                                                                  ├─▶ portal (login host)
//!                                                                  └─▶ proxy::forward (app)
//! ```
//!
//! Errors from any stage come back here and become a response in [`error::respond`]; the access
//! log line and request metrics are written when the response body ends.

pub mod body;
pub mod decide;
pub mod error;
pub mod pages;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;

use crate::proxy::{self, headers::ClientSide};
use crate::route::{self, Target};
use crate::server::activity::Activity;
use crate::state::{Shared, Snapshot};
use crate::telemetry::access::{AccessRecord, Logged};
use crate::telemetry::metrics::RouteMetrics;
use body::ResponseBody;
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
    let started = Instant::now();
    let snapshot = shared.snapshot.load_full();
    let request_id = proxy::headers::request_id(req.headers());
    let method = req.method().clone();
    let version = req.version();
    let path = req.uri().path().to_string();

    let (route, outcome) = route_and_dispatch(&shared, &snapshot, &conn, &request_id, req).await;
    let mut response = match outcome {
        Ok(response) => response,
        Err(err) => {
            tracing::debug!(request_id, error = %err, "request failed");
            error::respond(&err, &request_id).map(ResponseBody::local)
        }
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(proxy::headers::REQUEST_ID, value);
    }
    let record = AccessRecord {
        started,
        request_id,
        route,
        method,
        path,
        version,
        status: response.status(),
        peer: conn.peer.ip(),
        in_flight,
    };
    response.map(|body| Logged::new(body, record))
}

async fn route_and_dispatch(
    shared: &Shared,
    snapshot: &Snapshot,
    conn: &ConnInfo,
    request_id: &str,
    req: Request<Incoming>,
) -> (
    Arc<RouteMetrics>,
    Result<Response<ResponseBody>, GatewayError>,
) {
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
    let Verdict::Permit(permitted) = decide::decide(app_index, req);
    let client = ClientSide {
        peer: conn.peer.ip(),
        trusted: snapshot.trusts(conn.peer.ip()),
        host: &host,
        request_id,
    };
    let outcome = match proxy::forward(&app.proxy, permitted, client, &shared.tasks).await {
        Ok(response) => Ok(response.map(ResponseBody::upstream)),
        Err(err) => {
            tracing::warn!(request_id, app = %app.app.name, error = %err, "upstream error");
            Err(GatewayError::Proxy(err))
        }
    };
    (route, outcome)
}
