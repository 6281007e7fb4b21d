//! What the audit log has done, counted process-wide: lines written to its file, signed
//! checkpoints, write errors, and per delivery sink the lines delivered and dropped.
//!
//! The counters are one static ([`counters`]) because the audit log is process-wide like the
//! tracing subscriber that feeds it, and `pforte-admin` writes audit lines without any
//! [`crate::telemetry::Metrics`]. The gateway's registry reads them at scrape time through
//! [`AuditMetrics`], so recording an event is one atomic add and knows nothing of Prometheus.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntCounter, IntCounterVec, Opts};

/// Where audit lines are delivered besides the file, as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sink {
    /// A syslog receiver (RFC 5424 over TLS, or the local datagram socket).
    Syslog,
    /// The local systemd journal (native protocol).
    Journald,
}

impl Sink {
    /// Both sinks, so that each one's series exist from the start.
    pub const ALL: [Self; 2] = [Self::Syslog, Self::Journald];

    /// The `sink` label's value, also used in log lines and thread names.
    pub fn label(self) -> &'static str {
        match self {
            Self::Syslog => "syslog",
            Self::Journald => "journald",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The counters behind the `pforte_audit_*` metrics; see [`counters`].
#[derive(Debug, Default)]
pub struct AuditCounters {
    written: AtomicU64,
    checkpoints: AtomicU64,
    write_errors: AtomicU64,
    delivered: [AtomicU64; 2],
    dropped: [AtomicU64; 2],
}

/// The counters' values at one moment, for the metrics and for tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterValues {
    /// Event lines written to the file.
    pub written: u64,
    /// Signed checkpoints made.
    pub checkpoints: u64,
    /// Lines the file could not take.
    pub write_errors: u64,
    delivered: [u64; 2],
    dropped: [u64; 2],
}

impl CounterValues {
    /// Lines written to `sink`'s socket.
    pub fn delivered(&self, sink: Sink) -> u64 {
        self.delivered[sink.index()]
    }

    /// Lines `sink` dropped.
    pub fn dropped(&self, sink: Sink) -> u64 {
        self.dropped[sink.index()]
    }
}

impl AuditCounters {
    const fn new() -> Self {
        Self {
            written: AtomicU64::new(0),
            checkpoints: AtomicU64::new(0),
            write_errors: AtomicU64::new(0),
            delivered: [AtomicU64::new(0), AtomicU64::new(0)],
            dropped: [AtomicU64::new(0), AtomicU64::new(0)],
        }
    }

    /// One event line written to the file.
    pub fn written(&self) {
        self.written.fetch_add(1, Ordering::Relaxed);
    }

    /// One signed checkpoint made.
    pub fn checkpoint(&self) {
        self.checkpoints.fetch_add(1, Ordering::Relaxed);
    }

    /// The file could not be written.
    pub fn write_error(&self) {
        self.write_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// One line written to `sink`'s socket.
    pub fn delivered(&self, sink: Sink) {
        self.delivered_many(sink, 1);
    }

    /// `n` lines written to `sink`'s socket at once (one batch).
    pub fn delivered_many(&self, sink: Sink, n: u64) {
        self.delivered[sink.index()].fetch_add(n, Ordering::Relaxed);
    }

    /// `n` lines `sink` will never deliver: its queue was full, the line could not be sent, or
    /// the process stopped before the sink could send them.
    pub fn dropped(&self, sink: Sink, n: u64) {
        self.dropped[sink.index()].fetch_add(n, Ordering::Relaxed);
    }

    /// Every value now (each read on its own: a scrape may see one counter a line ahead).
    pub fn values(&self) -> CounterValues {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CounterValues {
            written: read(&self.written),
            checkpoints: read(&self.checkpoints),
            write_errors: read(&self.write_errors),
            delivered: [read(&self.delivered[0]), read(&self.delivered[1])],
            dropped: [read(&self.dropped[0]), read(&self.dropped[1])],
        }
    }
}

static COUNTERS: AuditCounters = AuditCounters::new();

/// The process's audit counters.
pub fn counters() -> &'static AuditCounters {
    &COUNTERS
}

/// The `pforte_audit_*` metrics, read from [`counters`] at each scrape; registered by
/// [`crate::telemetry::Metrics::new`].
#[derive(Clone)]
pub struct AuditMetrics {
    /// Serialises scrapes: each brings the exported counters up to the atomics' values, and
    /// two at once would add the same difference twice.
    scrape: Arc<Mutex<()>>,
    written: IntCounter,
    checkpoints: IntCounter,
    write_errors: IntCounter,
    delivered: IntCounterVec,
    dropped: IntCounterVec,
}

impl std::fmt::Debug for AuditMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditMetrics").finish_non_exhaustive()
    }
}

