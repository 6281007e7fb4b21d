//! The operators' listener (default 127.0.0.1:9090): `/metrics` for Prometheus, `/healthz`
//! (the process answers), `/readyz` (listeners bound and not draining: send traffic),
//! `POST /reload`, `POST /unlock?account=NAME` or `?address=IP` (lifts a brute-force lock), and
//! `POST /sessions/revoke?sid=SID` or `?subject=SUBJECT` (ends sessions on every replica), and
//! `GET /status` (what is loaded and whether the directory and the session store answer; the
//! same authorisation as the POSTs, since it names servers and counts sessions). A state-changing request needs the configured bearer token, compared in
//! constant time, or, when no token is configured, a loopback peer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use subtle::ConstantTimeEq;

use pforte_session::{Sid, ThrottleKind};

use crate::reload::Reloader;
use crate::state::Shared;
use crate::telemetry::audit::{self, AuditContext, AuditEvent};

/// Answers one admin request.
pub async fn handle<B>(
    shared: &Shared,
    reloader: &Reloader,
    peer: SocketAddr,
    req: Request<B>,
) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => {
            let mut response = text(StatusCode::OK, shared.metrics.render());
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        (&Method::GET, "/healthz") => text(StatusCode::OK, "ok\n"),
        (&Method::GET, "/readyz") => {
            if shared.ready.load(Ordering::Acquire) {
                text(StatusCode::OK, "ready\n")
            } else {
                text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
            }
        }
        (&Method::POST, "/reload") => {
            if !authorized(shared, peer, &req) {
                return text(StatusCode::UNAUTHORIZED, "admin token required\n");
            }
            match reloader.reload("admin request").await {
                Ok(()) => text(StatusCode::OK, "reloaded\n"),
                Err(err) => text(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("reload refused; the last good configuration stays in use:\n{err}\n"),
                ),
            }
        }
        (&Method::POST, "/unlock") => {
            if !authorized(shared, peer, &req) {
                return text(StatusCode::UNAUTHORIZED, "admin token required\n");
            }
            unlock(shared, req.uri().query()).await
        }
        (&Method::GET, "/status") => {
            if !authorized(shared, peer, &req) {
                return text(StatusCode::UNAUTHORIZED, "admin token required\n");
            }
            status(shared).await
        }
        (&Method::POST, "/sessions/revoke") => {
            if !authorized(shared, peer, &req) {
                return text(StatusCode::UNAUTHORIZED, "admin token required\n");
            }
            revoke(shared, req.uri().query()).await
        }
        (
            _,
            "/metrics" | "/healthz" | "/readyz" | "/reload" | "/unlock" | "/sessions/revoke"
            | "/status",
        ) => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// Clears the failure counter of one account (`account=NAME`) or client address (`address=IP`).
async fn unlock(shared: &Shared, query: Option<&str>) -> Response<Full<Bytes>> {
    let pairs = query_pairs(query);
    let target = pairs.iter().find_map(|(k, v)| match k.as_str() {
        "account" if !v.is_empty() => Some((ThrottleKind::Account, v.to_lowercase())),
        "address" => v
            .parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| (ThrottleKind::Source, ip.to_canonical().to_string())),
        _ => None,
    });
    let Some((kind, key)) = target else {
        return text(
            StatusCode::BAD_REQUEST,
            "name what to unlock: ?account=NAME or ?address=IP\n",
        );
    };
    match shared.sessions.clear(kind, &key).await {
        Ok(()) => {
            audit::record(
                AuditContext {
                    request_id: "",
                    source: None,
                },
                AuditEvent::Unlock {
                    scope: kind.as_str(),
                    key: &key,
                    by: "admin endpoint",
                },
            );
            text(
                StatusCode::OK,
                format!("unlocked {} {key}\n", kind.as_str()),
            )
        }
        Err(e) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the session store did not answer: {e}\n"),
        ),
    }
}

