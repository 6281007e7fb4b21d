//! Accepting connections: at most `max_connections` at once (further clients wait in the kernel
//! backlog rather than being refused), TCP_NODELAY on, the open-connections gauge kept.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use prometheus::IntGauge;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

/// Held for as long as a connection is open.
pub struct ConnGuard {
    _permit: OwnedSemaphorePermit,
    gauge: Option<IntGauge>,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        if let Some(gauge) = &self.gauge {
            gauge.dec();
        }
    }
}

/// Accepts until `shutdown` fires, handing each connection to `serve`; `gauge` counts them.
pub async fn accept_loop<F>(
    listener: TcpListener,
    permits: Arc<Semaphore>,
    gauge: Option<IntGauge>,
    shutdown: CancellationToken,
    mut serve: F,
) where
    F: FnMut(TcpStream, SocketAddr, ConnGuard),
{
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
            () = shutdown.cancelled() => return,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => return,
        };
        match accepted {
            Ok((stream, peer)) => {
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
                    },
                );
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
