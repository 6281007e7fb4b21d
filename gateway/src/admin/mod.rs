//! The operators' listener (default 127.0.0.1:9090).
//!
//! ```text
//! request ─▶ handle: (method, path)
//!   ├─ probes, open to anyone   GET /metrics · /healthz (the process answers)
//!   │                           · /readyz (listeners bound, not draining, session store
//!   │                             answers: send traffic; else 503 and why)
//!   └─ auth::authorized (bearer token in constant time, or loopback without one)
//!        ├─ POST /reload                      reload (text)
//!        ├─ GET  /status                      status::report        (503 when unhealthy)
//!        ├─ GET  /sessions[?subject=S]        sessions::list
//!        ├─ GET  /sessions/SID                sessions::one
//!        ├─ POST /sessions/revoke?sid=|subject=[&by=ADMIN]   sessions::revoke
//!        ├─ GET  /locks?account=|address=     locks::state
//!        └─ POST /unlock?account=|address=[&by=ADMIN]        locks::unlock
//!   JSON answers are the types of [`api`]; failures go through reply::respond (400 with the
//!   parameter named, 404, 503 when the session store does not answer)
//! ```
//!
//! The session endpoints exist so that `pforte-admin` reaches sessions and locks of the memory
//! store, which live only inside this process; with Redis they answer the same. `/status` needs
//! the same authorisation as the changes, since it names servers and counts sessions.

pub mod api;
mod auth;
mod locks;
mod query;
mod reply;
mod sessions;
mod status;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;

use crate::reload::Reloader;
use crate::state::Shared;
use reply::{AdminError, json, respond, text};

/// The paths that answer; any other method on them is `405`.
const PATHS: &[&str] = &[
    "/metrics",
    "/healthz",
    "/readyz",
    "/reload",
    "/unlock",
    "/locks",
    "/sessions",
    "/sessions/revoke",
    "/status",
];

/// Answers one admin request.
pub async fn handle<B>(
    shared: &Shared,
    reloader: &Reloader,
    peer: SocketAddr,
    req: Request<B>,
) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    let query = req.uri().query();
    let method = req.method();
    match (method, path) {
        (&Method::GET, "/metrics") => {
            shared.probe.before_scrape(&shared.probed()).await;
            let mut response = text(StatusCode::OK, shared.metrics.render());
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            return response;
        }
        (&Method::GET, "/healthz") => return text(StatusCode::OK, "ok\n"),
        (&Method::GET, "/readyz") => return readiness(shared).await,
        _ => {}
    }
    let known = PATHS.contains(&path) || sid_in(path).is_some();
    if !known {
        return text(StatusCode::NOT_FOUND, "not found\n");
    }
    let allowed = match path {
        "/reload" | "/unlock" | "/sessions/revoke" => Method::POST,
        _ => Method::GET,
    };
    if *method != allowed {
        return text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    if !auth::authorized(shared, peer, &req) {
        return match path {
            "/reload" => text(StatusCode::UNAUTHORIZED, "admin token required\n"),
            _ => respond::<()>(Err(AdminError::Unauthorized)),
        };
    }
    match path {
        "/reload" => match reloader.reload("admin request").await {
            Ok(()) => text(StatusCode::OK, "reloaded\n"),
            Err(err) => text(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("reload refused; the last good configuration stays in use:\n{err}\n"),
            ),
        },
        "/status" => {
            let report = status::report(shared).await;
            let code = if report.healthy {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            json(code, &report)
        }
        "/sessions" => respond(sessions::list(shared, query).await),
        "/sessions/revoke" => respond(sessions::revoke(shared, peer, query).await),
        "/locks" => respond(locks::state(shared, query).await),
        "/unlock" => respond(locks::unlock(shared, peer, query).await),
        _ => match sid_in(path) {
            Some(sid) => respond(sessions::one(shared, sid).await),
            None => text(StatusCode::NOT_FOUND, "not found\n"),
        },
    }
}

/// `/readyz`: ready while the listeners are bound, the process is not draining and the session
/// store answers (a bounded ping, cached for two seconds); the body says why not. Deliberately
/// not asked: the directory, the upstream apps, the OIDC clients (docs/deployment.md,
/// "Monitoring", says why).
async fn readiness(shared: &Shared) -> Response<Full<Bytes>> {
    if !shared.ready.load(Ordering::Acquire) {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: starting or draining\n",
        );
    }
    match shared.probe.store(&shared.probed()).await {
        Ok(()) => text(StatusCode::OK, "ready\n"),
        Err(reason) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: session store unreachable: {reason}\n"),
        ),
    }
}

/// The `SID` of `/sessions/SID` (any text: the handler says when it is not a session id).
fn sid_in(path: &str) -> Option<&str> {
    path.strip_prefix("/sessions/")
        .filter(|rest| !rest.is_empty() && *rest != "revoke" && !rest.contains('/'))
}

/// Shared by the admin listener's connections.
pub struct AdminContext {
    /// Gateway state.
    pub shared: Arc<Shared>,
    /// Reload entry point.
    pub reloader: Arc<Reloader>,
}