/// What runs and whether its backends answer, as JSON; `503` when something is unhealthy (so a
/// monitoring probe can use the status code alone).
async fn status(shared: &Shared) -> Response<Full<Bytes>> {
    let snapshot = shared.snapshot.load_full();
    let config = &snapshot.config;
    let sessions = match shared.sessions.count(shared.clock.now()).await {
        Ok(count) => serde_json::json!({ "healthy": true, "count": count }),
        Err(e) => serde_json::json!({ "healthy": false, "error": e.to_string() }),
    };
    let store = match &shared.sessions {
        pforte_session::SessionStore::Memory(_) => "memory",
        pforte_session::SessionStore::Redis(_) => "redis",
    };
    let directory = match &shared.directory {
        Some(directory) => {
            let health = directory.health().await;
            serde_json::json!({ "healthy": health.is_ready(), "servers": health.servers })
        }
        None => serde_json::json!({ "healthy": true, "servers": [] }),
    };
    let healthy = sessions["healthy"] == true && directory["healthy"] == true;
    let body = serde_json::json!({
        "healthy": healthy,
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": shared.started.elapsed().as_secs(),
        "ready": shared.ready.load(Ordering::Acquire),
        "config": config.source.display().to_string(),
        "last_reload_success": shared.metrics.last_reload_success(),
        "apps": snapshot.apps.iter().map(|a| a.app.name.as_str()).collect::<Vec<_>>(),
        "policy": {
            "file": config.policy_file.display().to_string(),
            "rules": snapshot.policy.rule_count(),
            "files": snapshot.policy.file_count(),
        },
        "certificates": config.certificates.len(),
        "keys": snapshot.keys.as_ref().map(|k| k.active().kid().to_string()),
        "sessions": { "store": store, "detail": sessions },
        "directory": directory,
    });
    let mut response = text(
        if healthy {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        body.to_string(),
    );
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Ends one session (`sid=SID`, the handle shown in listings and logs) or every session of one
/// person (`subject=SUBJECT`); every replica refuses them within the revocation bound.
async fn revoke(shared: &Shared, query: Option<&str>) -> Response<Full<Bytes>> {
    let pairs = query_pairs(query);
    let store = &shared.sessions;
    let now = shared.clock.now();
    let ended: Result<Vec<(String, String)>, pforte_session::StoreError> =
        match pairs.first().map(|(k, v)| (k.as_str(), v.as_str())) {
            Some(("sid", sid)) => {
                let Ok(sid) = Sid::parse(sid) else {
                    return text(
                        StatusCode::BAD_REQUEST,
                        "sid: 16 lower-case hex characters\n",
                    );
                };
                let owner = store
                    .list(None, now)
                    .await
                    .map(|all| all.into_iter().find(|s| s.sid == sid).map(|s| s.subject));
                match owner {
                    Ok(Some(subject)) => store
                        .revoke(&sid)
                        .await
                        .map(|_| vec![(subject, sid.to_string())]),
                    Ok(None) => Ok(Vec::new()),
                    Err(e) => Err(e),
                }
            }
            Some(("subject", subject)) if !subject.is_empty() => {
                match store.list(Some(subject), now).await {
                    Ok(sessions) => store.revoke_user(subject).await.map(|_| {
                        sessions
                            .into_iter()
                            .map(|s| (s.subject, s.sid.to_string()))
                            .collect()
                    }),
                    Err(e) => Err(e),
                }
            }
            _ => {
                return text(
                    StatusCode::BAD_REQUEST,
                    "name what to revoke: ?sid=SID or ?subject=SUBJECT\n",
                );
            }
        };
    match ended {
        Ok(ended) => {
            for (subject, session) in &ended {
                audit::record(
                    AuditContext {
                        request_id: "",
                        source: None,
                    },
                    AuditEvent::SessionRevoked {
                        subject,
                        session,
                        by: "admin endpoint",
                    },
                );
            }
            text(
                StatusCode::OK,
                format!("revoked {} session(s)\n", ended.len()),
            )
        }
        Err(e) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the session store did not answer: {e}\n"),
        ),
    }
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn authorized<B>(shared: &Shared, peer: SocketAddr, req: &Request<B>) -> bool {
    let snapshot = shared.snapshot.load();
    match &snapshot.config.admin.token {
        Some(token) => req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| bool::from(given.as_bytes().ct_eq(token.expose().as_bytes()))),
        None => peer.ip().is_loopback(),
    }
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Shared by the admin listener's connections.
pub struct AdminContext {
    /// Gateway state.
    pub shared: Arc<Shared>,
    /// Reload entry point.
    pub reloader: Arc<Reloader>,
}
