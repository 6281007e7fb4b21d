//! What operators see: Prometheus metrics and log lines (the access log is its own target,
//! `pforte::access`, so it can be routed or silenced apart from diagnostics).

pub mod access;
pub mod metrics;

pub use metrics::Metrics;

use crate::config::LogFormat;

/// Installs the global tracing subscriber. `RUST_LOG`, when set, wins over the configured level so
/// an operator can turn up detail without editing the file.
pub fn init(format: LogFormat, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests, demo after run) keeps the first subscriber: ignoring that is right.
    let _ = match format {
        LogFormat::Text => builder.with_target(true).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
}
