//! The memory backend's OIDC records, refresh-family index and logout queue (see
//! [`crate::records`]). Each operation holds one mutex for a few map steps, which makes take
//! and compare-and-set atomic among the tasks of this process.
//!
//! Records expire by the store's [`crate::Clock`], in whole seconds like sessions and tickets
//! (so a wall-clock step moves them as it moves sessions, as it would Redis's expiry times). A
//! record lives at least its TTL and less than two seconds longer: see [`deadline`].

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use crate::error::StoreError;
use crate::id::Sid;
use crate::records::{LogoutNotice, RecordKind, check_key, clamp_ttl};
use crate::time::Timestamp;

use super::expiring::Expiring;
use super::logout::LogoutQueue;
use super::{MemoryStore, lock};

/// The records, the family index and the logout queue, each behind its own lock.
#[derive(Debug)]
pub(super) struct OidcState {
    records: Mutex<Expiring<(RecordKind, String), Vec<u8>>>,
    families: Mutex<Expiring<Sid, BTreeSet<String>>>,
    pub(super) logouts: LogoutQueue,
}

impl Default for OidcState {
    fn default() -> Self {
        Self {
            records: Mutex::new(Expiring::new()),
            families: Mutex::new(Expiring::new()),
            logouts: LogoutQueue::default(),
        }
    }
}

/// When something filed at `now` with `ttl` expires, so that it never expires early: the TTL
/// (kept in range by [`clamp_ttl`]) in whole seconds rounded up, plus one second because `now`
/// is the clock's reading cut to the second, up to a second behind the true time.
fn deadline(now: Timestamp, ttl: Duration) -> Timestamp {
    let ttl = clamp_ttl(ttl);
    // At most ten years of seconds: the additions cannot overflow.
    let secs = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0) + 1;
    now.plus(Duration::from_secs(secs))
}

impl MemoryStore {
    /// See [`crate::SessionStore::put_record`].
    pub fn put_record(
        &self,
        kind: RecordKind,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        check_key(key)?;
        let now = self.clock.now();
        let deadline = deadline(now, ttl);
        lock(&self.oidc.records).insert((kind, key.to_owned()), value.to_vec(), deadline, now);
        Ok(())
    }

    /// See [`crate::SessionStore::insert_record`].
    pub fn insert_record(
        &self,
        kind: RecordKind,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        check_key(key)?;
        let now = self.clock.now();
        let key = (kind, key.to_owned());
        let mut records = lock(&self.oidc.records);
        if records.get(&key, now).is_some() {
            return Ok(false);
        }
        records.insert(key, value.to_vec(), deadline(now, ttl), now);
        Ok(true)
    }

    /// See [`crate::SessionStore::get_record`].
    pub fn get_record(&self, kind: RecordKind, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        check_key(key)?;
        let now = self.clock.now();
        let mut records = lock(&self.oidc.records);
        Ok(records
            .get(&(kind, key.to_owned()), now)
            .map(|(_, value)| value.clone()))
    }

    /// See [`crate::SessionStore::take_record`].
    pub fn take_record(&self, kind: RecordKind, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        check_key(key)?;
        let now = self.clock.now();
        let mut records = lock(&self.oidc.records);
        Ok(records
            .remove(&(kind, key.to_owned()), now)
            .map(|(_, value)| value))
    }

    /// See [`crate::SessionStore::replace_record`].
    pub fn replace_record(
        &self,
        kind: RecordKind,
        key: &str,
        expected: &[u8],
        new: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        check_key(key)?;
        let now = self.clock.now();
        let key = (kind, key.to_owned());
        let mut records = lock(&self.oidc.records);
        if records
            .get(&key, now)
            .is_none_or(|(_, current)| current != expected)
        {
            return Ok(false);
        }
        records.insert(key, new.to_vec(), deadline(now, ttl), now);
        Ok(true)
    }

    /// See [`crate::SessionStore::link_family`].
    pub fn link_family(&self, sid: &Sid, family_id: &str, ttl: Duration) -> Result<(), StoreError> {
        check_key(family_id)?;
        let now = self.clock.now();
        let mut families = lock(&self.oidc.families);
        let (until, mut ids) = families.remove(sid, now).unwrap_or((now, BTreeSet::new()));
        ids.insert(family_id.to_owned());
        families.insert(*sid, ids, until.max(deadline(now, ttl)), now);
        Ok(())
    }

