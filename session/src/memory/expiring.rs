//! A map whose entries expire: the memory backend's form of Redis keys with a TTL.
//!
//! Time is a [`Timestamp`] (the owner reads its clock), passed in to every call so tests move
//! it without sleeping. An entry expires when `now` reaches its deadline and is never returned:
//! reads check the deadline and drop what has passed it. Each insert also drops up to
//! [`SWEEP_PER_INSERT`] expired entries, oldest deadline first, from an index ordered by
//! deadline; as that is more than the one entry an insert adds, expired entries cannot pile up,
//! and no call does more than a few `O(log n)` steps.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

use crate::time::Timestamp;

/// How many expired entries an insert sweeps at most.
const SWEEP_PER_INSERT: usize = 2;

/// Entries with deadlines.
#[derive(Debug)]
pub(super) struct Expiring<K, V> {
    entries: HashMap<K, (Timestamp, V)>,
    by_deadline: BTreeSet<(Timestamp, K)>,
}

impl<K: Hash + Ord + Clone, V> Expiring<K, V> {
    pub(super) fn new() -> Self {
        Self {
            entries: HashMap::new(),
            by_deadline: BTreeSet::new(),
        }
    }

    /// The live value under `key` and its deadline; an expired one is dropped.
    pub(super) fn get(&mut self, key: &K, now: Timestamp) -> Option<(Timestamp, &V)> {
        let deadline = self.entries.get(key)?.0;
        if deadline <= now {
            self.remove_entry(key);
            return None;
        }
        self.entries.get(key).map(|(d, v)| (*d, v))
    }

    /// Files `value` under `key` until `deadline`, replacing any entry there, and sweeps.
    pub(super) fn insert(&mut self, key: K, value: V, deadline: Timestamp, now: Timestamp) {
        if let Some((old, _)) = self.entries.insert(key.clone(), (deadline, value)) {
            self.by_deadline.remove(&(old, key.clone()));
        }
        self.by_deadline.insert((deadline, key));
        self.sweep(now);
    }

    /// Takes the live value under `key` out, with its deadline; `None` when absent or
    /// expired.
    pub(super) fn remove(&mut self, key: &K, now: Timestamp) -> Option<(Timestamp, V)> {
        let (deadline, value) = self.remove_entry(key)?;
        (deadline > now).then_some((deadline, value))
    }

    fn remove_entry(&mut self, key: &K) -> Option<(Timestamp, V)> {
        let (deadline, value) = self.entries.remove(key)?;
        self.by_deadline.remove(&(deadline, key.clone()));
        Some((deadline, value))
    }

    fn sweep(&mut self, now: Timestamp) {
        for _ in 0..SWEEP_PER_INSERT {
            match self.by_deadline.first() {
                Some((deadline, _)) if *deadline <= now => {
                    if let Some((_, key)) = self.by_deadline.pop_first() {
                        self.entries.remove(&key);
                    }
                }
                _ => return,
            }
        }
    }

    /// How many entries are held, expired or not.
    #[cfg(test)]
    pub(super) fn held(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> Timestamp {
        Timestamp::from_unix_secs(secs)
    }

    #[test]
    fn an_entry_lives_until_its_deadline_only() {
        let mut map = Expiring::new();
        map.insert("a", 1, at(100), at(0));
        assert_eq!(map.get(&"a", at(99)), Some((at(100), &1)));
        assert_eq!(map.get(&"a", at(100)), None);
        assert_eq!(map.held(), 0, "an expired entry is dropped when read");
    }

    #[test]
    fn remove_gives_live_entries_only_and_drops_either() {
        let mut map = Expiring::new();
        map.insert("live", 1, at(100), at(0));
        map.insert("dead", 2, at(10), at(0));
        assert_eq!(map.remove(&"dead", at(50)), None);
        assert_eq!(map.remove(&"live", at(50)), Some((at(100), 1)));
        assert_eq!(map.remove(&"live", at(50)), None);
        assert_eq!(map.held(), 0);
    }

    #[test]
    fn overwriting_moves_the_deadline() {
        let mut map = Expiring::new();
        map.insert("a", 1, at(10), at(0));
        map.insert("a", 2, at(100), at(5));
        // The first deadline's index entry is gone, so its sweep cannot drop the new value.
        map.insert("b", 3, at(100), at(50));
        assert_eq!(map.get(&"a", at(50)), Some((at(100), &2)));
    }

    #[test]
    fn inserts_sweep_expired_entries_so_they_cannot_pile_up() {
        let mut map = Expiring::new();
        for i in 0..1000u32 {
            map.insert(i, (), at(u64::from(i) + 1), at(u64::from(i)));
        }
        assert!(map.held() <= 2, "held {}", map.held());
        for i in 0..1000u32 {
            map.insert(i, (), at(5000), at(2000));
        }
        assert_eq!(map.held(), 1000, "live entries are never swept");
    }
}
