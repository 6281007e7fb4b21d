//! The bridge from the typed audit events ([`crate::telemetry::audit::record`], written on the
//! tracing target `pforte::audit`) to the chained log: a tracing layer that takes each such event's
//! fields as JSON values and hands them to the [`AuditLog`]. Only that exact target is taken;
//! the audit log's own diagnostics use other targets, so they can never loop back into it.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use super::AuditLog;
use crate::telemetry::audit::TARGET;

/// The largest integer a chained line holds as a number (see `pforte_audit::canonical`).
const MAX_EXACT: u64 = 1 << 53;

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
        let mut fields = Map::new();
        fields.insert("level".into(), Value::String(meta.level().to_string()));
        fields.insert("target".into(), Value::String(TARGET.into()));
        event.record(&mut Fields(&mut fields));
        self.log.append(fields);
    }
}

/// An event's fields as JSON values the canonical form can hold: integers within ±2^53 as
/// numbers, larger ones and fractions as text.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Fields<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        self.0.insert(field.name().to_string(), value);
    }
}

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::String(value.to_string()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if value.unsigned_abs() <= MAX_EXACT {
            self.put(field, Value::from(value));
        } else {
            self.put(field, Value::String(value.to_string()));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if value <= MAX_EXACT {
            self.put(field, Value::from(value));
        } else {
            self.put(field, Value::String(value.to_string()));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}
