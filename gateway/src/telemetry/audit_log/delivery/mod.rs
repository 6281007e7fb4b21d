//! A copy of every audit log line for syslog and journald, without ever slowing the writer.
//!
//! ```text
//! writer ─offer─▶ queue (bounded, per sink) ─▶ sink thread ─▶ rfc5424 + TLS/datagram ─▶ syslog
//!                 full: drop, count, episode   (worker)     ─▶ journald datagram      ─▶ journald
//!                                                  │
//!                          episode over ◀──────────┘ on_recovered(Dropped) ─▶ writer
//! ```
//!
//! The writer hands each chained line to [`Delivery::offer`] after writing it to the file (the
//! audit log holds it as its [`Forward`](super::Forward), made by [`for_audit_log`] from `[audit.syslog]` and
//! `[audit.journald]`).
//! `offer` never waits for a receiver: each configured sink has a bounded `queue` and a
//! thread of its own (plain std threads, so `pforte-admin` can use it outside any runtime).
//! A full queue drops the line, counts it (`pforte_audit_events_dropped_total{sink}`) and, for
//! the first drop of an overflow episode, tells the writer, which records an
//! `audit_delivery_overflow` event. When the sink delivers again its thread calls
//! `on_recovered` with the episode's count and sequence range, and the writer records an
//! `audit_delivery_dropped` event: the chain itself says which lines the SIEM's copy lacks.
//!
//! The modules, in a line's order: `queue` (bounds and episodes), `worker` (the thread:
//! batches, reconnects with backoff), `line` (time, severity and replica read from the line),
//! `rfc5424` and `syslog` (RFC 5424 messages, RFC 5425 framing over `tls`, or a datagram),
//! `journald` (the native protocol over a `datagram` socket), `transport` (what a thread
//! needs from a connection, and how `close` interrupts it), `forward` (the audit log's side).

mod datagram;
mod forward;
mod journald;
mod line;
mod queue;
mod rfc5424;
mod syslog;
mod tls;
mod transport;
mod worker;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

pub use crate::config::audit_delivery::{JournaldTarget, SyslogTarget};
pub use forward::{ForAuditLog, LogSlot, for_audit_log};
pub use line::Severity;
pub use tls::TlsSetupError;

use crate::telemetry::audit_log::counters::{Sink, counters};
use datagram::Datagram;
use queue::{Pushed, Queue};
use transport::{Breaker, Transport};
use worker::Worker;

/// The tracing target of delivery's own messages. Not the audit log's (`pforte::audit`): an
/// error logged there would be an audit line, offered here again. Nor anything that starts
/// with it (`pforte::audit_delivery`): tracing-subscriber's target filters match by prefix, so
/// the audit layer would take that too.
pub const TARGET: &str = "pforte::siem_delivery";

/// How long `close` waits for a sink's thread to end once told to, after the drain: a thread
/// stuck connecting (at most the connect timeout) is left to end by itself.
const THREAD_END_WAIT: Duration = Duration::from_secs(1);

/// The lines one sink dropped in one overflow episode, reported when it delivers again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    /// Which sink.
    pub sink: Sink,
    /// How many lines.
    pub count: u64,
    /// The lowest sequence number dropped.
    pub first_seq: u64,
    /// The highest sequence number dropped.
    pub last_seq: u64,
}

/// What [`Delivery::offer`] did with a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    /// Every sink queued it (or there is no sink).
    Queued,
    /// At least one sink's queue was full (or the sinks are closed): dropped there and
    /// counted.
    Dropped {
        /// This drop opened a new overflow episode in some sink: the writer records an
        /// `audit_delivery_overflow` event (after releasing its lock).
        episode_started: bool,
    },
}

/// Called by a sink's thread when an overflow episode is over, with no lock held; the writer
/// appends an `audit_delivery_dropped` event, which calls [`Delivery::offer`].
pub type OnRecovered = Arc<dyn Fn(Dropped) + Send + Sync>;

/// Why delivery could not start.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The syslog sink's TLS client could not be made from its files.
    #[error("audit.syslog: {0}")]
    Tls(#[from] TlsSetupError),
    /// The operating system refused a thread.
    #[error("cannot start the audit {sink} thread: {source}")]
    Thread {
        /// Which sink's thread.
        sink: &'static str,
        /// Why.
        source: std::io::Error,
    },
}

/// The running sinks; dropping it stops them without waiting (call [`Delivery::close`] first
/// to let the queues drain).
pub struct Delivery {
    sinks: Vec<SinkHandle>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field(
                "sinks",
                &self.sinks.iter().map(|s| s.sink).collect::<Vec<_>>(),
            )
            .finish()
    }
}

