//! Brute-force throttling: how failed logins turn into a delay and then a lock.
//!
//! The schedule (defaults): the first 3 failures cost nothing (typos happen); each further one
//! makes the next attempt wait, doubling from 1 s up to 60 s; 20 failures lock the account or
//! address for 15 min after the last one. A counter is forgotten 15 min after its last failure,
//! and a success or the admin's unlock clears it. This module only computes; the stores keep the
//! counts, shared by every replica.

use std::borrow::Cow;
use std::time::Duration;

use aws_lc_rs::digest::{SHA256, digest};

use crate::time::Timestamp;

/// What a failure counter counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ThrottleKind {
    /// One login name, whatever address it is tried from (password guessing on one person).
    Account,
    /// One client address, whatever names it tries (password spraying from one host).
    Source,
}

impl ThrottleKind {
    /// The short name used in store keys and listings.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Source => "source",
        }
    }
}

/// Names longer than this are counted under their hash.
const LONGEST_NAME: usize = 128;

/// The name a counter is kept under: the name itself, or for an over-long one (a login form
/// can send megabytes) `sha256:` and its hex digest, so an attacker cannot make store keys of
/// any size.
pub(crate) fn counter_name(name: &str) -> Cow<'_, str> {
    if name.len() <= LONGEST_NAME {
        return Cow::Borrowed(name);
    }
    let hash = digest(&SHA256, name.as_bytes());
    let hex: String = hash.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    Cow::Owned(format!("sha256:{hex}"))
}

/// Whether a login attempt may go ahead now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// Go ahead.
    Allowed,
    /// Too many recent failures: refuse attempts before `until` (the login page says "wait").
    Wait {
        /// When the next attempt is allowed.
        until: Timestamp,
    },
    /// Locked after too many failures: refuse attempts before `until` unless an admin unlocks.
    Locked {
        /// When the lock ends by itself.
        until: Timestamp,
    },
}

/// What a login attempt faces, from the account's and the address's counters read together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginCheck {
    /// The verdict of the stricter of the two counters.
    pub verdict: Throttle,
    /// Whether the account has failures on record (a success must then clear them; without
    /// any, there is nothing to clear and no write is needed).
    pub account_failures: bool,
}

impl LoginCheck {
    /// Combines the two counters' verdicts: a lock beats a wait, a later end beats an earlier.
    pub(crate) fn new(account: Throttle, source: Throttle, account_failures: bool) -> Self {
        let rank = |t: Throttle| match t {
            Throttle::Allowed => (0, Timestamp::from_unix_secs(0)),
            Throttle::Wait { until } => (1, until),
            Throttle::Locked { until } => (2, until),
        };
        let verdict = if rank(source) > rank(account) {
            source
        } else {
            account
        };
        Self {
            verdict,
            account_failures,
        }
    }
}

/// The thresholds of the schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Failures that cost no delay.
    pub free_failures: u32,
    /// The delay after the first failure past the free ones; it doubles with each further one.
    pub first_delay: Duration,
    /// The longest delay before the lock.
    pub max_delay: Duration,
    /// Failures that lock.
    pub lock_after: u32,
    /// How long a lock lasts after the last failure.
    pub lock_for: Duration,
    /// A counter without a new failure for this long starts again from zero.
    pub forget_after: Duration,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            free_failures: 3,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            lock_after: 20,
            lock_for: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(15 * 60),
        }
    }
}

/// A counter as stored: how many failures, and when the last one was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failures {
    pub(crate) count: u32,
    pub(crate) last: Timestamp,
}

impl ThrottleSettings {
    /// The verdict for an attempt at `now`, given the counter.
    pub(crate) fn verdict(&self, failures: Failures, now: Timestamp) -> Throttle {
        if failures.count >= self.lock_after {
            let until = failures.last.plus(self.lock_for);
            return if now < until {
                Throttle::Locked { until }
            } else {
                Throttle::Allowed
            };
        }
        let Some(delay) = self.delay_after(failures.count) else {
            return Throttle::Allowed;
        };
        let until = failures.last.plus(delay);
        if now < until {
            Throttle::Wait { until }
        } else {
            Throttle::Allowed
        }
    }

