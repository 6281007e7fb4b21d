//! Serving one accepted connection with hyper: HTTP/1.1 (with upgrades) and HTTP/2 on the same
//! socket, head-size and head-time limits, an idle timeout, and a graceful close when the process
//! shuts down or the connection is shed to make room (in-flight requests finish; HTTP/2 clients
//! get GOAWAY).
//!
//! The head-time limit: hyper's HTTP/1 `header_read_timeout` runs from the moment hyper waits
//! for a head (the connection's first bytes, or the end of the previous response) until the
//! head is complete; bytes trickling in do not restart it. HTTP/2 has no such timer in hyper: a
//! connection whose requests never complete their heads has no request in flight, so it is idle
//! and closes after `idle_timeout` (or sooner, when shed to make room).

use std::time::Duration;

use http::{Request, Response};
use hyper::body::{Body, Incoming};
use hyper::service::Service;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

use crate::config::Limits;
use crate::telemetry::activity::Activity;

/// The hyper connection builder with the configured limits.
pub fn http_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes)
        .keep_alive(true)
        .writev(false);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        .max_concurrent_streams(256)
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
}

/// Serves `io` with `service` until the client closes, the connection idles out, or `shutdown`
/// fires (then gracefully).
pub async fn serve<IO, S, B>(
    io: IO,
    activity: std::sync::Arc<Activity>,
    service: S,
    builder: &auto::Builder<TokioExecutor>,
    idle_timeout: Duration,
    shutdown: CancellationToken,
    close: CancellationToken,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let io = TokioIo::new(io);
    let connection = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(connection);
    let period = (idle_timeout / 4).max(Duration::from_millis(100));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let mut closing = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                break;
            }
            () = shutdown.cancelled(), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            () = close.cancelled(), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = tick.tick(), if !closing => {
                if activity.idle_for(idle_timeout) {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}
