//! Time as the store sees it: wall-clock [`Timestamp`]s in whole seconds since the Unix epoch,
//! read from a [`Clock`].
//!
//! Most operations take `now` as an argument instead of reading a clock, so every replica
//! judges expiry with the same arithmetic. What the store must time by itself (the memory
//! store's OIDC records, the Redis store's trust in its local cache) it reads from the
//! [`Clock`] it was opened with, and only from there: production passes [`Clock::system`],
//! tests a [`Clock::manual`] that they move with [`Clock::advance`] instead of sleeping. Whole
//! seconds are enough for timeouts counted in minutes and hours, and keep the stored form short.
//!
//! A clock gives readings, not waits: a task that waits (the logout queue's `wait`, the Redis
//! subscriber's ping pace) sleeps on tokio's timer, the only one that can wake it, and a manual
//! clock does not shorten that sleep.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A point in wall-clock time, in whole seconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(u64);

impl Timestamp {
    /// Builds a time from seconds since the Unix epoch, as stored and as shown by the admin CLI.
    pub const fn from_unix_secs(secs: u64) -> Self {
        Self(secs)
    }

    /// The seconds since the Unix epoch, for storage and display.
    pub const fn unix_secs(self) -> u64 {
        self.0
    }

    /// Reads the system clock: only [`Clock::system`] calls it (everything else reads a
    /// [`Clock`]; tests build times with [`Timestamp::from_unix_secs`] or move a manual clock).
    #[allow(clippy::disallowed_methods)] // the clock module: the one place that reads the system
    pub fn now() -> Self {
        Self::from_system_time(SystemTime::now())
    }

    /// Converts a system time; a time before the epoch (a broken clock) counts as the epoch.
    pub fn from_system_time(time: SystemTime) -> Self {
        Self(time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
    }

    /// This time plus `duration` (whole seconds), saturating instead of overflowing.
    pub fn plus(self, duration: Duration) -> Self {
        Self(self.0.saturating_add(duration.as_secs()))
    }

    /// How long after `earlier` this time is; zero when it is not after it.
    pub fn since(self, earlier: Self) -> Duration {
        Duration::from_secs(self.0.saturating_sub(earlier.0))
    }
}

/// Where the store reads the time: the system's clocks, or a manual clock that a test moves.
///
/// A cheap handle (cloning the system clock copies nothing; a manual clock is shared through
/// an `Arc`, so every clone sees every [`Clock::advance`]). Reading takes no lock: the system
/// clock costs what `SystemTime::now` and `Instant::now` cost, a manual clock one atomic load.
#[derive(Debug, Clone)]
pub struct Clock(Source);

#[derive(Debug, Clone)]
enum Source {
    System,
    Manual(Arc<Manual>),
}

/// A manual clock: where it started, and how far it has been moved since.
#[derive(Debug)]
struct Manual {
    start: Timestamp,
    /// The monotonic reading at creation; [`Clock::instant`] is this plus `moved`.
    base: Instant,
    /// Nanoseconds moved in all. [`Clock::advance`] only stores values that `base` can carry,
    /// so `base + moved` never overflows.
    moved: AtomicU64,
}

/// Why a clock could not be moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// The system clock moves by itself; moving it is refused rather than ignored, so a test
    /// that meant to skip time over a real clock fails at once instead of passing by accident.
    #[error("the system clock cannot be moved; use Clock::manual")]
    NotManual,
    /// The move would take the clock past what its readings can hold (about 584 years in
    /// all); the clock stays where it was.
    #[error("a manual clock cannot move that far")]
    TooFar,
}

impl Clock {
    /// The real clock: wall time from the system, monotonic readings from `Instant`. What
    /// production opens every store with.
    pub fn system() -> Self {
        Self(Source::System)
    }

    /// A clock that reads `start` until it is moved with [`Clock::advance`], for tests: time
    /// skips forward at once, and nothing else moves it. Its monotonic reading starts at the
    /// moment it was made.
    #[allow(clippy::disallowed_methods)] // the clock module: a manual clock's monotonic base
    pub fn manual(start: Timestamp) -> Self {
        Self(Source::Manual(Arc::new(Manual {
            start,
            base: Instant::now(),
            moved: AtomicU64::new(0),
        })))
    }

