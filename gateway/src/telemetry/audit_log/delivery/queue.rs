//! One sink's bounded queue, and the overflow episodes it keeps count of.
//!
//! The writer pushes (never waiting for anything but a lock held for a few instructions);
//! the sink's thread takes batches. A push that finds the queue full drops the line and adds
//! it to the open *episode*: the lines one stretch of overflow cost, with their count and
//! sequence range. The episode closes when the sink delivers again after the last drop — a
//! line pushed after it has been delivered, or the queue has run empty — and the thread then
//! reports it (`Dropped`), so the chain records exactly what the sink's copy lacks. Closing
//! only then keeps a sink that stays overloaded from opening one episode per line.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::Dropped;
use crate::telemetry::audit_log::counters::Sink;

/// One line waiting for its sink.
#[derive(Debug, Clone)]
pub(super) struct Item {
    /// The chained JSON line, unchanged.
    pub line: Arc<str>,
    /// Its sequence number in the chain.
    pub seq: u64,
    /// The event's name (`login_success`).
    pub event: Arc<str>,
    /// The queue's drop count when the line was pushed: a line pushed after an episode's last
    /// drop ends that episode when it is delivered.
    drops_before: u64,
}

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pushed {
    /// The line waits for the sink.
    Queued,
    /// The queue was full, or the sink has stopped: the line is dropped; `episode_started`
    /// when it is the first drop since the sink last delivered.
    Dropped {
        /// Whether this drop opened a new episode.
        episode_started: bool,
    },
}

/// The drops of the open episode.
#[derive(Debug, Clone, Copy)]
struct Episode {
    count: u64,
    first_seq: u64,
    last_seq: u64,
    /// The queue's drop count after the episode's last drop.
    drops_at_last: u64,
}

#[derive(Debug)]
struct State {
    lines: VecDeque<Item>,
    capacity: usize,
    /// Every drop since the queue was made.
    drops: u64,
    episode: Option<Episode>,
    /// The sink's thread holds a batch it has not finished.
    in_flight: bool,
    /// Set by [`Queue::stop`]: pushes are dropped, the thread ends.
    stopped: bool,
    /// The sink's thread has returned.
    finished: bool,
}

/// A bounded queue shared by the writer and one sink's thread.
#[derive(Debug)]
pub(super) struct Queue {
    sink: Sink,
    state: Mutex<State>,
    /// Wakes the thread: a line came, or the queue stopped.
    wake: Condvar,
    /// Wakes [`Queue::wait_drained`] and [`Queue::wait_finished`].
    progress: Condvar,
}

