//! A small time-bounded cache of looked-up users, so that a login or a token refresh does not
//! search the directory again for a user seen seconds ago.
//!
//! The current time is passed in, so the expiry is tested without sleeping. The map is bounded:
//! when it is full, expired entries are dropped, and if that frees nothing the whole map is
//! cleared (a burst of distinct usernames cannot grow memory; the cost is a few extra searches).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Entries that expire `ttl` after they were stored.
#[derive(Debug)]
pub(crate) struct TtlCache<V> {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<String, (Instant, V)>>,
}

impl<V: Clone> TtlCache<V> {
    /// A cache holding at most `capacity` entries for `ttl` each; a zero ttl caches nothing.
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value stored under `key`, unless it expired.
    pub(crate) fn get(&self, key: &str, now: Instant) -> Option<V> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(key) {
            Some((expires, value)) if now < *expires => Some(value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Stores `value` under `key` until `now + ttl`.
    pub(crate) fn insert(&self, key: String, value: V, now: Instant) {
        if self.ttl.is_zero() || self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, (expires, _)| now < *expires);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (now + self.ttl, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = TtlCache::new(Duration::from_secs(30), 10);
        let t0 = Instant::now();
        cache.insert("alice".into(), 1, t0);
        assert_eq!(cache.get("alice", t0 + Duration::from_secs(29)), Some(1));
        assert_eq!(cache.get("alice", t0 + Duration::from_secs(30)), None);
        assert_eq!(cache.get("bob", t0), None);
    }

    #[test]
    fn the_map_stays_within_its_capacity() {
        let cache = TtlCache::new(Duration::from_secs(30), 2);
        let t0 = Instant::now();
        cache.insert("a".into(), 1, t0);
        cache.insert("b".into(), 2, t0);
        cache.insert("c".into(), 3, t0);
        let len = cache.entries.lock().map(|e| e.len()).unwrap_or(0);
        assert!(len <= 2);
        assert_eq!(cache.get("c", t0), Some(3));
    }

    #[test]
    fn zero_ttl_caches_nothing() {
        let cache = TtlCache::new(Duration::ZERO, 10);
        let t0 = Instant::now();
        cache.insert("a".into(), 1, t0);
        assert_eq!(cache.get("a", t0), None);
    }
}