    /// The wall time now, in whole seconds (a manual clock: its start plus the whole seconds it
    /// was moved).
    pub fn now(&self) -> Timestamp {
        match &self.0 {
            Source::System => Timestamp::now(),
            Source::Manual(manual) => manual.start.plus(manual.moved()),
        }
    }

    /// A monotonic reading, for windows shorter than a second (the Redis store's trust in its
    /// cache); a manual clock's moves forward with [`Clock::advance`].
    #[allow(clippy::disallowed_methods)] // the clock module: the one place that reads the system
    pub fn instant(&self) -> Instant {
        match &self.0 {
            Source::System => Instant::now(),
            // Cannot overflow: `advance` stores only offsets that `base` can carry.
            Source::Manual(manual) => manual.base + manual.moved(),
        }
    }

    /// Moves a manual clock forward by `by`, for every holder of a clone of it. Refused for the
    /// system clock ([`ClockError::NotManual`]) and beyond what the readings can hold
    /// ([`ClockError::TooFar`]).
    pub fn advance(&self, by: Duration) -> Result<(), ClockError> {
        let Source::Manual(manual) = &self.0 else {
            return Err(ClockError::NotManual);
        };
        let by = u64::try_from(by.as_nanos()).map_err(|_| ClockError::TooFar)?;
        manual
            .moved
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |moved| {
                let moved = moved.checked_add(by)?;
                manual
                    .base
                    .checked_add(Duration::from_nanos(moved))
                    .map(|_| moved)
            })
            .map(drop)
            .map_err(|_| ClockError::TooFar)
    }
}

impl Manual {
    /// How far the clock has been moved. A single counter needs no ordering with other memory:
    /// each reader still sees it only grow.
    fn moved(&self) -> Duration {
        Duration::from_nanos(self.moved.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_panicking() {
        let t = Timestamp::from_unix_secs(100);
        assert_eq!(t.plus(Duration::from_secs(5)).unix_secs(), 105);
        assert_eq!(
            Timestamp::from_unix_secs(u64::MAX)
                .plus(Duration::from_secs(1))
                .unix_secs(),
            u64::MAX
        );
        assert_eq!(
            t.since(Timestamp::from_unix_secs(40)),
            Duration::from_secs(60)
        );
        assert_eq!(Timestamp::from_unix_secs(40).since(t), Duration::ZERO);
    }

    #[test]
    fn a_clock_before_the_epoch_reads_as_the_epoch() {
        let before = UNIX_EPOCH - Duration::from_secs(10);
        assert_eq!(Timestamp::from_system_time(before).unix_secs(), 0);
    }

    const T0: Timestamp = Timestamp::from_unix_secs(1_700_000_000);

    #[test]
    fn a_manual_clock_stands_still_until_moved_and_every_clone_sees_the_move() {
        let clock = Clock::manual(T0);
        let copy = clock.clone();
        let i0 = clock.instant();
        assert_eq!(clock.now(), T0);
        assert_eq!(clock.instant(), i0);

        clock.advance(Duration::from_millis(1500)).unwrap();
        assert_eq!(copy.now(), T0.plus(Duration::from_secs(1)));
        assert_eq!(copy.instant() - i0, Duration::from_millis(1500));
        copy.advance(Duration::from_millis(500)).unwrap();
        assert_eq!(clock.now(), T0.plus(Duration::from_secs(2)));
        assert_eq!(clock.instant() - i0, Duration::from_secs(2));
    }

    #[test]
    fn a_manual_clock_refuses_a_move_it_cannot_hold_and_stays_put() {
        let clock = Clock::manual(T0);
        clock.advance(Duration::from_secs(60)).unwrap();
        assert_eq!(clock.advance(Duration::MAX), Err(ClockError::TooFar));
        assert_eq!(
            clock.advance(Duration::from_nanos(u64::MAX)),
            Err(ClockError::TooFar)
        );
        assert_eq!(clock.now(), T0.plus(Duration::from_secs(60)));
    }

    #[test]
    fn the_system_clock_reads_the_system_and_cannot_be_moved() {
        let clock = Clock::system();
        let before = Timestamp::now();
        let (now, instant) = (clock.now(), clock.instant());
        assert!(before <= now && now <= Timestamp::now());
        assert!(instant <= Instant::now());
        assert_eq!(
            clock.advance(Duration::from_secs(1)),
            Err(ClockError::NotManual)
        );
    }
}