    /// The delay after `count` failures, `None` while they are free.
    fn delay_after(&self, count: u32) -> Option<Duration> {
        let doublings = count.checked_sub(self.free_failures)?.checked_sub(1)?;
        let factor = 1u32.checked_shl(doublings.min(31)).unwrap_or(u32::MAX);
        Some(
            self.first_delay
                .checked_mul(factor)
                .unwrap_or(self.max_delay)
                .min(self.max_delay),
        )
    }

    /// How long a counter must be kept after its last failure: until it is forgotten and any
    /// lock or delay it imposes has ended.
    pub(crate) fn retention(&self) -> Duration {
        self.forget_after.max(self.lock_for).max(self.max_delay)
    }

    /// Whether a counter last bumped at `last` is forgotten by `now`.
    pub(crate) fn is_forgotten(&self, last: Timestamp, now: Timestamp) -> bool {
        now >= last.plus(self.retention())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> Timestamp {
        Timestamp::from_unix_secs(secs)
    }

    fn after(count: u32) -> Throttle {
        ThrottleSettings::default().verdict(
            Failures {
                count,
                last: at(1000),
            },
            at(1000),
        )
    }

    #[test]
    fn the_first_failures_are_free() {
        for count in 0..=3 {
            assert_eq!(after(count), Throttle::Allowed, "{count}");
        }
    }

    #[test]
    fn the_delay_doubles_from_one_second_up_to_the_cap() {
        let waits: Vec<u64> = (4..=12)
            .map(|count| match after(count) {
                Throttle::Wait { until } => until.unix_secs() - 1000,
                other => panic!("{count}: {other:?}"),
            })
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn the_delay_ends() {
        let settings = ThrottleSettings::default();
        let failures = Failures {
            count: 6,
            last: at(1000),
        };
        assert_eq!(
            settings.verdict(failures, at(1003)),
            Throttle::Wait { until: at(1004) }
        );
        assert_eq!(settings.verdict(failures, at(1004)), Throttle::Allowed);
    }

    #[test]
    fn enough_failures_lock_for_the_lock_period() {
        let settings = ThrottleSettings::default();
        let failures = Failures {
            count: 20,
            last: at(1000),
        };
        assert_eq!(
            settings.verdict(failures, at(1000)),
            Throttle::Locked { until: at(1900) }
        );
        assert_eq!(
            settings.verdict(failures, at(1899)),
            Throttle::Locked { until: at(1900) }
        );
        assert_eq!(settings.verdict(failures, at(1900)), Throttle::Allowed);
    }

    #[test]
    fn huge_counts_and_settings_do_not_overflow() {
        let settings = ThrottleSettings {
            lock_after: u32::MAX,
            max_delay: Duration::MAX,
            first_delay: Duration::from_secs(u64::MAX / 2),
            ..ThrottleSettings::default()
        };
        let verdict = settings.verdict(
            Failures {
                count: u32::MAX - 1,
                last: at(5),
            },
            at(5),
        );
        assert!(matches!(verdict, Throttle::Wait { .. }));
    }

    #[test]
    fn long_names_are_counted_under_a_short_hash() {
        assert_eq!(counter_name("alice"), "alice");
        let long = "a".repeat(1_000_000);
        let short = counter_name(&long);
        assert_eq!(short.len(), "sha256:".len() + 64);
        assert_eq!(short, counter_name(&long));
        assert_ne!(short, counter_name(&long[1..]));
    }

    #[test]
    fn the_stricter_counter_decides_a_login() {
        let wait = Throttle::Wait { until: at(10) };
        let lock = Throttle::Locked { until: at(5) };
        assert_eq!(
            LoginCheck::new(Throttle::Allowed, wait, false).verdict,
            wait
        );
        assert_eq!(LoginCheck::new(lock, wait, true).verdict, lock);
        assert_eq!(LoginCheck::new(wait, lock, true).verdict, lock);
        assert_eq!(
            LoginCheck::new(Throttle::Allowed, Throttle::Allowed, false).verdict,
            Throttle::Allowed
        );
    }

    #[test]
    fn counters_are_forgotten_after_the_longest_period() {
        let settings = ThrottleSettings::default();
        assert!(!settings.is_forgotten(at(1000), at(1899)));
        assert!(settings.is_forgotten(at(1000), at(1900)));
    }
}
