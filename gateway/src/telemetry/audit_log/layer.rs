//! The bridge from the typed audit events ([`crate::telemetry::audit::record`], written on the
//! tracing target `pforte::audit`) to the chained log: a tracing layer that takes each such event's
//! fields as JSON values and hands them to the [`AuditLog`]. Only that exact target is taken;
//! the audit log's own diagnostics use other targets, so they can never loop back into it.

use std::fmt;
use std::sync::Arc;

use pforte_audit::Encoded;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use super::AuditLog;
use crate::telemetry::audit::TARGET;

/// The layer; install it filtered to nothing else than the audit target.
pub struct ChainLayer {
    log: Arc<AuditLog>,
}

impl ChainLayer {
    /// A layer appending to `log`.
    pub fn new(log: Arc<AuditLog>) -> ChainLayer {
        ChainLayer { log }
    }
}

impl<S: Subscriber> Layer<S> for ChainLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if meta.target() != TARGET {
            return;
        }
        let mut fields = Fields {
            members: Encoded::default(),
            event: String::new(),
        };
        fields.members.string("timestamp", &super::timestamp());
        fields.members.string("level", meta.level().as_str());
        fields.members.string("target", TARGET);
        event.record(&mut fields);
        self.log.append_encoded(fields.members, &fields.event);
    }
}

/// An event's fields written as canonical JSON values at once: integers within ±2^53 as
/// numbers, larger ones and fractions as text.
struct Fields {
    members: Encoded,
    event: String,
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.members.string(field.name(), &value.to_string());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.members.integer(field.name(), i128::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.members.integer(field.name(), i128::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.members.boolean(field.name(), value);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "event" {
            self.event = value.to_string();
        }
        self.members.string(field.name(), value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.members.string(field.name(), &format!("{value:?}"));
    }
}
