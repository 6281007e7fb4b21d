//! The server: binds the listeners, accepts connections under the limits, terminates TLS, hands
//! requests to the pipeline, and on SIGTERM stops accepting and drains what is in flight.
//!
//! ```text
//! run ─▶ load files ─▶ bind (https, http redirect, admin)
//!   ─▶ listener::accept_loop ─▶ admission (per address; shed idle when nearly full)
//!   ─▶ handlers: TLS ─▶ first bytes ─▶ conn::serve ─▶ pipeline::handle
//!        └─ reload on SIGHUP / file change / POST /reload (atomic swap)
//! ```

pub mod admission;
pub mod conn;
pub mod handlers;
pub mod listener;
pub mod redirect;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use pforte_session::Clock;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use crate::assemble::{AssembleError, assemble};
use crate::reload::Reloader;
use crate::telemetry::metrics::ListenerKind;
use crate::tls::{self, TlsError};
use admission::Admission;
use handlers::{Admitted, ListenerContext};
use listener::Gate;

/// Connections the admin listener serves at once.
const ADMIN_CONNECTIONS: usize = 64;

/// How often watched files are checked for changes.
const WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The gateway could not be assembled from its files and backends.
    #[error(transparent)]
    Assemble(#[from] AssembleError),
    /// A listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// TLS could not be configured.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Runs the gateway for the config at `config_path` until SIGTERM or SIGINT, then drains.
pub async fn run(config_path: &Path) -> Result<(), ServerError> {
    let shared = assemble(config_path, Clock::system()).await?;
    let config = shared.snapshot.load().config.clone();

    if let Some(outbound) = &shared.outbound {
        let notifier = crate::oidc::backchannel::Notifier::new(outbound.clone());
        shared.tasks.spawn(notifier.run(shared.clone()));
    }

    let https = bind_all(&config.server.listen).await?;
    let redirects = bind_all(&config.server.http_redirect).await?;
    let admin = bind_all(&[config.admin.listen]).await?;
    let acceptor = TlsAcceptor::from(tls::server_config(
        shared.certs.clone(),
        config.tls_profile,
    )?);
    let reloader = Arc::new(Reloader::new(shared.clone(), config_path.to_path_buf()));
    let limits = config.limits;

    let context = Arc::new(ListenerContext {
        shared: shared.clone(),
        reloader: reloader.clone(),
        acceptor,
        builder: conn::http_builder(&config.limits),
        limits: config.limits,
    });
    let mut accepting = tokio::task::JoinSet::new();
    let permits = Arc::new(Semaphore::new(config.limits.max_connections));
    let trusting = shared.clone();
    let gate = Some(Arc::new(Gate {
        admission: Admission::new(
            permits.clone(),
            limits.max_connections,
            limits.max_connections_per_address,
            limits.first_request_grace,
            shared.metrics.limits.clone(),
        ),
        trusted: Box::new(move |peer| trusting.snapshot.load().trusts(peer)),
    }));
    let https_gauge = Some(shared.metrics.open_connections(ListenerKind::Https));
    let redirect_gauge = Some(shared.metrics.open_connections(ListenerKind::HttpRedirect));
    let admin_permits = Arc::new(Semaphore::new(ADMIN_CONNECTIONS));
    for listener in https {
        spawn_accept(
            &mut accepting,
            listener,
            (&permits, &gate),
            &https_gauge,
            &context,
            handlers::https,
        );
    }
    for listener in redirects {
        spawn_accept(
            &mut accepting,
            listener,
            (&permits, &gate),
            &redirect_gauge,
            &context,
            handlers::redirect,
        );
    }
    for listener in admin {
        spawn_accept(
            &mut accepting,
            listener,
            (&admin_permits, &None),
            &None,
            &context,
            handlers::admin,
        );
    }
    tokio::spawn(reloader.clone().on_sighup());
    tokio::spawn(shared.rate_limits.clone().forget_quiet_addresses());
    tokio::spawn(reloader.watch_files(WATCH_INTERVAL));

    shared.ready.store(true, Ordering::Release);
    tracing::info!(
        https = ?config.server.listen,
        http_redirect = ?config.server.http_redirect,
        admin = %config.admin.listen,
        "pforte is serving"
    );

    shutdown_signal().await;
    tracing::info!(grace = ?limits.shutdown_grace, "shutting down: no new connections, draining requests in flight");
    shared.ready.store(false, Ordering::Release);
    shared.shutdown.cancel();
    while accepting.join_next().await.is_some() {}
    shared.tasks.close();
    if tokio::time::timeout(limits.shutdown_grace, shared.tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open = shared.tasks.len(),
            "grace period over; closing the remaining connections"
        );
    }
    tracing::info!("stopped");
    Ok(())
}

/// Accepts on `listener` in a task of `accepting`; each connection is handled by `handler` in a
/// task the shutdown drain waits for.
fn spawn_accept<F, Fut>(
    accepting: &mut tokio::task::JoinSet<()>,
    listener: TcpListener,
    (permits, gate): (&Arc<Semaphore>, &Option<Arc<Gate>>),
    gauge: &Option<prometheus::IntGauge>,
    context: &Arc<ListenerContext>,
    handler: F,
) where
    F: Fn(Arc<ListenerContext>, TcpStream, SocketAddr, Admitted) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let shutdown = context.shared.shutdown.clone();
    let context = context.clone();
    accepting.spawn(listener::accept_loop(
        listener,
        permits.clone(),
        gate.clone(),
        gauge.clone(),
        shutdown,
        move |stream, peer, guard| {
            let (activity, close) = guard.admitted();
            let work = handler(context.clone(), stream, peer, Admitted { activity, close });
            context.shared.tasks.spawn(async move {
                let _guard = guard;
                work.await;
            });
        },
    ));
}

async fn bind_all(addrs: &[SocketAddr]) -> Result<Vec<TcpListener>, ServerError> {
    let mut listeners = Vec::with_capacity(addrs.len());
    for &addr in addrs {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        listeners.push(listener);
    }
    Ok(listeners)
}

/// Resolves on the first SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            tracing::warn!("cannot listen for SIGTERM; stopping on Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