impl Queue {
    /// An empty queue holding up to `capacity` lines (at least one).
    pub fn new(sink: Sink, capacity: usize) -> Self {
        Self {
            sink,
            state: Mutex::new(State {
                lines: VecDeque::new(),
                capacity: capacity.max(1),
                drops: 0,
                episode: None,
                in_flight: false,
                stopped: false,
                finished: false,
            }),
            wake: Condvar::new(),
            progress: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the state half-changed: every change is one field
        // assignment or push, so the state of a poisoned lock is still whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a line, or drops it when the queue is full or stopped.
    pub fn push(&self, line: Arc<str>, seq: u64, event: Arc<str>) -> Pushed {
        let mut state = self.lock();
        if state.stopped || state.lines.len() >= state.capacity {
            let episode_started = record_drop(&mut state, seq);
            return Pushed::Dropped { episode_started };
        }
        let drops_before = state.drops;
        state.lines.push_back(Item {
            line,
            seq,
            event,
            drops_before,
        });
        drop(state);
        self.wake.notify_one();
        Pushed::Queued
    }

    /// The lines waiting (not those the thread has taken).
    pub fn len(&self) -> usize {
        self.lock().lines.len()
    }

    /// Up to `max` lines in order, waiting for the first; `None` once the queue is stopped.
    pub fn take(&self, max: usize) -> Option<Vec<Item>> {
        let mut state = self.lock();
        loop {
            if state.stopped {
                return None;
            }
            if !state.lines.is_empty() {
                let n = state.lines.len().min(max.max(1));
                state.in_flight = true;
                return Some(state.lines.drain(..n).collect());
            }
            state = self
                .wake
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// A line the sink's thread could not send and will not retry (too large for the
    /// socket): dropped, and part of the episode like a line that found the queue full.
    pub fn refused(&self, seq: u64) {
        let mut state = self.lock();
        record_drop(&mut state, seq);
    }

    /// The thread is done with its batch; `last_delivered` is the batch's last line it sent, if
    /// any. Returns the episode this delivery ends, which the caller reports with no lock held.
    pub fn finish(&self, last_delivered: Option<&Item>) -> Option<Dropped> {
        let mut state = self.lock();
        state.in_flight = false;
        let ended = match (state.episode, last_delivered) {
            (Some(episode), Some(item))
                if item.drops_before >= episode.drops_at_last || state.lines.is_empty() =>
            {
                state.episode = None;
                Some(Dropped {
                    sink: self.sink,
                    count: episode.count,
                    first_seq: episode.first_seq,
                    last_seq: episode.last_seq,
                })
            }
            _ => None,
        };
        drop(state);
        self.progress.notify_all();
        ended
    }

    /// Waits until `within` has passed, or the thread sent (or gave up) every line and holds
    /// no batch; true when drained.
    pub fn wait_drained(&self, within: Duration) -> bool {
        let state = self.lock();
        let (state, _) = self
            .progress
            .wait_timeout_while(state, within, |s| {
                !s.finished && (s.in_flight || !s.lines.is_empty())
            })
            .unwrap_or_else(PoisonError::into_inner);
        !state.in_flight && state.lines.is_empty()
    }

    /// Stops the queue: later pushes are dropped, the thread ends after its batch. Returns the
    /// lines left, counted as dropped by the caller.
    pub fn stop(&self) -> Vec<Item> {
        let mut state = self.lock();
        state.stopped = true;
        let left: Vec<Item> = state.lines.drain(..).collect();
        drop(state);
        self.wake.notify_all();
        self.progress.notify_all();
        left
    }

    /// Whether [`Queue::stop`] was called: the thread checks it between retries.
    pub fn stopped(&self) -> bool {
        self.lock().stopped
    }

    /// Sleeps `pause` (a retry's backoff) unless the queue stops first; false once stopped.
    pub fn pause(&self, pause: Duration) -> bool {
        let state = self.lock();
        let (state, _) = self
            .wake
            .wait_timeout_while(state, pause, |s| !s.stopped)
            .unwrap_or_else(PoisonError::into_inner);
        !state.stopped
    }

    /// Called by the thread as it returns.
    pub fn set_finished(&self) {
        self.lock().finished = true;
        self.progress.notify_all();
    }

    /// Waits up to `within` for the thread to return; true when it has.
    pub fn wait_finished(&self, within: Duration) -> bool {
        let state = self.lock();
        let (state, _) = self
            .progress
            .wait_timeout_while(state, within, |s| !s.finished)
            .unwrap_or_else(PoisonError::into_inner);
        state.finished
    }
}

/// Counts one drop into the open episode (opening one if none is); true when it opened one.
fn record_drop(state: &mut State, seq: u64) -> bool {
    state.drops += 1;
    let drops_at_last = state.drops;
    match &mut state.episode {
        Some(episode) => {
            episode.count += 1;
            episode.first_seq = episode.first_seq.min(seq);
            episode.last_seq = episode.last_seq.max(seq);
            episode.drops_at_last = drops_at_last;
            false
        }
        None => {
            state.episode = Some(Episode {
                count: 1,
                first_seq: seq,
                last_seq: seq,
                drops_at_last,
            });
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(queue: &Queue, seq: u64) -> Pushed {
        queue.push(
            Arc::from(format!("line {seq}")),
            seq,
            Arc::from("login_success"),
        )
    }

    fn dropped(started: bool) -> Pushed {
        Pushed::Dropped {
            episode_started: started,
        }
    }

    #[test]
    fn an_overflow_is_one_episode_until_a_later_line_is_delivered() {
        let queue = Queue::new(Sink::Syslog, 2);
        assert_eq!(push(&queue, 1), Pushed::Queued);
        assert_eq!(push(&queue, 2), Pushed::Queued);
        assert_eq!(push(&queue, 3), dropped(true));
        assert_eq!(push(&queue, 4), dropped(false));
        // The sink sends line 1; line 2 (pushed before the drops) still waits: the episode
        // stays open, and a push into the freed place does not end it either.
        let batch = queue.take(1).unwrap();
        assert_eq!(batch[0].seq, 1);
        assert_eq!(queue.finish(batch.last()), None);
        assert_eq!(push(&queue, 5), Pushed::Queued);
        assert_eq!(push(&queue, 6), dropped(false));
        let batch = queue.take(1).unwrap();
        assert_eq!(
            queue.finish(batch.last()),
            None,
            "line 2 came before the drops"
        );
        assert_eq!(push(&queue, 7), Pushed::Queued);
        let batch = queue.take(10).unwrap();
        assert_eq!(batch.iter().map(|i| i.seq).collect::<Vec<_>>(), [5, 7]);
        let ended = queue.finish(batch.last()).unwrap();
        assert_eq!(
            (ended.sink, ended.count, ended.first_seq, ended.last_seq),
            (Sink::Syslog, 3, 3, 6)
        );
        // The next overflow is a new episode.
        assert_eq!(push(&queue, 8), Pushed::Queued);
        assert_eq!(push(&queue, 9), Pushed::Queued);
        assert_eq!(push(&queue, 10), dropped(true));
    }

    #[test]
    fn a_drained_queue_ends_the_episode_without_a_new_line() {
        let queue = Queue::new(Sink::Journald, 1);
        assert_eq!(push(&queue, 1), Pushed::Queued);
        assert_eq!(push(&queue, 2), dropped(true));
        let batch = queue.take(8).unwrap();
        let ended = queue.finish(batch.last()).unwrap();
        assert_eq!((ended.count, ended.first_seq, ended.last_seq), (1, 2, 2));
        assert!(queue.wait_drained(Duration::ZERO));
    }

    #[test]
    fn a_refused_line_joins_the_episode_and_nothing_sent_ends_none() {
        let queue = Queue::new(Sink::Journald, 4);
        push(&queue, 1);
        let batch = queue.take(8).unwrap();
        queue.refused(1);
        assert_eq!(queue.finish(None), None, "nothing was delivered");
        push(&queue, 2);
        let batch2 = queue.take(8).unwrap();
        let ended = queue.finish(batch2.last()).unwrap();
        assert_eq!((ended.count, ended.first_seq, ended.last_seq), (1, 1, 1));
        drop(batch);
    }

    #[test]
    fn a_stopped_queue_drops_hands_back_its_lines_and_ends_the_thread() {
        let queue = Queue::new(Sink::Syslog, 4);
        push(&queue, 1);
        push(&queue, 2);
        assert!(!queue.wait_drained(Duration::from_millis(1)));
        let left = queue.stop();
        assert_eq!(left.len(), 2);
        assert_eq!(push(&queue, 3), dropped(true));
        assert!(queue.take(1).is_none());
        assert!(
            !queue.pause(Duration::from_secs(60)),
            "a stopped queue does not sleep"
        );
    }
}
