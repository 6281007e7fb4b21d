//! Which servers to try, in which order: a server that failed is skipped for the retry interval,
//! then tried again; connections to a later server are given up as soon as an earlier one may be
//! used again, so the preferred server takes the load back once it returns.
//!
//! The current time is passed in, so the failover rules are tested without waiting.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::health::{ServerHealth, ServerStatus};
use crate::observe::{Observer, Outcome};

/// The configured servers and what is known about each.
#[derive(Debug)]
pub(crate) struct Servers {
    urls: Vec<String>,
    retry_interval: Duration,
    state: Mutex<Vec<State>>,
    /// Told of every exchange, when the gateway watches.
    observer: Option<Arc<dyn Observer>>,
}

#[derive(Debug, Clone, Default)]
struct State {
    status: Option<Result<(), Instant>>,
    last_error: Option<String>,
}

impl State {
    /// May be tried at `now`: not down, or down for longer than the retry interval.
    fn eligible(&self, now: Instant) -> bool {
        match self.status {
            Some(Err(retry_at)) => now >= retry_at,
            _ => true,
        }
    }
}

impl Servers {
    /// The servers in order of preference; `observer` is told of every exchange.
    pub(crate) fn new(
        urls: Vec<String>,
        retry_interval: Duration,
        observer: Option<Arc<dyn Observer>>,
    ) -> Self {
        let state = Mutex::new(vec![State::default(); urls.len()]);
        Self {
            urls,
            retry_interval,
            state,
            observer,
        }
    }

    /// Tells the observer, if any, that an exchange with server `i` ended after `elapsed`.
    pub(crate) fn observe(&self, i: usize, outcome: Outcome, elapsed: Duration) {
        if let Some(observer) = &self.observer {
            observer.exchange(self.url(i), outcome, elapsed);
        }
    }

    fn state(&self) -> MutexGuard<'_, Vec<State>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many servers there are.
    pub(crate) fn len(&self) -> usize {
        self.urls.len()
    }

    /// Server `i`'s URL.
    pub(crate) fn url(&self, i: usize) -> &str {
        self.urls.get(i).map_or("", String::as_str)
    }

    /// The servers that may be tried at `now`, preferred first.
    pub(crate) fn candidates(&self, now: Instant) -> Vec<usize> {
        self.state()
            .iter()
            .enumerate()
            .filter(|(_, s)| s.eligible(now))
            .map(|(i, _)| i)
            .collect()
    }

    /// Records that server `i` answered.
    pub(crate) fn mark_up(&self, i: usize) {
        if let Some(s) = self.state().get_mut(i) {
            s.status = Some(Ok(()));
        }
    }

    /// Records that server `i` failed at `now`: it is skipped for the retry interval.
    pub(crate) fn mark_down(&self, i: usize, error: String, now: Instant) {
        tracing::warn!(server = %self.url(i), %error, "directory server marked down");
        if let Some(s) = self.state().get_mut(i) {
            s.status = Some(Err(now + self.retry_interval));
            s.last_error = Some(error);
        }
    }

    /// Whether a connection to server `i` should stay in the pool: the server is not marked down
    /// and no server before it may be tried again.
    pub(crate) fn keep(&self, i: usize, now: Instant) -> bool {
        let state = self.state();
        let own = state
            .get(i)
            .is_some_and(|s| !matches!(s.status, Some(Err(_))));
        own && state.iter().take(i).all(|s| !s.eligible(now))
    }

    /// Every server's state, for health reports.
    pub(crate) fn health(&self) -> Vec<ServerHealth> {
        self.state()
            .iter()
            .zip(&self.urls)
            .map(|(s, url)| ServerHealth {
                url: url.clone(),
                status: match s.status {
                    None => ServerStatus::Untried,
                    Some(Ok(())) => ServerStatus::Up,
                    Some(Err(_)) => ServerStatus::Down,
                },
                last_error: s.last_error.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> Servers {
        Servers::new(
            vec!["ldap://a".into(), "ldap://b".into()],
            Duration::from_secs(30),
            None,
        )
    }

    #[test]
    fn a_failed_server_is_skipped_for_the_retry_interval() {
        let s = two();
        let t0 = Instant::now();
        assert_eq!(s.candidates(t0), [0, 1]);
        s.mark_down(0, "refused".into(), t0);
        assert_eq!(s.candidates(t0 + Duration::from_secs(29)), [1]);
        assert_eq!(s.candidates(t0 + Duration::from_secs(30)), [0, 1]);
    }

    #[test]
    fn connections_to_a_later_server_are_kept_only_while_the_earlier_one_is_down() {
        let s = two();
        let t0 = Instant::now();
        s.mark_down(0, "refused".into(), t0);
        s.mark_up(1);
        assert!(s.keep(1, t0 + Duration::from_secs(1)));
        assert!(!s.keep(1, t0 + Duration::from_secs(31)), "fail back to a");
        assert!(
            !s.keep(0, t0 + Duration::from_secs(31)),
            "made before it failed"
        );
        s.mark_up(0);
        assert!(s.keep(0, t0 + Duration::from_secs(31)));
        s.mark_down(1, "reset".into(), t0);
        assert!(!s.keep(1, t0 + Duration::from_secs(1)));
    }

    #[test]
    fn health_shows_each_server_with_its_last_error() {
        let s = two();
        let t0 = Instant::now();
        s.mark_down(0, "refused".into(), t0);
        s.mark_up(0);
        let h = s.health();
        assert_eq!(h[0].status, ServerStatus::Up);
        assert_eq!(h[0].last_error.as_deref(), Some("refused"));
        assert_eq!(h[1].status, ServerStatus::Untried);
    }

    #[test]
    fn all_down_leaves_no_candidate() {
        let s = two();
        let t0 = Instant::now();
        s.mark_down(0, "x".into(), t0);
        s.mark_down(1, "y".into(), t0);
        assert!(s.candidates(t0).is_empty());
    }
}
