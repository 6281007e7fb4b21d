//! Wall-clock time as the store sees it: whole seconds since the Unix epoch.
//!
//! Every operation takes `now` as an argument instead of reading the clock, so tests move time
//! forward without sleeping and every replica judges expiry with the same arithmetic. Whole
//! seconds are enough for timeouts counted in minutes and hours, and keep the stored form short.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

    /// Reads the system clock: the one place the gateway gets `now` from (tests build times
    /// with [`Timestamp::from_unix_secs`] instead).
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
}
