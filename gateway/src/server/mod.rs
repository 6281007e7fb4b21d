//! The server: binds the listeners, accepts connections under the limits, terminates TLS, hands
//! requests to the pipeline, and on SIGTERM stops accepting and drains what is in flight.
//!
//! ```text
//! run ─▶ load files ─▶ bind (https, http redirect, admin) ─▶ accept ─▶ TLS ─▶ conn::serve ─▶ pipeline::handle
//!                        └─ reload on SIGHUP / file change / POST /reload (atomic swap)
//! ```

pub mod activity;
pub mod conn;
pub mod listener;
pub mod redirect;
pub mod tls;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use hyper::service::service_fn;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::admin;
use crate::pipeline::{self, ConnInfo};
use crate::reload::{self, LoadError, Reloader};
use crate::state::Shared;
use crate::telemetry::Metrics;
use crate::telemetry::metrics::{ListenerKind, MetricsError, ReloadResult};
use activity::Activity;
use tls::{CertResolver, TlsError};

/// How often watched files are checked for changes.
const WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The files did not load.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// A listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// TLS could not be configured.
    #[error("{0}")]
    Tls(#[from] TlsError),
    /// Metrics could not be registered.
    #[error("{0}")]
    Metrics(#[from] MetricsError),
}

/// Runs the gateway for the config at `config_path` until SIGTERM or SIGINT, then drains.
pub async fn run(config_path: &Path) -> Result<(), ServerError> {
    let provider = tls::provider();
    let metrics = Arc::new(Metrics::new(env!("CARGO_PKG_VERSION"))?);
    let (snapshot, certs) = reload::load(config_path, &provider, &metrics, None)?;
    let config = snapshot.config.clone();
    metrics.record_reload(ReloadResult::Success, reload::unix_now());
    let shared = Arc::new(Shared {
        snapshot: ArcSwap::from_pointee(snapshot),
        metrics,
        certs: Arc::new(CertResolver::new(certs)),
        provider: provider.clone(),
        tasks: TaskTracker::new(),
        shutdown: CancellationToken::new(),
        started: Instant::now(),
        ready: Default::default(),
    });

    let https = bind_all(&config.server.listen).await?;
    let redirects = bind_all(&config.server.http_redirect).await?;
    let admin = bind_all(&[config.admin.listen]).await?;
    let acceptor = TlsAcceptor::from(tls::server_config(shared.certs.clone(), provider)?);
    let builder = Arc::new(conn::http_builder(&config.limits));
    let permits = Arc::new(Semaphore::new(config.limits.max_connections));
    let reloader = Arc::new(Reloader::new(shared.clone(), config_path.to_path_buf()));
    let limits = config.limits;

    let mut accepting = tokio::task::JoinSet::new();
    for listener in https {
        let (shared, acceptor, builder) = (shared.clone(), acceptor.clone(), builder.clone());
        let gauge = shared.metrics.open_connections(ListenerKind::Https);
        let (permits, shutdown) = (permits.clone(), shared.shutdown.clone());
        accepting.spawn(listener::accept_loop(listener, permits, Some(gauge), shutdown, move |stream, peer, guard| {
            let (shared, acceptor, builder) = (shared.clone(), acceptor.clone(), builder.clone());
            shared.clone().tasks.spawn(async move {
                let _guard = guard;
                let started = Instant::now();
                let tls = match tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream)).await {
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
                shared.metrics.record_tls_handshake(true, started.elapsed().as_secs_f64());
                let activity = Activity::new();
                let info = Arc::new(ConnInfo { peer, activity: activity.clone() });
                let shutdown = shared.shutdown.clone();
                let service = service_fn(move |req| {
                    let (shared, info) = (shared.clone(), info.clone());
                    async move { Ok::<_, Infallible>(pipeline::handle(shared, info, req).await) }
                });
                conn::serve(tls, activity, service, &builder, limits.idle_timeout, shutdown).await;
            });
        }));
    }
    for listener in redirects {
        let (shared, builder) = (shared.clone(), builder.clone());
        let gauge = shared.metrics.open_connections(ListenerKind::HttpRedirect);
        let (permits, shutdown) = (permits.clone(), shared.shutdown.clone());
        accepting.spawn(listener::accept_loop(
            listener,
            permits,
            Some(gauge),
            shutdown,
            move |stream, _peer, guard| {
                let (shared, builder) = (shared.clone(), builder.clone());
                shared.clone().tasks.spawn(async move {
                    let _guard = guard;
                    let shutdown = shared.shutdown.clone();
                    let service = service_fn(move |req| {
                        let response = redirect::redirect(&shared.snapshot.load(), &req);
                        async move { Ok::<_, Infallible>(response) }
                    });
                    conn::serve(
                        stream,
                        Activity::new(),
                        service,
                        &builder,
                        limits.idle_timeout,
                        shutdown,
                    )
                    .await;
                });
            },
        ));
    }
    for listener in admin {
        let (shared, builder, reloader) = (shared.clone(), builder.clone(), reloader.clone());
        let shutdown = shared.shutdown.clone();
        let admin_permits = Arc::new(Semaphore::new(64));
        accepting.spawn(listener::accept_loop(
            listener,
            admin_permits,
            None,
            shutdown,
            move |stream, peer, guard| {
                let (shared, builder, reloader) =
                    (shared.clone(), builder.clone(), reloader.clone());
                tokio::spawn(async move {
                    let _guard = guard;
                    let shutdown = shared.shutdown.clone();
                    let service = service_fn(move |req| {
                        let (shared, reloader) = (shared.clone(), reloader.clone());
                        async move {
                            Ok::<_, Infallible>(admin::handle(&shared, &reloader, peer, req).await)
                        }
                    });
                    conn::serve(
                        stream,
                        Activity::new(),
                        service,
                        &builder,
                        limits.idle_timeout,
                        shutdown,
                    )
                    .await;
                });
            },
        ));
    }
    tokio::spawn(reloader.clone().on_sighup());
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
