//! What each listener does with an accepted connection: the HTTPS listener terminates TLS and
//! serves the pipeline, the redirect listener answers with redirects, the admin listener serves
//! the operators' endpoints.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::{conn, redirect};
use crate::admin;
use crate::config::Limits;
use crate::pipeline::{self, ConnInfo};
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

/// Terminates TLS (within the head-read deadline) and serves the request pipeline.
pub async fn https(context: Arc<ListenerContext>, stream: TcpStream, peer: SocketAddr) {
    let shared = context.shared.clone();
    let started = shared.clock.instant();
    let handshake = tokio::time::timeout(
        context.limits.header_read_timeout,
        context.acceptor.accept(stream),
    );
    let tls = match handshake.await {
        Ok(Ok(tls)) => tls,
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
    };
    shared
        .metrics
        .record_tls_handshake(true, started.elapsed().as_secs_f64());
    let activity = Activity::new();
    let info = Arc::new(ConnInfo {
        peer,
        activity: activity.clone(),
    });
    let shutdown = shared.shutdown.clone();
    let service = service_fn(move |req| {
        let (shared, info) = (shared.clone(), info.clone());
        async move { Ok::<_, Infallible>(pipeline::handle(shared, info, req).await) }
    });
    conn::serve(
        tls,
        activity,
        service,
        &context.builder,
        context.limits.idle_timeout,
        shutdown,
    )
    .await;
}

/// Answers every request with a redirect to HTTPS (or 404 for unknown hosts).
pub async fn redirect(context: Arc<ListenerContext>, stream: TcpStream, _peer: SocketAddr) {
    let shared = context.shared.clone();
    let shutdown = shared.shutdown.clone();
    let activity = Activity::new();
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
    )
    .await;
}

/// Serves the admin endpoints.
pub async fn admin(context: Arc<ListenerContext>, stream: TcpStream, peer: SocketAddr) {
    let (shared, reloader) = (context.shared.clone(), context.reloader.clone());
    let shutdown = shared.shutdown.clone();
    let activity = Activity::new();
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
    )
    .await;
}
