//! What operators see: Prometheus metrics and log lines. The access log (`pforte::access`) and
//! the audit log (`pforte::audit`) are their own targets, so they can be routed or silenced apart
//! from diagnostics; the audit log is chained into its own file when `log.audit_file` is set
//! ([`audit_log`]). Lines are
//! coloured only on a terminal ([`colour`]); JSON lines carry the request's fields by name
//! ([`json_line`]).

pub mod access;
pub mod activity;
pub mod audit;
pub mod audit_log;
pub mod backend_metrics;
pub mod colour;
pub mod deadlines;
pub mod json_line;
pub mod limit_metrics;
pub mod metrics;
pub mod probe;

pub use metrics::Metrics;
use pforte_session::Clock;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

use crate::config::{Audit, LogFormat};
use audit_log::{AuditLog, ChainLayer, OpenError, Role};

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Installs the global tracing subscriber: diagnostics and the access log on standard error
/// (`RUST_LOG`, when set, wins over the configured level so an operator can turn up detail
/// without editing the file), and the audit log chained into its file ([`audit_log`], opened
/// here for `role` when `audit.file` is set) or, without one, on standard error with the rest. Text lines are coloured only when
/// standard error is a terminal and `NO_COLOR` is unset; JSON lines carry the fields of the
/// request they were logged for (`request_id`, `app`, `subject`, `decision`) at the top level.
pub fn init(
    format: LogFormat,
    level: &str,
    audit: Option<(&Audit, Role)>,
) -> Result<(), OpenError> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let mut layers: Vec<BoxedLayer> = Vec::new();
    let stderr: BoxedLayer = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(colour::for_stderr())
            .with_target(true)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .fmt_fields(JsonFields::new())
            .event_format(json_line::FlatJson)
            .boxed(),
    };
    match audit.and_then(|(settings, role)| Some((settings, settings.file.as_deref()?, role))) {
        Some((settings, file, role)) => {
            let (forward, slot) = audit_log::delivery::for_audit_log(settings)?.unzip();
            let log = AuditLog::open(settings, file, Clock::system(), role, forward)?;
            let log = audit_log::install(log);
            if let Some(slot) = slot {
                slot.attach(&log);
            }
            // Audit events go to the chain only. As a filter directive, not a filter function:
            // a function is asked at every event of every callsite (hyper's and rustls' trace
            // lines too, about 2 µs a request), a directive once per callsite.
            let filter = match format!("{}=off", audit::TARGET).parse() {
                Ok(off) => filter.add_directive(off),
                Err(_) => filter,
            };
            layers.push(stderr.with_filter(filter).boxed());
            layers.push(
                ChainLayer::new(log)
                    .with_filter(Targets::new().with_target(audit::TARGET, tracing::Level::INFO))
                    .boxed(),
            );
        }
        None => layers.push(stderr.with_filter(filter).boxed()),
    }
    // A second init (tests, demo after run) keeps the first subscriber: ignoring that is right.
    let _ = tracing_subscriber::registry().with(layers).try_init();
    Ok(())
}

/// An error followed by its causes, for a log line: hyper's and the TLS stack's outer messages
/// ("client error (Connect)") do not say what went wrong. A cause whose text the line already
/// ends with (an error that prints its source and also returns it) is not repeated.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    /// An error with an optional cause; `show_cause` prints the cause in its own text too.
    #[derive(Debug)]
    struct Layer {
        text: &'static str,
        cause: Option<Box<Layer>>,
        show_cause: bool,
    }

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.text)?;
            match &self.cause {
                Some(cause) if self.show_cause => write!(f, ": {cause}"),
                _ => Ok(()),
            }
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.cause.as_deref().map(|c| c as _)
        }
    }

    fn layer(text: &'static str, cause: Option<Layer>, show_cause: bool) -> Layer {
        Layer {
            text,
            cause: cause.map(Box::new),
            show_cause,
        }
    }

    #[test]
    fn every_cause_is_shown_once() {
        let refused = || layer("connection refused", None, false);
        let quiet = layer(
            "cannot connect to an upstream",
            Some(layer("client error (Connect)", Some(refused()), false)),
            false,
        );
        assert_eq!(
            error_chain(&quiet),
            "cannot connect to an upstream: client error (Connect): connection refused"
        );
        let telling = layer(
            "bad host",
            Some(layer("tcp connect error", Some(refused()), true)),
            true,
        );
        assert_eq!(
            error_chain(&telling),
            "bad host: tcp connect error: connection refused"
        );
    }
}