impl AuditMetrics {
    /// The five metrics, both sinks' series at zero.
    pub fn new() -> Result<Self, prometheus::Error> {
        let by_sink = |name: &str, help: &str| -> Result<IntCounterVec, prometheus::Error> {
            let vec = IntCounterVec::new(Opts::new(name, help), &["sink"])?;
            for sink in Sink::ALL {
                vec.with_label_values(&[sink.label()]);
            }
            Ok(vec)
        };
        Ok(Self {
            scrape: Arc::default(),
            written: IntCounter::new(
                "pforte_audit_events_written_total",
                "Audit events written to the audit log file.",
            )?,
            checkpoints: IntCounter::new(
                "pforte_audit_checkpoints_total",
                "Signed checkpoints added to the audit log.",
            )?,
            write_errors: IntCounter::new(
                "pforte_audit_write_errors_total",
                "Audit events the audit log file could not take.",
            )?,
            delivered: by_sink(
                "pforte_audit_events_delivered_total",
                "Audit log lines written to a delivery sink's socket, by sink.",
            )?,
            dropped: by_sink(
                "pforte_audit_events_dropped_total",
                "Audit log lines a delivery sink dropped (queue full, line refused, or left at shutdown), by sink.",
            )?,
        })
    }

    fn update(&self) {
        let _one_at_a_time = self.scrape.lock().unwrap_or_else(PoisonError::into_inner);
        let values = counters().values();
        let raise = |counter: &IntCounter, to: u64| {
            let now = counter.get();
            if to > now {
                counter.inc_by(to - now);
            }
        };
        raise(&self.written, values.written);
        raise(&self.checkpoints, values.checkpoints);
        raise(&self.write_errors, values.write_errors);
        for sink in Sink::ALL {
            raise(
                &self.delivered.with_label_values(&[sink.label()]),
                values.delivered(sink),
            );
            raise(
                &self.dropped.with_label_values(&[sink.label()]),
                values.dropped(sink),
            );
        }
    }
}

impl Collector for AuditMetrics {
    fn desc(&self) -> Vec<&Desc> {
        let mut descs = self.written.desc();
        descs.extend(self.checkpoints.desc());
        descs.extend(self.write_errors.desc());
        descs.extend(self.delivered.desc());
        descs.extend(self.dropped.desc());
        descs
    }

    fn collect(&self) -> Vec<MetricFamily> {
        self.update();
        let mut families = self.written.collect();
        families.extend(self.checkpoints.collect());
        families.extend(self.write_errors.collect());
        families.extend(self.delivered.collect());
        families.extend(self.dropped.collect());
        families
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrapes_follow_the_process_counters() {
        let metrics = AuditMetrics::new().unwrap();
        let registry = prometheus::Registry::new();
        registry.register(Box::new(metrics.clone())).unwrap();
        let before = counters().values();
        counters().dropped(Sink::Journald, 3);
        counters().delivered(Sink::Syslog);
        let families = registry.gather();
        let value = |name: &str, sink: &str| {
            families
                .iter()
                .find(|f| f.name() == name)
                .and_then(|f| {
                    f.get_metric()
                        .iter()
                        .find(|m| m.get_label().iter().any(|l| l.value() == sink))
                })
                .map(|m| m.get_counter().get_value() as u64)
        };
        // Other tests in this process count too: at least what this one added.
        let dropped = value("pforte_audit_events_dropped_total", "journald").unwrap();
        assert!(dropped >= before.dropped(Sink::Journald) + 3);
        let delivered = value("pforte_audit_events_delivered_total", "syslog").unwrap();
        assert!(delivered > before.delivered(Sink::Syslog));
        assert!(value("pforte_audit_events_dropped_total", "syslog").is_some());
        assert!(
            families
                .iter()
                .any(|f| f.name() == "pforte_audit_checkpoints_total")
        );
    }
}
