//! Loading and reloading: the config file, the apps file, the certificates and the policy files
//! are read, validated and compiled together, off the request path; only a complete, valid set
//! replaces the running one, in one atomic swap. A reload is triggered by SIGHUP, by a change to
//! any of those files, or by the admin endpoint; a broken file keeps the last good state and is
//! reported in the log (with file and line) and in the metrics. A reload that changed who may
//! use what is followed by an audit of whom it affects ([`impact`]), off the reload's path.

pub mod impact;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use pforte_session::Timestamp;

use rustls::crypto::CryptoProvider;

use crate::config::{Config, ConfigErrors};
use crate::policy::{self, engine};
use crate::proxy::upstream::UpstreamError;
use crate::state::{Shared, Snapshot};
use crate::telemetry::Metrics;
use crate::telemetry::metrics::{ReloadPart, ReloadResult};
use crate::tls::{CertStore, TlsError};
use impact::ImpactSettings;

/// Why a set of files could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// `gateway.toml` or the apps file is invalid.
    #[error(transparent)]
    Config(#[from] ConfigErrors),
    /// A certificate or key is unusable.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// An app's upstream TLS settings are unusable.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The policy does not load.
    #[error(transparent)]
    Policy(engine::LoadErrors),
    /// The key directory is unusable.
    #[error(transparent)]
    Keys(#[from] pforte_keys::KeyError),
    /// The OpenID Connect clients do not load.
    #[error(transparent)]
    Oidc(#[from] crate::oidc::provider::ProviderError),
    /// The partners' providers file does not load.
    #[error(transparent)]
    Federation(#[from] pforte_federation::ProvidersError),
}

impl LoadError {
    /// The part of the files at fault, for `pforte_reload_errors_total{part}`.
    pub fn part(&self) -> ReloadPart {
        match self {
            Self::Config(_) => ReloadPart::Config,
            Self::Tls(_) => ReloadPart::Certificates,
            Self::Upstream(_) => ReloadPart::Upstreams,
            Self::Policy(_) => ReloadPart::Policy,
            Self::Keys(_) => ReloadPart::Keys,
            Self::Oidc(_) => ReloadPart::Clients,
            Self::Federation(_) => ReloadPart::Providers,
        }
    }
}

/// A complete, valid set of files, ready to be swapped in.
pub struct LoadedSet {
    /// Config, routes, apps and policy.
    pub snapshot: Snapshot,
    /// The certificates.
    pub certs: CertStore,
    /// What the policy's author should look at, though it loaded.
    pub policy_warnings: Vec<engine::Diagnostic>,
}

impl LoadedSet {
    /// Logs the policy's warnings, each with its file and line.
    pub fn log_warnings(&self) {
        for warning in &self.policy_warnings {
            tracing::warn!(%warning, "policy warning");
        }
    }
}

/// Reads and validates everything `path` refers to at `now`, without touching the running
/// state.
pub fn load(
    path: &Path,
    provider: &Arc<CryptoProvider>,
    metrics: &Metrics,
    previous: Option<&Snapshot>,
    now: Timestamp,
) -> Result<LoadedSet, LoadError> {
    let config = Config::load(path)?;
    let apps = config.load_apps()?;
    let certs = CertStore::load(&config.certificates, provider)?;
    let loaded = policy::load(&config.policy_file, &apps).map_err(LoadError::Policy)?;
    let keys = match &config.keys {
        Some(keys) => Some(
            pforte_keys::KeyDir::new(&keys.dir)
                .with_retire_after(keys.retire_after)
                .load(now.unix_secs())?,
        ),
        None => None,
    };
    let oidc = match (&config.oidc, &keys) {
        (Some(settings), Some(keys)) => Some(crate::oidc::provider::Provider::load(
            settings,
            &apps,
            &crate::state::issuer(&config),
            keys,
        )?),
        _ => None,
    };
    let partners = match &config.federation {
        Some(federation) => Some(Arc::new(crate::federation::partners::Partners::load(
            federation,
        )?)),
        None => None,
    };
    let mut snapshot = Snapshot::build(
        config,
        apps,
        loaded.policy,
        crate::state::Signing { keys, oidc },
        provider,
        metrics,
        previous,
    )?;
    snapshot.partners = partners;
    Ok(LoadedSet {
        snapshot,
        certs,
        policy_warnings: loaded.warnings,
    })
}

/// Replaces the running state with a freshly loaded one, or keeps it.
pub struct Reloader {
    shared: Arc<Shared>,
    path: PathBuf,
    serial: tokio::sync::Mutex<()>,
    impact: ImpactSettings,
}

impl Reloader {
    /// A reloader for the config at `path`.
    pub fn new(shared: Arc<Shared>, path: PathBuf) -> Self {
        Self {
            shared,
            path,
            serial: tokio::sync::Mutex::new(()),
            impact: ImpactSettings::default(),
        }
    }

    /// The same reloader with other bounds on the impact audit (tests make them small).
    pub fn with_impact(mut self, impact: ImpactSettings) -> Self {
        self.impact = impact;
        self
    }

    /// Loads and, if everything is valid, swaps in the new state. `trigger` is logged.
    pub async fn reload(&self, trigger: &str) -> Result<(), Arc<LoadError>> {
        let _serial = self.serial.lock().await;
        let current = self.shared.snapshot.load_full();
        let path = self.path.clone();
        let provider = self.shared.provider.clone();
        let metrics = self.shared.metrics.clone();
        let at = self.shared.clock.now();
        let loaded = tokio::task::spawn_blocking(move || {
            load(&path, &provider, &metrics, Some(&current), at)
        })
        .await
        .unwrap_or_else(|join| {
            Err(LoadError::Config(ConfigErrors::one(
                crate::config::ConfigError::whole_file(
                    &self.path,
                    format!("reload task failed: {join}"),
                ),
            )))
        });
        let now = i64::try_from(at.unix_secs()).unwrap_or(i64::MAX);
        let metrics = &self.shared.metrics;
        match loaded {
            Ok(set) => {
                let current = self.shared.snapshot.load();
                for key in current.config.restart_needed_for(&set.snapshot.config) {
                    tracing::warn!(
                        key,
                        "changed in the config file; takes effect after a restart"
                    );
                }
                set.log_warnings();
                let rules = set.snapshot.policy.rule_count();
                let previous = self.shared.snapshot.load_full();
                let next = Arc::new(set.snapshot);
                self.shared.certs.replace(set.certs);
                self.shared.snapshot.store(next.clone());
                metrics
                    .deadlines
                    .load(&next.config.certificates, next.config.keys.as_ref());
                metrics.record_reload(ReloadResult::Success, now);
                metrics.record_policy_load(ReloadResult::Success, now, rules);
                tracing::info!(trigger, rules, "configuration and policy reloaded");
                crate::backends::reload_people(self.shared.directory.as_ref());
                // In force now; whom it affects is audited apart, and never holds the reload up.
                impact::audit_in_background(&self.shared, previous, next, trigger, self.impact);
                Ok(())
            }
            Err(err) => {
                metrics.record_reload(ReloadResult::Error, now);
                metrics.record_reload_error(err.part());
                if matches!(err, LoadError::Policy(_)) {
                    let rules = self.shared.snapshot.load().policy.rule_count();
                    metrics.record_policy_load(ReloadResult::Error, now, rules);
                }
                tracing::error!(trigger, error = %err, "reload refused; the last good configuration stays in use");
                Err(Arc::new(err))
            }
        }
    }

    /// Reloads on every SIGHUP until shutdown.
    ///
    /// The handler is installed here, when the future is made, not when its task first runs:
    /// until it is installed a SIGHUP ends the process (the signal's default), and a spawned task
    /// may start after the gateway says it is serving, when `systemctl reload` may already come.
    pub fn on_sighup(self: Arc<Self>) -> impl std::future::Future<Output = ()> + Send {
        let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
        async move {
            let Ok(mut hangups) = hangups else {
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
    }

    /// Reloads when the content of a watched file changes, checking every `interval`. Polling
    /// content (not inotify) also sees Kubernetes' ConfigMap and Secret symlink swaps.
    ///
    /// The files are read once here, when the watch is made, not when its task first runs: a
    /// spawned task may start after the gateway says it is serving, and a file changed in
    /// between would have been taken as the starting point and its change never seen.
    pub fn watch_files(
        self: Arc<Self>,
        interval: Duration,
    ) -> impl std::future::Future<Output = ()> + Send {
        let mut last = self.fingerprint();
        async move {
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
    }

    fn fingerprint(&self) -> u64 {
        let snapshot = self.shared.snapshot.load();
        let config = &snapshot.config;
        let mut files: Vec<&Path> = vec![&self.path, &config.apps_file];
        for pair in &config.certificates {
            files.push(&pair.cert);
            files.push(&pair.key);
            if let Some(ocsp) = &pair.ocsp {
                files.push(ocsp);
            }
        }
        if let Some(oidc) = &config.oidc {
            files.push(&oidc.clients_file);
        }
        if let Some(federation) = &config.federation {
            files.push(&federation.providers_file);
        }
        if let Some(crate::config::DirectoryConfig::File(people)) = &config.directory {
            files.push(&people.path);
        }
        let mut policy_files = Vec::new();
        if let Some(keys) = &config.keys {
            toml_files_below(&keys.dir, 0, &mut policy_files);
        }
        if let Some(folder) = config.policy_file.parent() {
            toml_files_below(folder, POLICY_FOLDER_DEPTH, &mut policy_files);
        }
        policy_files.sort();
        let mut hasher = DefaultHasher::new();
        for file in files
            .into_iter()
            .chain(policy_files.iter().map(PathBuf::as_path))
        {
            file.hash(&mut hasher);
            std::fs::read(file).ok().hash(&mut hasher);
        }
        hasher.finish()
    }
}

/// How deep below the policy's folder files are watched (`policy.d/team/x.toml` is depth 2).
const POLICY_FOLDER_DEPTH: usize = 3;

/// Every `.toml` (and `.pem`) file in `folder` and its subfolders down to `depth`: the policy's
/// includes can name files by glob, and keys come and go, so a file added there must trigger a
/// reload too. Hidden entries are
/// skipped (Kubernetes keeps its volume's previous versions in `..data` folders).
fn toml_files_below(folder: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            if depth > 0 {
                toml_files_below(&path, depth - 1, out);
            }
        } else if path
            .extension()
            .is_some_and(|ext| ext == "toml" || ext == "pem")
        {
            out.push(path);
        }
    }
}
