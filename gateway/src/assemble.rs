//! The gateway assembled from its config file, apart from serving it: the snapshot (config,
//! apps, policy, certificates, keys, the OIDC provider), the metrics, the directory and the
//! session store, and the clock everything judges time by. `server::run` serves what this
//! returns; tests call it with a manual clock and hand requests to `pipeline::handle` in-process.

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use pforte_session::Clock;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::backends::{self, BackendError};
use crate::config::DirectoryConfig;
use crate::crypto;
use crate::reload::{self, LoadError};
use crate::state::Shared;
use crate::telemetry::Metrics;
use crate::telemetry::metrics::{MetricsError, ReloadResult};
use crate::tls::CertResolver;

/// Why the gateway could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    /// The files did not load.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Metrics could not be registered.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// The directory or the session store could not be opened.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The OIDC provider's client for calls to apps cannot be built (its CA file).
    #[error(transparent)]
    Outbound(#[from] crate::outbound::CaError),
}

/// Loads everything `config_path` names and opens the backends, keeping time by `clock`.
/// Nothing is bound and no task is started: the caller serves the result (or tests it).
pub async fn assemble(config_path: &Path, clock: Clock) -> Result<Arc<Shared>, AssembleError> {
    let provider = crypto::client_provider();
    let metrics = Arc::new(Metrics::new(env!("CARGO_PKG_VERSION"), clock.clone())?);
    let now = clock.now();
    let set = reload::load(config_path, &provider, &metrics, None, now)?;
    set.log_warnings();
    let (snapshot, certs) = (set.snapshot, set.certs);
    let unix = i64::try_from(now.unix_secs()).unwrap_or(i64::MAX);
    metrics.record_reload(ReloadResult::Success, unix);
    metrics.record_policy_load(ReloadResult::Success, unix, snapshot.policy.rule_count());
    metrics
        .deadlines
        .load(&snapshot.config.certificates, snapshot.config.keys.as_ref());
    if let Some(DirectoryConfig::Ldap(ldap)) = &snapshot.config.directory {
        let urls = ldap.urls.iter().map(String::as_str);
        metrics.backends.directory.servers(urls);
    }
    let observer = Arc::new(metrics.backends.directory.clone());
    let directory = backends::open_directory(&snapshot.config, Some(observer))?;
    let sessions = backends::open_sessions(&snapshot.config, clock.clone()).await?;
    sessions.observe(Arc::new(metrics.backends.store.clone()));
    let rate_limits = crate::rate_limit::RateLimits::new(
        &snapshot.config.limits.rates,
        clock.clone(),
        metrics.limits.clone(),
    );
    let outbound = match &snapshot.config.oidc {
        Some(oidc) => Some(crate::outbound::https_client(
            &provider,
            oidc.backchannel_ca_file.as_deref(),
        )?),
        None => None,
    };
    let upstreams = match &snapshot.config.federation {
        Some(federation) => Some(crate::federation::upstream::Upstreams::new(
            &provider,
            federation.ca_file.as_deref(),
        )?),
        None => None,
    };
    Ok(Arc::new(Shared {
        rate_limits,
        outbound,
        upstreams,
        client_keys: Default::default(),
        snapshot: ArcSwap::from_pointee(snapshot),
        metrics,
        certs: Arc::new(CertResolver::new(certs)),
        provider,
        tasks: TaskTracker::new(),
        shutdown: CancellationToken::new(),
        started: clock.instant(),
        clock,
        ready: Default::default(),
        directory,
        sessions,
        assertions: Default::default(),
        prepared: Default::default(),
        probe: Default::default(),
    }))
}