    /// See [`crate::SessionStore::families_of`].
    pub fn families_of(&self, sid: &Sid) -> Vec<String> {
        let now = self.clock.now();
        lock(&self.oidc.families)
            .get(sid, now)
            .map(|(_, ids)| ids.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// See [`crate::SessionStore::next_logout`].
    pub async fn next_logout(&self, wait: Duration) -> Option<LogoutNotice> {
        self.oidc.logouts.next(wait).await
    }
}

/// The notice for an ended session, if OIDC clients must hear of it.
pub(super) fn notice_for(session: &crate::Session) -> Option<LogoutNotice> {
    if session.clients.is_empty() {
        return None;
    }
    let clients: BTreeSet<&String> = session.clients.iter().collect();
    Some(LogoutNotice {
        sid: session.sid,
        subject: session.subject.clone(),
        clients: clients.into_iter().cloned().collect(),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::super::tests::{T0, login, store, store_with};
    use super::*;
    use crate::time::Clock;
    use crate::{MAX_RECORD_KEY_BYTES, MAX_RECORD_TTL};

    const CODE: RecordKind = RecordKind::AuthorizationCode;
    const MINUTE: Duration = Duration::from_secs(60);

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn an_insert_wins_only_where_no_live_record_is() {
        let clock = Clock::manual(T0);
        let store = store_with(&clock);
        let kind = RecordKind::RefreshFamily;
        assert!(store.insert_record(kind, "k", b"1", MINUTE).unwrap());
        assert!(!store.insert_record(kind, "k", b"2", MINUTE).unwrap());
        assert_eq!(
            store.get_record(kind, "k").unwrap().as_deref(),
            Some(&b"1"[..])
        );
        clock.advance(MINUTE * 2).unwrap();
        assert!(
            store.insert_record(kind, "k", b"3", MINUTE).unwrap(),
            "after expiry"
        );
    }

    #[test]
    fn a_deadline_is_the_ttl_rounded_up_to_seconds_and_one_more() {
        let after = |d: Duration| deadline(T0, d).since(T0);
        assert_eq!(after(MINUTE), secs(61));
        assert_eq!(after(MINUTE + Duration::from_millis(1)), secs(62));
        assert_eq!(after(Duration::from_millis(1)), secs(2));
        assert_eq!(after(Duration::ZERO), secs(2), "zero is cut to 1 ms");
        assert_eq!(after(Duration::MAX), MAX_RECORD_TTL + secs(1));
    }

    #[test]
    fn a_record_is_read_back_until_it_expires() {
        let clock = Clock::manual(T0);
        let store = store_with(&clock);
        store.put_record(CODE, "k", b"v1", MINUTE).unwrap();
        assert_eq!(
            store.get_record(CODE, "k").unwrap().as_deref(),
            Some(&b"v1"[..])
        );
        assert_eq!(
            store.get_record(RecordKind::RedeemedCode, "k").unwrap(),
            None
        );
        store.put_record(CODE, "k", b"v2", MINUTE).unwrap();
        assert_eq!(
            store.get_record(CODE, "k").unwrap().as_deref(),
            Some(&b"v2"[..])
        );

        // A record outlives its TTL (here 1.5 s, so 2 s), by the second a reading may lag...
        store
            .put_record(CODE, "short", b"v", Duration::from_millis(1500))
            .unwrap();
        clock.advance(secs(2)).unwrap();
        assert_eq!(
            store.get_record(CODE, "short").unwrap().as_deref(),
            Some(&b"v"[..])
        );
        // ...and no more.
        clock.advance(secs(1)).unwrap();
        assert_eq!(store.get_record(CODE, "short").unwrap(), None);
        assert_eq!(store.take_record(CODE, "short").unwrap(), None);
        assert!(store.get_record(CODE, "k").unwrap().is_some());

        // A zero TTL is cut to the shortest, never an error or a record that stays.
        store
            .put_record(CODE, "zero", b"v", Duration::ZERO)
            .unwrap();
        clock.advance(secs(2)).unwrap();
        assert_eq!(store.get_record(CODE, "zero").unwrap(), None);
    }

    #[test]
    fn a_record_is_taken_once() {
        let store = store();
        store.put_record(CODE, "k", b"v", MINUTE).unwrap();
        assert_eq!(
            store.take_record(CODE, "k").unwrap().as_deref(),
            Some(&b"v"[..])
        );
        assert_eq!(store.take_record(CODE, "k").unwrap(), None);
        assert_eq!(store.get_record(CODE, "k").unwrap(), None);
    }

    #[test]
    fn of_concurrent_takers_exactly_one_wins() {
        let store = Arc::new(store());
        for round in 0..20 {
            store.put_record(CODE, "k", b"v", MINUTE).unwrap();
            let takers: Vec<_> = (0..8)
                .map(|_| {
                    let store = Arc::clone(&store);
                    std::thread::spawn(move || store.take_record(CODE, "k").unwrap())
                })
                .collect();
            let won = takers.into_iter().filter_map(|t| t.join().unwrap()).count();
            assert_eq!(won, 1, "round {round}");
        }
    }

    #[test]
    fn replace_writes_only_over_the_expected_value() {
        let clock = Clock::manual(T0);
        let store = store_with(&clock);
        let family = RecordKind::RefreshFamily;
        assert!(
            !store
                .replace_record(family, "f", b"", b"g1", MINUTE)
                .unwrap()
        );
        assert_eq!(store.get_record(family, "f").unwrap(), None);
        store.put_record(family, "f", b"g1", MINUTE).unwrap();
        assert!(
            !store
                .replace_record(family, "f", b"g0", b"g2", MINUTE)
                .unwrap()
        );
        assert!(
            !store
                .replace_record(family, "f", b"g", b"g2", MINUTE)
                .unwrap()
        );
        assert!(
            store
                .replace_record(family, "f", b"g1", b"g2", MINUTE)
                .unwrap()
        );
        assert!(
            !store
                .replace_record(family, "f", b"g1", b"g3", MINUTE)
                .unwrap()
        );
        assert_eq!(
            store.get_record(family, "f").unwrap().as_deref(),
            Some(&b"g2"[..])
        );

        store.put_record(family, "old", b"g1", secs(1)).unwrap();
        clock.advance(secs(2)).unwrap();
        assert!(
            !store
                .replace_record(family, "old", b"g1", b"g2", MINUTE)
                .unwrap()
        );
    }

    #[test]
    fn keys_longer_than_the_limit_are_refused_by_every_operation() {
        let store = store();
        let long = "k".repeat(MAX_RECORD_KEY_BYTES + 1);
        let sid = Sid::parse("0123456789abcdef").unwrap();
        let too_long = |r: Result<(), StoreError>| {
            assert!(matches!(
                r,
                Err(StoreError::RecordKeyTooLong { bytes: 257 })
            ));
        };
        too_long(store.put_record(CODE, &long, b"v", MINUTE));
        too_long(store.get_record(CODE, &long).map(drop));
        too_long(store.take_record(CODE, &long).map(drop));
        too_long(
            store
                .replace_record(CODE, &long, b"", b"", MINUTE)
                .map(drop),
        );
        too_long(store.link_family(&sid, &long, MINUTE));
    }

    #[test]
    fn families_are_indexed_under_their_session_and_the_index_only_grows_its_ttl() {
        let clock = Clock::manual(T0);
        let store = store_with(&clock);
        let sid = Sid::parse("0123456789abcdef").unwrap();
        let other = Sid::parse("fedcba9876543210").unwrap();
        assert!(store.families_of(&sid).is_empty());
        store.link_family(&sid, "f2", MINUTE).unwrap();
        store.link_family(&sid, "f1", MINUTE).unwrap();
        store.link_family(&sid, "f2", MINUTE).unwrap();
        assert_eq!(store.families_of(&sid), ["f1", "f2"]);
        assert!(store.families_of(&other).is_empty());

        // A shorter TTL does not cut the index short...
        store.link_family(&sid, "f3", secs(1)).unwrap();
        clock.advance(secs(2)).unwrap();
        assert_eq!(store.families_of(&sid), ["f1", "f2", "f3"]);
        // ...and an index whose TTL ran out is gone.
        store.link_family(&other, "g", secs(1)).unwrap();
        store.link_family(&other, "h", secs(1)).unwrap();
        assert_eq!(store.families_of(&other), ["g", "h"]);
        clock.advance(secs(2)).unwrap();
        assert!(store.families_of(&other).is_empty());
        assert_eq!(store.families_of(&sid), ["f1", "f2", "f3"]);
    }

    #[tokio::test]
    async fn revoking_a_session_with_clients_queues_one_notice() {
        let store = store();
        let (_, with) = store.create(login("alice"), T0).unwrap();
        let (_, without) = store.create(login("alice"), T0).unwrap();
        store.add_client(&with.sid, "wiki");
        store.add_client(&with.sid, "mail");
        assert!(store.revoke(&without.sid));
        assert!(store.revoke(&with.sid));
        assert!(!store.revoke(&with.sid));

        let notice = store.next_logout(Duration::ZERO).await.unwrap();
        assert_eq!(
            notice,
            LogoutNotice {
                sid: with.sid,
                subject: "alice".into(),
                clients: vec!["mail".into(), "wiki".into()],
            }
        );
        assert_eq!(store.next_logout(Duration::ZERO).await, None);
    }

    #[tokio::test]
    async fn revoke_user_queues_a_notice_per_session_with_clients() {
        let store = store();
        let (_, one) = store.create(login("alice"), T0).unwrap();
        let (_, two) = store.create(login("alice"), T0).unwrap();
        store.create(login("alice"), T0).unwrap();
        let (_, bob) = store.create(login("bob"), T0).unwrap();
        for session in [&one, &two, &bob] {
            store.add_client(&session.sid, "wiki");
        }
        assert_eq!(store.revoke_user("alice"), 3);

        let mut ended = Vec::new();
        while let Some(notice) = store.next_logout(Duration::ZERO).await {
            assert_eq!(notice.subject, "alice");
            ended.push(notice.sid);
        }
        ended.sort();
        let mut expected = vec![one.sid, two.sid];
        expected.sort();
        assert_eq!(ended, expected);
    }
}
