//! The health of the two backends every login needs, as metrics: the directory's servers (each
//! exchange timed per server, so a failover shows as one server's errors and the next one's
//! answers; whether each server is up) and the session store (each operation timed, its errors,
//! whether it answers, how many sessions live). The crates report through their observer
//! hooks ([`pforte_directory::Observer`], [`pforte_session::Observer`]); the readings that need
//! a question asked (up, active sessions) are taken by [`super::probe`] when scraped.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pforte_directory::{Health, Outcome, ServerStatus};
use pforte_session::Operation;
use prometheus::{
    HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

/// Buckets from 0.5 ms to 10 s: a cached answer, a round trip on a LAN, a server timing out.
const BACKEND_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The directory's metrics, and the observer the LDAP backend reports to.
#[derive(Debug, Clone)]
pub struct DirectoryMetrics {
    exchanges: HistogramVec,
    up: IntGaugeVec,
    /// The configured servers, for [`Self::record_no_answer`].
    urls: Arc<Mutex<Vec<String>>>,
}

impl DirectoryMetrics {
    fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let exchanges = HistogramVec::new(
            HistogramOpts::new(
                "pforte_directory_request_duration_seconds",
                "Exchanges with each directory server (LDAP URL), by result (ok: the server answered; error: it failed or timed out).",
            )
            .buckets(BACKEND_BUCKETS.to_vec()),
            &["server", "result"],
        )?;
        let up = IntGaugeVec::new(
            Opts::new(
                "pforte_directory_up",
                "1 when the directory server answered at its last contact, 0 when it failed (skipped until its retry interval passed).",
            ),
            &["server"],
        )?;
        registry.register(Box::new(exchanges.clone()))?;
        registry.register(Box::new(up.clone()))?;
        Ok(Self {
            exchanges,
            up,
            urls: Arc::default(),
        })
    }

    /// Exports every configured server's series from the start, at zero, so an alert's rate
    /// has a series to work on before the first failure.
    pub fn servers<'a>(&self, urls: impl IntoIterator<Item = &'a str>) {
        let mut known = self.urls.lock().unwrap_or_else(PoisonError::into_inner);
        for url in urls {
            for result in ["ok", "error"] {
                self.exchanges.with_label_values(&[url, result]);
            }
            known.push(url.to_owned());
        }
    }

    /// The directory did not answer a health read within its bound: every configured server
    /// counts as down (a directory that slow cannot serve logins either).
    pub fn record_no_answer(&self) {
        for url in self
            .urls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            self.up.with_label_values(&[url]).set(0);
        }
    }

    /// Sets each server's `up` from a health report: up 1, down 0; a server not contacted yet
    /// (a later one while the first answers) keeps no value rather than a guess.
    pub fn record_health(&self, health: &Health) {
        for server in &health.servers {
            match server.status {
                ServerStatus::Up => self.up.with_label_values(&[&server.url]).set(1),
                ServerStatus::Down => self.up.with_label_values(&[&server.url]).set(0),
                ServerStatus::Untried => {}
            }
        }
    }
}

impl pforte_directory::Observer for DirectoryMetrics {
    fn exchange(&self, server: &str, outcome: Outcome, elapsed: Duration) {
        let result = match outcome {
            Outcome::Answered => "ok",
            Outcome::Failed => "error",
        };
        self.exchanges
            .with_label_values(&[server, result])
            .observe(elapsed.as_secs_f64());
        self.up
            .with_label_values(&[server])
            .set(i64::from(outcome == Outcome::Answered));
    }
}

/// The session store's metrics, and the observer the Redis store reports to.
#[derive(Debug, Clone)]
pub struct StoreMetrics {
    operations: HistogramVec,
    errors: IntCounterVec,
    /// 1 while the store answered its last ping, 0 after a failed one.
    pub up: IntGauge,
    /// Live sessions, as the store counts them (see [`super::probe`]).
    pub active: IntGauge,
}

impl StoreMetrics {
    fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let operations = HistogramVec::new(
            HistogramOpts::new(
                "pforte_session_store_request_duration_seconds",
                "Session-store operations that reach Redis (a local-cache hit included), by operation.",
            )
            .buckets(BACKEND_BUCKETS.to_vec()),
            &["operation"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                "pforte_session_store_errors_total",
                "Session-store operations that failed (Redis unreachable, timed out, not acknowledged), by operation.",
            ),
            &["operation"],
        )?;
        for operation in Operation::ALL {
            operations.with_label_values(&[operation.label()]);
            errors.with_label_values(&[operation.label()]);
        }
        let up = IntGauge::new(
            "pforte_session_store_up",
            "1 when the session store answered the last readiness ping (always for the memory store), 0 when it did not.",
        )?;
        let active = IntGauge::new(
            "pforte_sessions_active",
            "Live sessions in the store (memory: counted in the process; Redis: counted by one replica a minute and shared through Redis).",
        )?;
        registry.register(Box::new(operations.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        registry.register(Box::new(up.clone()))?;
        registry.register(Box::new(active.clone()))?;
        Ok(Self {
            operations,
            errors,
            up,
            active,
        })
    }
}

impl pforte_session::Observer for StoreMetrics {
    fn operation(&self, operation: Operation, elapsed: Duration, ok: bool) {
        let label = operation.label();
        self.operations
            .with_label_values(&[label])
            .observe(elapsed.as_secs_f64());
        if !ok {
            self.errors.with_label_values(&[label]).inc();
        }
    }
}

/// Both backends' metrics, registered by [`super::Metrics::new`] with the others.
#[derive(Debug, Clone)]
pub struct BackendMetrics {
    /// The directory's servers.
    pub directory: DirectoryMetrics,
    /// The session store.
    pub store: StoreMetrics,
}

impl BackendMetrics {
    /// Registers both families in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        Ok(Self {
            directory: DirectoryMetrics::register(registry)?,
            store: StoreMetrics::register(registry)?,
        })
    }
}
