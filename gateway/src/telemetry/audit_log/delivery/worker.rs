//! The thread of one sink: takes batches from its queue, sends them, reconnects with backoff
//! when the receiver is away, and reports the end of an overflow episode.
//!
//! ```text
//! queue.take ─▶ connect (100 ms, 200 ms, … 10 s between tries) ─▶ send ─▶ queue.finish ─▶ on_recovered
//!      ▲                                                                                       │
//!      └───────────────────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! A line is counted delivered once the socket took it. Lines wait in the queue while the sink
//! reconnects; nothing is dropped here except a line the socket can never take (too large),
//! and, at shutdown, what could not be sent in time. Errors are logged on the
//! `pforte::siem_delivery` target: never on the audit log's own, whose lines would come back
//! here.

use std::sync::Arc;
use std::time::Duration;

use super::queue::{Item, Queue};
use super::transport::{Breaker, Failure, SendError, Transport};
use super::{OnRecovered, TARGET};
use crate::telemetry::audit_log::counters::{Sink, counters};

/// Lines sent in one go: enough to fill a few TLS records, few enough that a slow receiver
/// still sees lines arrive steadily.
const BATCH: usize = 64;

/// The first pause after a failed connection, doubled each time up to [`BACKOFF_MAX`].
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// What the thread holds.
pub(super) struct Worker {
    pub sink: Sink,
    pub queue: Arc<Queue>,
    pub breaker: Arc<Breaker>,
    pub transport: Box<dyn Transport>,
    pub on_recovered: OnRecovered,
}

impl Worker {
    /// The thread's body: until the queue stops.
    pub fn run(mut self) {
        let mut backoff = Backoff::default();
        while let Some(batch) = self.queue.take(BATCH) {
            let last = self.deliver(&batch, &mut backoff);
            if let Some(dropped) = self.queue.finish(last) {
                tracing::warn!(
                    target: TARGET,
                    sink = self.sink.label(),
                    count = dropped.count,
                    first_seq = dropped.first_seq,
                    last_seq = dropped.last_seq,
                    "audit lines were dropped; the sink delivers again"
                );
                // No lock is held: the callback writes an audit event, which offers a line.
                (self.on_recovered)(dropped);
            }
        }
        self.transport.disconnect();
        self.breaker.disarm();
        self.queue.set_finished();
    }

    /// Sends `batch`, reconnecting as needed; the last line delivered, if any.
    fn deliver<'b>(&mut self, batch: &'b [Item], backoff: &mut Backoff) -> Option<&'b Item> {
        let mut rest = batch;
        let mut last = None;
        while !rest.is_empty() {
            if !self.transport.is_connected() && !self.connect(backoff) {
                self.abandon(rest);
                return last;
            }
            let Err(Failure { sent, error }) = self.transport.send(rest) else {
                counters().delivered_many(self.sink, rest.len() as u64);
                *backoff = Backoff::default();
                return rest.last().or(last);
            };
            counters().delivered_many(self.sink, sent as u64);
            if sent > 0 {
                *backoff = Backoff::default();
            }
            if let Some(delivered) = sent.checked_sub(1).and_then(|i| rest.get(i)) {
                last = Some(delivered);
            }
            rest = rest.get(sent..).unwrap_or_default();
            match error {
                SendError::TooLarge(error) => {
                    if let Some((item, after)) = rest.split_first() {
                        tracing::error!(
                            target: TARGET,
                            sink = self.sink.label(),
                            seq = item.seq,
                            bytes = item.line.len(),
                            %error,
                            "audit line too large for the socket, dropped"
                        );
                        self.queue.refused(item.seq);
                        counters().dropped(self.sink, 1);
                        rest = after;
                    }
                }
                SendError::Broken(error) => {
                    // Paused like a failed connection: a receiver that accepts connections
                    // and then breaks each one must not make this a busy loop.
                    let lost = "audit delivery connection lost; lines wait in the queue";
                    if !self.pause_after(backoff, &error, lost) {
                        self.abandon(rest);
                        return last;
                    }
                }
            }
        }
        last
    }

    /// Connects, pausing between tries; false when the queue stopped first.
    fn connect(&mut self, backoff: &mut Backoff) -> bool {
        loop {
            if self.queue.stopped() {
                return false;
            }
            match self.transport.connect(&self.breaker) {
                Ok(()) => {
                    if backoff.failures > 0 {
                        tracing::info!(
                            target: TARGET,
                            sink = self.sink.label(),
                            receiver = %self.transport.describe(),
                            failures = backoff.failures,
                            "audit delivery connected again"
                        );
                    }
                    // The pauses start over once a line gets through (`deliver`).
                    return true;
                }
                Err(error) => {
                    let away = "cannot reach the audit receiver; lines wait in the queue";
                    if !self.pause_after(backoff, &error, away) {
                        return false;
                    }
                }
            }
        }
    }

    /// After a connection failed or broke: drops it, warns (the first time, and at the longest
    /// pause), and pauses; false when the queue stopped meanwhile.
    fn pause_after(
        &mut self,
        backoff: &mut Backoff,
        error: &dyn std::fmt::Display,
        message: &'static str,
    ) -> bool {
        self.transport.disconnect();
        self.breaker.disarm();
        let pause = backoff.next();
        if backoff.worth_a_warning(pause) {
            tracing::warn!(
                target: TARGET,
                sink = self.sink.label(),
                receiver = %self.transport.describe(),
                %error,
                retry_in_ms = pause.as_millis() as u64,
                "{message}"
            );
        }
        self.queue.pause(pause)
    }

    /// Lines the sink stopped before sending: counted and logged as dropped.
    fn abandon(&self, rest: &[Item]) {
        if let (Some(first), Some(last)) = (rest.first(), rest.last()) {
            counters().dropped(self.sink, rest.len() as u64);
            tracing::warn!(
                target: TARGET,
                sink = self.sink.label(),
                count = rest.len(),
                first_seq = first.seq,
                last_seq = last.seq,
                "audit delivery stopped before these lines were sent"
            );
        }
    }
}

/// The pauses between connection attempts.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
}

impl Backoff {
    /// Counts a failure (a connection that failed or broke); the pause before the next try.
    fn next(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let doublings = self.failures.saturating_sub(1).min(16);
        BACKOFF_FIRST
            .saturating_mul(1 << doublings)
            .min(BACKOFF_MAX)
    }

    /// Whether the failure before `pause` is logged as a warning: the first, and every one
    /// at the longest pause, so a receiver that stays away shows every 10 s without a line
    /// per quick retry.
    fn worth_a_warning(&self, pause: Duration) -> bool {
        self.failures == 1 || pause == BACKOFF_MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_100ms_to_10s() {
        let mut backoff = Backoff::default();
        let pauses: Vec<u128> = (0..10).map(|_| backoff.next().as_millis()).collect();
        assert_eq!(
            pauses,
            [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]
        );
    }
}