struct SinkHandle {
    sink: Sink,
    queue: Arc<Queue>,
    breaker: Arc<Breaker>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Delivery {
    /// Starts one std thread per configured sink (no tokio: pforte-admin uses it too, outside
    /// any runtime). Only reading the TLS files or making a thread can fail; a receiver that
    /// is not there yet is retried by the thread while lines wait in its queue.
    pub fn start(
        syslog: Option<SyslogTarget>,
        journald: Option<JournaldTarget>,
        on_recovered: OnRecovered,
    ) -> Result<Self, DeliveryError> {
        let mut delivery = Self { sinks: Vec::new() };
        if let Some(target) = syslog {
            let transport = syslog::transport(&target)?;
            delivery.spawn(Sink::Syslog, target.queue, transport, &on_recovered)?;
        }
        if let Some(target) = journald {
            let transport = journald_transport(target.socket);
            delivery.spawn(Sink::Journald, target.queue, transport, &on_recovered)?;
        }
        Ok(delivery)
    }

    fn spawn(
        &mut self,
        sink: Sink,
        capacity: usize,
        transport: Box<dyn Transport>,
        on_recovered: &OnRecovered,
    ) -> Result<(), DeliveryError> {
        let queue = Arc::new(Queue::new(sink, capacity));
        let breaker = Arc::new(Breaker::default());
        let worker = Worker {
            sink,
            queue: queue.clone(),
            breaker: breaker.clone(),
            transport,
            on_recovered: on_recovered.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("pforte-audit-{}", sink.label()))
            .spawn(move || worker.run())
            .map_err(|source| DeliveryError::Thread {
                sink: sink.label(),
                source,
            })?;
        self.sinks.push(SinkHandle {
            sink,
            queue,
            breaker,
            thread: Mutex::new(Some(thread)),
        });
        Ok(())
    }

    /// Never blocks: `try_send` into each sink's bounded queue; a full queue drops the line,
    /// counts it (`counters().dropped`) and reports whether this drop started a new overflow
    /// episode (the writer then records an `audit_delivery_overflow` event itself, after
    /// releasing its lock). `event` is the event's name (`login_success`, `audit_checkpoint`),
    /// the syslog MSGID.
    pub fn offer(&self, line: &Arc<str>, seq: u64, event: &str) -> Offered {
        let mut offered = Offered::Queued;
        self.push(line, seq, event, |_, episode_started| {
            let started_before = matches!(
                offered,
                Offered::Dropped {
                    episode_started: true
                }
            );
            offered = Offered::Dropped {
                episode_started: started_before || episode_started,
            };
        });
        offered
    }

    /// Pushes the line into every sink's queue; `dropped(sink, episode_started)` for each that
    /// dropped it (already counted).
    fn push(&self, line: &Arc<str>, seq: u64, event: &str, mut dropped: impl FnMut(Sink, bool)) {
        let event: Arc<str> = Arc::from(event);
        for sink in &self.sinks {
            if let Pushed::Dropped { episode_started } =
                sink.queue.push(line.clone(), seq, event.clone())
            {
                counters().dropped(sink.sink, 1);
                dropped(sink.sink, episode_started);
            }
        }
    }

    /// The lines waiting in each sink's queue now (not counting a batch being sent), for a
    /// status page and for tests that must know a receiver has stopped taking lines.
    pub fn queued(&self) -> Vec<(Sink, usize)> {
        self.sinks.iter().map(|s| (s.sink, s.queue.len())).collect()
    }

    /// At shutdown: waits up to `within` for the queues to drain (both sinks at once), then
    /// stops the threads. Lines still queued are counted as dropped and logged with their
    /// sequence range. Call it without holding the writer's lock: a sink ending an episode
    /// calls back into the writer.
    pub fn close(&self, within: Duration) {
        std::thread::scope(|scope| {
            let mut inline = Vec::new();
            for sink in &self.sinks {
                let spawned = std::thread::Builder::new()
                    .name(format!("pforte-audit-{}-close", sink.sink.label()))
                    .spawn_scoped(scope, move || sink.close(within));
                if spawned.is_err() {
                    inline.push(sink);
                }
            }
            for sink in inline {
                sink.close(within);
            }
        });
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        for sink in &self.sinks {
            sink.stop();
        }
    }
}

impl SinkHandle {
    fn close(&self, within: Duration) {
        if !self.queue.wait_drained(within) {
            tracing::warn!(
                target: TARGET,
                sink = self.sink.label(),
                waited_ms = within.as_millis() as u64,
                "audit delivery did not drain in time"
            );
        }
        self.stop();
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if self.queue.wait_finished(THREAD_END_WAIT)
            && let Some(thread) = thread
        {
            // It has returned: joining does not wait. A panic in it was already reported.
            let _ = thread.join();
        }
    }

    /// Stops the queue and interrupts a blocked send; the lines left are dropped.
    fn stop(&self) {
        let left = self.queue.stop();
        self.breaker.trip();
        if let (Some(first), Some(last)) = (left.first(), left.last()) {
            counters().dropped(self.sink, left.len() as u64);
            tracing::warn!(
                target: TARGET,
                sink = self.sink.label(),
                count = left.len(),
                first_seq = first.seq,
                last_seq = last.seq,
                "audit lines left undelivered at shutdown"
            );
        }
    }
}

/// journald's transport: native-protocol datagrams to `socket`.
fn journald_transport(socket: PathBuf) -> Box<dyn Transport> {
    Box::new(Datagram::new(socket, Box::new(journald::datagram)))
}

#[cfg(test)]
mod tests {
    use tracing::Level;
    use tracing_subscriber::filter::Targets;

    use super::TARGET;
    use crate::telemetry::audit;

    #[test]
    fn delivery_messages_stay_out_of_the_audit_log() {
        // The filter the audit log's layer is installed with (telemetry::init).
        let audit_layer = Targets::new().with_target(audit::TARGET, Level::INFO);
        assert!(audit_layer.would_enable(audit::TARGET, &Level::INFO));
        assert!(!audit_layer.would_enable(TARGET, &Level::ERROR));
        assert!(
            audit_layer.would_enable("pforte::audit_delivery", &Level::ERROR),
            "prefix match: why the target is not named so"
        );
    }
}
