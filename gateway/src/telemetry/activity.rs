//! Knowing when a connection is idle: requests in flight are counted and the end of the last one
//! is noted, so a connection is closed only when no request has been open on it for the idle
//! timeout. (A request whose body streams slowly is in flight, so it never counts as idle;
//! watching every read and write would cost a clock read per I/O call and tell nothing more.)

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What a connection did last.
#[derive(Debug)]
pub struct Activity {
    anchor: Instant,
    /// When the last request ended, in milliseconds after `anchor` plus one; 0: none has.
    last_millis: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    /// A fresh record for a connection opened now.
    // A network timer (when to close an idle connection), not a judgement a test moves.
    #[allow(clippy::disallowed_methods)]
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            anchor: Instant::now(),
            last_millis: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        })
    }

    fn touch(&self) {
        let millis = u64::try_from(self.anchor.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_millis
            .store(millis.saturating_add(1), Ordering::Relaxed);
    }

    /// True when no request is in flight and none ended within `limit`.
    pub fn idle_for(&self, limit: Duration) -> bool {
        let now = self.anchor.elapsed();
        let last = Duration::from_millis(self.last_millis.load(Ordering::Relaxed));
        self.in_flight.load(Ordering::Acquire) == 0 && now.saturating_sub(last) >= limit
    }

    /// Whether the connection may be closed to make room for others, and how urgently: `None`
    /// while a request is in flight, or when it has sent none yet and opened less than `grace`
    /// ago (its first request may be on its way). Else the rank: a connection that never sent a
    /// request before one that did, then the longest idle first (smaller ranks go first).
    pub fn shed_rank(&self, grace: Duration) -> Option<(bool, Duration)> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let now = self.anchor.elapsed();
        match self.last_millis.load(Ordering::Relaxed) {
            0 if now < grace => None,
            0 => Some((false, Duration::MAX - now)),
            last => Some((
                true,
                Duration::MAX - now.saturating_sub(Duration::from_millis(last)),
            )),
        }
    }

    /// Marks a request in flight until the guard is dropped (with the end of its response body).
    pub fn begin_request(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(self.clone())
    }
}

/// A request in flight on a connection.
#[derive(Debug)]
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.touch();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_request_is_never_idle() {
        let activity = Activity::new();
        let guard = activity.begin_request();
        assert!(!activity.idle_for(Duration::ZERO));
        drop(guard);
        assert!(activity.idle_for(Duration::ZERO));
        assert!(!activity.idle_for(Duration::from_secs(3600)));
    }

    #[test]
    fn silent_connections_are_shed_first_and_only_after_the_grace() {
        let silent = Activity::new();
        assert_eq!(silent.shed_rank(Duration::from_secs(3600)), None);
        let used = Activity::new();
        let guard = used.begin_request();
        assert_eq!(used.shed_rank(Duration::ZERO), None);
        drop(guard);
        let (silent_rank, used_rank) = (
            silent.shed_rank(Duration::ZERO),
            used.shed_rank(Duration::ZERO),
        );
        assert!(silent_rank.is_some() && used_rank.is_some());
        assert!(silent_rank < used_rank);
    }
}
