//! Accepting connections: at most `max_connections` at once, at most
//! `max_connections_per_address` from one address, idle connections shed when nearly all places
//! are taken ([`super::admission`]), TCP_NODELAY on, the open-connections gauge kept.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use prometheus::IntGauge;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio_util::sync::CancellationToken;

use super::admission::{Admission, Ticket};
use crate::telemetry::activity::Activity;

/// Held for as long as a connection is open.
pub struct ConnGuard {
    _permit: OwnedSemaphorePermit,
    gauge: Option<IntGauge>,
    ticket: Option<Ticket>,
}

impl ConnGuard {
    /// The connection's activity record and the token that asks it to close to make room (one
    /// that never fires for a listener without admission, the admin listener).
    pub fn admitted(&self) -> (Arc<Activity>, CancellationToken) {
        match &self.ticket {
            Some(ticket) => (ticket.activity.clone(), ticket.close.clone()),
            None => (Activity::new(), CancellationToken::new()),
        }
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        if let Some(gauge) = &self.gauge {
            gauge.dec();
        }
    }
}

/// Who a listener lets in: the public listeners share one [`Admission`]; `trusted` says which
/// peers are proxies, exempt from the per-address limit.
pub struct Gate {
    /// The shared admission.
    pub admission: Arc<Admission>,
    /// Whether a peer is a trusted proxy.
    pub trusted: Box<dyn Fn(IpAddr) -> bool + Send + Sync>,
}

/// Accepts until `shutdown` fires, handing each connection to `serve`; `gauge` counts them.
pub async fn accept_loop<F>(
    listener: TcpListener,
    permits: Arc<Semaphore>,
    gate: Option<Arc<Gate>>,
    gauge: Option<IntGauge>,
    shutdown: CancellationToken,
    mut serve: F,
) where
    F: FnMut(TcpStream, SocketAddr, ConnGuard),
{
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(TryAcquireError::Closed) => return,
            Err(TryAcquireError::NoPermits) => {
                match full(&permits, gate.as_deref(), &shutdown).await {
                    Some(permit) => permit,
                    None => return,
                }
            }
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                let ticket = match &gate {
                    Some(gate) => {
                        let ip = peer.ip();
                        let network = crate::web::client::network(ip);
                        match gate.admission.admit(network, (gate.trusted)(ip)) {
                            Some(ticket) => Some(ticket),
                            // Over its address's limit: closed at once (counted by admit).
                            None => continue,
                        }
                    }
                    None => None,
                };
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!(error = %e, "cannot set TCP_NODELAY");
                }
                if let Some(gauge) = &gauge {
                    gauge.inc();
                }
                serve(
                    stream,
                    peer,
                    ConnGuard {
                        _permit: permit,
                        gauge: gauge.clone(),
                        ticket,
                    },
                );
                // Keep a few places free for the next visitors.
                if let Some(gate) = &gate {
                    gate.admission.make_room();
                }
            }
            Err(e) => {
                // Out of file descriptors or a connection reset before accept: wait a moment
                // instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// How often a full listener looks again for connections that have become idle.
const SHED_RETRY: Duration = Duration::from_millis(200);

/// Waits for a place while every one is taken, closing idle connections rather than leave the
/// next visitor waiting; looks again while all are busy or within their first-request grace.
/// `None` on shutdown.
async fn full(
    permits: &Arc<Semaphore>,
    gate: Option<&Gate>,
    shutdown: &CancellationToken,
) -> Option<OwnedSemaphorePermit> {
    let acquire = permits.clone().acquire_owned();
    tokio::pin!(acquire);
    loop {
        if let Some(gate) = gate {
            gate.admission.make_room();
        }
        tokio::select! {
            permit = &mut acquire => return permit.ok(),
            () = shutdown.cancelled() => return None,
            () = tokio::time::sleep(SHED_RETRY), if gate.is_some() => {}
        }
    }
}
