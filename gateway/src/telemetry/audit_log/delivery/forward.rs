//! The audit log's side of delivery: [`Delivery`] as the log's [`Forward`], and the way an
//! ended episode reaches the log ([`LogSlot`]), which can only be known once the log is open —
//! and the log needs its deliveries to open.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use super::{Delivery, DeliveryError, Dropped, OnRecovered, TARGET};
use crate::config::Audit;
use crate::telemetry::audit_log::{AuditLog, Forward};

/// The chained audit log's side: each sink whose queue a line overflowed first is named, and
/// the log records an `audit_delivery_overflow` event for it.
impl Forward for Delivery {
    fn offer(&self, line: &Arc<str>, seq: u64, event: &str) -> Vec<&'static str> {
        let mut started = Vec::new();
        self.push(line, seq, event, |sink, episode_started| {
            if episode_started {
                started.push(sink.label());
            }
        });
        started
    }

    fn close(&self, within: Duration) {
        Delivery::close(self, within);
    }
}

/// The audit log a [`Delivery`] reports ended episodes to, known only once the log is open
/// (which needs the delivery first): [`for_audit_log`] makes it empty, [`LogSlot::attach`] fills
/// it. An episode that ends before (none can: nothing is offered before the log is open) or
/// after the log is gone is only logged.
#[derive(Clone, Default)]
pub struct LogSlot(Arc<OnceLock<Weak<AuditLog>>>);

impl std::fmt::Debug for LogSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSlot").finish_non_exhaustive()
    }
}

impl LogSlot {
    /// Reports to `log` from now on (the first log attached stays).
    pub fn attach(&self, log: &Arc<AuditLog>) {
        let _ = self.0.set(Arc::downgrade(log));
    }

    fn record(&self, dropped: Dropped) {
        match self.0.get().and_then(Weak::upgrade) {
            Some(log) => log.record_dropped(
                dropped.sink.label(),
                dropped.count,
                dropped.first_seq,
                dropped.last_seq,
            ),
            None => tracing::warn!(
                target: TARGET,
                sink = dropped.sink.label(),
                count = dropped.count,
                first_seq = dropped.first_seq,
                last_seq = dropped.last_seq,
                "audit lines dropped with no audit log to record it in"
            ),
        }
    }
}

/// The audit log's deliveries and the slot its log is attached to.
pub type ForAuditLog = (Box<dyn Forward>, LogSlot);

/// The deliveries `settings` configure, as the audit log's [`Forward`], with the slot to attach
/// the log to once it is open; `None` without `[audit.syslog]` or `[audit.journald]`.
pub fn for_audit_log(settings: &Audit) -> Result<Option<ForAuditLog>, DeliveryError> {
    if settings.syslog.is_none() && settings.journald.is_none() {
        return Ok(None);
    }
    let slot = LogSlot::default();
    let on_recovered: OnRecovered = {
        let slot = slot.clone();
        Arc::new(move |dropped| slot.record(dropped))
    };
    let delivery = Delivery::start(
        settings.syslog.clone(),
        settings.journald.clone(),
        on_recovered,
    )?;
    Ok(Some((Box::new(delivery), slot)))
}
