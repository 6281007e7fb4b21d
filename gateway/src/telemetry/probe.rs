//! Readings that take a question to a backend: does the session store answer (for `/readyz`
//! and `pforte_session_store_up`), how many sessions live, which directory servers are up.
//! They are taken when asked (a readiness probe, a scrape), each bounded in time and cached a
//! little, so a burst of probes costs the backend one question and a hung backend costs a probe
//! at most its bound. No background task runs: nothing to start, stop or wait for.

use std::time::{Duration, Instant};

use pforte_directory::Directory;
use pforte_session::{Clock, SessionStore};
use tokio::sync::Mutex;

use super::backend_metrics::BackendMetrics;
use super::error_chain;

/// How long a ping's answer is reused: load balancers probe every few seconds per replica.
const STORE_FRESH: Duration = Duration::from_secs(2);
/// How long a ping may take before the store counts as unreachable (the store's own command
/// timeout bounds it too; this bounds a Sentinel lookup and a reconnect together).
const STORE_BOUND: Duration = Duration::from_secs(2);
/// How long the Redis store keeps its session count for every replica: counting walks the
/// session keys, so the fleet does it once a minute.
const REDIS_COUNT_FRESH: Duration = Duration::from_secs(60);
/// How long the directory's server states are reused.
const DIRECTORY_FRESH: Duration = Duration::from_secs(10);
/// How long the directory's health read may take before a scrape goes on without it.
const DIRECTORY_BOUND: Duration = Duration::from_secs(2);

/// The last answers and when they were taken (by the gateway's clock).
#[derive(Debug, Default)]
pub struct Probe {
    store: Mutex<Option<(Instant, Result<(), String>)>>,
    directory: Mutex<Option<Instant>>,
}

/// The backends a probe asks and where it writes what it learnt.
pub struct Backends<'a> {
    /// The session store.
    pub store: &'a SessionStore,
    /// The directory, when one is configured.
    pub directory: Option<&'a Directory>,
    /// The gateway's clock, which the caches are timed by.
    pub clock: &'a Clock,
    /// Where the readings go.
    pub metrics: &'a BackendMetrics,
}

impl Probe {
    /// Whether the session store answers: the cached answer when it is fresh, else one bounded
    /// ping (concurrent callers wait for it and share its answer). `Err` says why not, for
    /// `/readyz`'s body. Sets `pforte_session_store_up`.
    pub async fn store(&self, backends: &Backends<'_>) -> Result<(), String> {
        let mut last = self.store.lock().await;
        let now = backends.clock.instant();
        if let Some((at, answer)) = &*last
            && now.saturating_duration_since(*at) < STORE_FRESH
        {
            return answer.clone();
        }
        let answer = match tokio::time::timeout(STORE_BOUND, backends.store.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(error_chain(&error)),
            Err(_) => Err(format!("no answer within {STORE_BOUND:?}")),
        };
        backends.metrics.store.up.set(i64::from(answer.is_ok()));
        *last = Some((backends.clock.instant(), answer.clone()));
        answer
    }

    /// Brings the readings a scrape shows up to date: store up, active sessions, directory
    /// servers up. A backend that does not answer in its bound leaves its last readings.
    pub async fn before_scrape(&self, backends: &Backends<'_>) {
        let reachable = self.store(backends).await.is_ok();
        if reachable {
            self.count_sessions(backends).await;
        }
        if let Some(directory) = backends.directory {
            self.read_directory(directory, backends).await;
        }
    }

    /// Sets `pforte_sessions_active`: the memory store counts in the process at every scrape;
    /// Redis reads the count one replica made in the last minute (or starts making it in the
    /// background: a SCAN, linear in the sessions). While it is being made, the last value
    /// stays.
    async fn count_sessions(&self, backends: &Backends<'_>) {
        let counted = backends
            .store
            .live_count(backends.clock.now(), REDIS_COUNT_FRESH)
            .await;
        match counted {
            Ok(Some(count)) => {
                let count = i64::try_from(count).unwrap_or(i64::MAX);
                backends.metrics.store.active.set(count);
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(error = %error_chain(&error), "sessions not counted"),
        }
    }

    /// Sets `pforte_directory_up` from the directory's health read (a base-entry read as the
    /// service account), at most every few seconds.
    async fn read_directory(&self, directory: &Directory, backends: &Backends<'_>) {
        let mut last = self.directory.lock().await;
        let now = backends.clock.instant();
        if last.is_some_and(|at| now.saturating_duration_since(at) < DIRECTORY_FRESH) {
            return;
        }
        match tokio::time::timeout(DIRECTORY_BOUND, directory.health()).await {
            Ok(health) => backends.metrics.directory.record_health(&health),
            Err(_) => {
                tracing::warn!("directory health not read within {DIRECTORY_BOUND:?}");
                backends.metrics.directory.record_no_answer();
            }
        }
        *last = Some(backends.clock.instant());
    }
}
