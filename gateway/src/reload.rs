//! Loading and reloading: the config file, the apps file and the certificates are read and
//! validated together, off the request path; only a complete, valid set replaces the running
//! one. A reload is triggered by SIGHUP, by a change to any of those files, or by the admin
//! endpoint; a broken file keeps the last good state and is reported in the log and metrics.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::crypto::CryptoProvider;

use crate::config::{Config, ConfigErrors};
use crate::proxy::upstream::UpstreamError;
use crate::server::tls::{CertStore, TlsError};
use crate::state::{Shared, Snapshot};
use crate::telemetry::Metrics;
use crate::telemetry::metrics::ReloadResult;

/// Why a set of files could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// `gateway.toml` or the apps file is invalid.
    #[error("{0}")]
    Config(#[from] ConfigErrors),
    /// A certificate or key is unusable.
    #[error("{0}")]
    Tls(#[from] TlsError),
    /// An app's upstream TLS settings are unusable.
    #[error("{0}")]
    Upstream(#[from] UpstreamError),
}

/// Reads and validates everything `path` refers to, without touching the running state.
pub fn load(
    path: &Path,
    provider: &Arc<CryptoProvider>,
    metrics: &Metrics,
    previous: Option<&Snapshot>,
) -> Result<(Snapshot, CertStore), LoadError> {
    let config = Config::load(path)?;
    let apps = config.load_apps()?;
    let certs = CertStore::load(&config.certificates, provider)?;
    let snapshot = Snapshot::build(config, apps, provider, metrics, previous)?;
    Ok((snapshot, certs))
}

/// Replaces the running state with a freshly loaded one, or keeps it.
pub struct Reloader {
    shared: Arc<Shared>,
    path: PathBuf,
    serial: tokio::sync::Mutex<()>,
}

impl Reloader {
    /// A reloader for the config at `path`.
    pub fn new(shared: Arc<Shared>, path: PathBuf) -> Self {
        Self {
            shared,
            path,
            serial: tokio::sync::Mutex::new(()),
        }
    }

    /// Loads and, if everything is valid, swaps in the new state. `trigger` is logged.
    pub async fn reload(&self, trigger: &str) -> Result<(), Arc<LoadError>> {
        let _serial = self.serial.lock().await;
        let current = self.shared.snapshot.load_full();
        let path = self.path.clone();
        let provider = self.shared.provider.clone();
        let metrics = self.shared.metrics.clone();
        let loaded =
            tokio::task::spawn_blocking(move || load(&path, &provider, &metrics, Some(&current)))
                .await
                .unwrap_or_else(|join| {
                    Err(LoadError::Config(ConfigErrors::one(
                        crate::config::ConfigError::whole_file(
                            &self.path,
                            format!("reload task failed: {join}"),
                        ),
                    )))
                });
        let now = unix_now();
        match loaded {
            Ok((snapshot, certs)) => {
                let current = self.shared.snapshot.load();
                for key in current.config.restart_needed_for(&snapshot.config) {
                    tracing::warn!(
                        key,
                        "changed in the config file; takes effect after a restart"
                    );
                }
                self.shared.certs.replace(certs);
                self.shared.snapshot.store(Arc::new(snapshot));
                self.shared
                    .metrics
                    .record_reload(ReloadResult::Success, now);
                tracing::info!(trigger, "configuration reloaded");
                Ok(())
            }
            Err(err) => {
                self.shared.metrics.record_reload(ReloadResult::Error, now);
                tracing::error!(trigger, error = %err, "reload refused; the last good configuration stays in use");
                Err(Arc::new(err))
            }
        }
    }

    /// Reloads on every SIGHUP until shutdown.
    pub async fn on_sighup(self: Arc<Self>) {
        let Ok(mut hangups) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!(
                "cannot listen for SIGHUP; reload via the admin endpoint or file changes"
            );
            return;
        };
        loop {
            tokio::select! {
                received = hangups.recv() => if received.is_none() { return },
                () = self.shared.shutdown.cancelled() => return,
            }
            // The outcome is logged and metered inside.
            let _ = self.reload("SIGHUP").await;
        }
    }

    /// Reloads when the content of a watched file changes, checking every `interval`. Polling
    /// content (not inotify) also sees Kubernetes' ConfigMap and Secret symlink swaps.
    pub async fn watch_files(self: Arc<Self>, interval: Duration) {
        let mut last = self.fingerprint();
        let mut tick = tokio::time::interval(interval);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = self.shared.shutdown.cancelled() => return,
            }
            let now = self.fingerprint();
            if now != last {
                last = now;
                let _ = self.reload("file change").await;
            }
        }
    }

    fn fingerprint(&self) -> u64 {
        let snapshot = self.shared.snapshot.load();
        let config = &snapshot.config;
        let mut files: Vec<&Path> = vec![&self.path, &config.apps_file];
        for pair in &config.certificates {
            files.push(&pair.cert);
            files.push(&pair.key);
        }
        let mut hasher = DefaultHasher::new();
        for file in files {
            file.hash(&mut hasher);
            std::fs::read(file).ok().hash(&mut hasher);
        }
        hasher.finish()
    }
}

/// Seconds since the Unix epoch, for the last-reload gauge.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
