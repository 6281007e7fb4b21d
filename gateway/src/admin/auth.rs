//! Who may use the listener's state-changing and status endpoints: the holder of the configured
//! bearer token (compared in constant time), or, when no token is configured, any loopback peer.
//! The probes (`/metrics`, `/healthz`, `/readyz`) need neither.

use std::net::SocketAddr;

use http::{Request, header};
use subtle::ConstantTimeEq;

use crate::state::Shared;

/// Whether the request may act.
pub(super) fn authorized<B>(shared: &Shared, peer: SocketAddr, req: &Request<B>) -> bool {
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
