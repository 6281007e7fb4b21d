//! What each listener does with an accepted connection: the HTTPS listener terminates TLS and
//! serves the pipeline, the redirect listener answers with redirects, the admin listener serves
//! the operators' endpoints.
//!
//! An HTTPS connection that has completed its handshake but sent nothing yet waits for its first
//! bytes in [`first_bytes`] before hyper takes it: hyper reserves its read and write buffers
//! (8 KiB each) when it starts, and the task's future is only as large as the handshake while
//! it waits, so a silent connection costs its TLS state and little more.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use super::{conn, redirect};
use crate::admin;
use crate::config::Limits;
use crate::pipeline::{self, ConnInfo};
use crate::proxy::slow_body::{MinRate, SlowBody};
use crate::reload::Reloader;
use crate::state::Shared;
use crate::telemetry::activity::Activity;

/// What every connection handler needs.
pub struct ListenerContext {
    /// Gateway state.
    pub shared: Arc<Shared>,
    /// The reload entry point (admin listener).
    pub reloader: Arc<Reloader>,
    /// TLS for the HTTPS listener.
    pub acceptor: TlsAcceptor,
    /// HTTP settings for every listener.
    pub builder: auto::Builder<TokioExecutor>,
    /// Timeouts.
    pub limits: Limits,
}

/// What a connection handler is given besides its stream: its activity record (which its
/// requests mark) and the token that asks it to close to make room.
pub struct Admitted {
    /// The connection's requests in flight and last activity.
    pub activity: Arc<Activity>,
    /// Fires when the connection is shed.
    pub close: CancellationToken,
}

/// Terminates TLS (within the head-read deadline), waits for the first bytes, and serves the
/// request pipeline.
pub async fn https(
    context: Arc<ListenerContext>,
    stream: TcpStream,
    peer: SocketAddr,
    admitted: Admitted,
) {
    let shared = context.shared.clone();
    let started = shared.clock.instant();
    // Boxed, as the TLS stream after it and hyper's state below: a tokio task is allocated at
    // the size of its future's largest state for as long as it lives, so a silent connection's
    // task holds pointers and each part takes its own size only while it is needed.
    let handshake = Box::pin(tokio::time::timeout(
        context.limits.header_read_timeout,
        context.acceptor.accept(stream),
    ));
    let mut tls = tokio::select! {
        done = handshake => match done {
            Ok(Ok(tls)) => Box::new(tls),
            Ok(Err(e)) => {
                shared.metrics.record_tls_handshake(false, 0.0);
                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                shared.metrics.record_tls_handshake(false, 0.0);
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        },
        () = admitted.close.cancelled() => return,
    };
    shared
        .metrics
        .record_tls_handshake(true, started.elapsed().as_secs_f64());
    if !first_bytes(
        &mut tls,
        &admitted.close,
        &shared.shutdown,
        context.limits.idle_timeout,
    )
    .await
    {
        return;
    }
    let Admitted { activity, close } = admitted;
    let info = Arc::new(ConnInfo {
        peer,
        activity: activity.clone(),
    });
    let shutdown = shared.shutdown.clone();
    let min_rate = MinRate::of(&context.limits, &shared.metrics.limits);
    let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
        let (shared, info, rate) = (shared.clone(), info.clone(), min_rate.clone());
        let req = req.map(|body| SlowBody::new(body, rate));
        async move { Ok::<_, Infallible>(pipeline::handle(shared, info, req).await) }
    });
    // Boxed: the connection's hyper state is allocated only once it has something to read.
    Box::pin(conn::serve(
        *tls,
        activity,
        service,
        &context.builder,
        context.limits.idle_timeout,
        shutdown,
        close,
    ))
    .await;
}

/// Waits until the client has sent something after the handshake: true then; false when it is
/// shed, the process shuts down, or it stays silent for `idle_timeout` (the connection closes).
/// Plaintext rustls already decrypted with the handshake's last flight counts as sent.
async fn first_bytes(
    tls: &mut TlsStream<TcpStream>,
    close: &CancellationToken,
    shutdown: &CancellationToken,
    idle_timeout: std::time::Duration,
) -> bool {
    let (tcp, session) = tls.get_mut();
    match session.process_new_packets() {
        Ok(state) if state.plaintext_bytes_to_read() == 0 && !state.peer_has_closed() => {}
        // Data waiting, the close already seen, or an error: hyper reads and reports it.
        _ => return true,
    }
    tokio::select! {
        readable = tcp.readable() => readable.is_ok(),
        () = close.cancelled() => false,
        () = shutdown.cancelled() => false,
        () = tokio::time::sleep(idle_timeout) => false,
    }
}

/// Answers every request with a redirect to HTTPS (or 404 for unknown hosts).
pub async fn redirect(
    context: Arc<ListenerContext>,
    stream: TcpStream,
    _peer: SocketAddr,
    admitted: Admitted,
) {
    let shared = context.shared.clone();
    let shutdown = shared.shutdown.clone();
    let Admitted { activity, close } = admitted;
    let requests = activity.clone();
    let service = service_fn(move |req| {
        let _in_flight = requests.begin_request();
        let response = redirect::redirect(&shared.snapshot.load(), &req);
        async move { Ok::<_, Infallible>(response) }
    });
    conn::serve(
        stream,
        activity,
        service,
        &context.builder,
        context.limits.idle_timeout,
        shutdown,
        close,
    )
    .await;
}

/// Serves the admin endpoints.
pub async fn admin(
    context: Arc<ListenerContext>,
    stream: TcpStream,
    peer: SocketAddr,
    admitted: Admitted,
) {
    let (shared, reloader) = (context.shared.clone(), context.reloader.clone());
    let shutdown = shared.shutdown.clone();
    let Admitted { activity, close } = admitted;
    let requests = activity.clone();
    let service = service_fn(move |req| {
        let (shared, reloader) = (shared.clone(), reloader.clone());
        let in_flight = requests.begin_request();
        async move {
            let response = admin::handle(&shared, &reloader, peer, req).await;
            drop(in_flight);
            Ok::<_, Infallible>(response)
        }
    });
    conn::serve(
        stream,
        activity,
        service,
        &context.builder,
        context.limits.idle_timeout,
        shutdown,
        close,
    )
    .await;
}
