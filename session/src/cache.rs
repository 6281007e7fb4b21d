//! A replica's local cache of sessions, and when it may be trusted.
//!
//! The cache answers a valid session without a Redis round trip. It may only do so while it
//! is known to have seen every revocation published more than one trust window ago; the
//! subscriber (see the `redis` module doc) proves that with pings on the pub/sub connection and
//! calls [`LocalCache::confirm`] with the time each answered ping was sent. Without a recent
//! enough confirmation every lookup misses, so a dead subscription costs Redis round trips,
//! never a revoked session being accepted.
//!
//! A fetch that raced a revocation must not put the revoked session back: lookups hand out the
//! current epoch, every invalidation or reset bumps it, and an insert with an old epoch is
//! dropped. One `std::sync::Mutex` guards the state; it is never held across an await.
//!
//! The monotonic times it is handed (`mono`, and the confirmations' send times) are readings of
//! the store's [`crate::Clock`], never `Instant::now()` read here, so tests move a manual clock
//! across the trust window instead of waiting for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::id::{SessionKey, Sid};
use crate::session::Session;
use crate::time::Timestamp;

/// The invalidation count a fetch started under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Epoch(u64);

/// The answer of a lookup.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// A live session, trusted: no need to ask Redis.
    Hit(Arc<Session>),
    /// Ask Redis, then offer the answer back with this epoch.
    Miss(Epoch),
}

#[derive(Debug)]
struct Entry {
    key: SessionKey,
    session: Arc<Session>,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<Sid, Entry>,
    epoch: u64,
    /// The send time of the latest ping answered on a subscription that has seen every
    /// invalidation since the cache was last reset.
    confirmed: Option<Instant>,
    /// When a full cache last looked for expired sessions to drop.
    swept: Option<Instant>,
}

/// How often a full cache may look through every entry for expired ones. A replica that sees
/// more live sessions than it may hold would otherwise walk the whole map, under the lock, on
/// every miss; in between, sessions that find no room are simply not cached.
const SWEEP_SPACING: Duration = Duration::from_secs(1);

/// The cache of one replica.
#[derive(Debug)]
pub(crate) struct LocalCache {
    state: Mutex<State>,
    trust_window: Duration,
    capacity: usize,
}

impl LocalCache {
    /// A cache that trusts its entries for `trust_window` after the send time of the last
    /// answered ping, and holds at most `capacity` sessions.
    pub(crate) fn new(trust_window: Duration, capacity: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            trust_window,
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent under any panic (each change is one map or field write).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn trusted(&self, state: &State, mono: Instant) -> bool {
        state
            .confirmed
            .is_some_and(|sent| mono.saturating_duration_since(sent) < self.trust_window)
    }

    /// Looks a session up for a request at wall time `now` and monotonic time `mono`.
    pub(crate) fn lookup(&self, key: &SessionKey, now: Timestamp, mono: Instant) -> Lookup {
        let mut state = self.lock();
        let sid = key.sid();
        if self.trusted(&state, mono) {
            match state.entries.get(&sid) {
                Some(entry) if entry.key == *key && entry.session.is_live(now) => {
                    return Lookup::Hit(Arc::clone(&entry.session));
                }
                // Idle-expired here may have been touched on another replica: ask Redis.
                Some(_) => {
                    state.entries.remove(&sid);
                }
                None => {}
            }
        }
        Lookup::Miss(Epoch(state.epoch))
    }

    /// Looks a session up by its public handle alone, for the OIDC provider (whose tokens name
    /// the session they came from): the same trust rules as [`LocalCache::lookup`], without the
    /// cookie's secret, which such a caller does not have.
    pub(crate) fn lookup_sid(&self, sid: &Sid, now: Timestamp, mono: Instant) -> Lookup {
        let state = self.lock();
        if self.trusted(&state, mono)
            && let Some(entry) = state.entries.get(sid)
            && entry.session.is_live(now)
        {
            return Lookup::Hit(Arc::clone(&entry.session));
        }
        Lookup::Miss(Epoch(state.epoch))
    }

    /// Offers a session fetched from Redis under `epoch`; kept only if nothing was invalidated
    /// since and the cache is trusted now.
    pub(crate) fn insert(
        &self,
        epoch: Epoch,
        key: SessionKey,
        session: Arc<Session>,
        now: Timestamp,
        mono: Instant,
    ) {
        let mut state = self.lock();
        if state.epoch != epoch.0 || !self.trusted(&state, mono) {
            return;
        }
        if state.entries.len() >= self.capacity {
            let due = state
                .swept
                .is_none_or(|last| mono.saturating_duration_since(last) >= SWEEP_SPACING);
            if due {
                state.swept = Some(mono);
                state.entries.retain(|_, entry| entry.session.is_live(now));
            }
            if state.entries.len() >= self.capacity {
                return;
            }
        }
        state.entries.insert(key.sid(), Entry { key, session });
    }

    /// Replaces a cached session after a touch was written, so later lookups see the new
    /// `last_seen` and do not write it again within the interval.
    pub(crate) fn refresh(&self, session: Arc<Session>) {
        let mut state = self.lock();
        if let Some(entry) = state.entries.get_mut(&session.sid) {
            entry.session = session;
        }
    }

    /// Drops a revoked or changed session.
    pub(crate) fn invalidate(&self, sid: &Sid) {
        let mut state = self.lock();
        state.epoch += 1;
        state.entries.remove(sid);
    }

    /// Records that every invalidation published before `sent` has been applied.
    pub(crate) fn confirm(&self, sent: Instant) {
        let mut state = self.lock();
        state.confirmed = Some(state.confirmed.map_or(sent, |c| c.max(sent)));
    }

    /// Forgets everything and distrusts the cache until the next confirmation: called when the
    /// subscription is lost or (re)established, since invalidations may have been missed.
    pub(crate) fn reset(&self) {
        let mut state = self.lock();
        state.epoch += 1;
        state.entries.clear();
        state.confirmed = None;
    }

    /// How many sessions are cached (for tests and metrics).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use pforte_policy::LoginStrength;

    use super::*;
    use crate::id::SessionId;
    use crate::session::NewSession;
    use crate::settings::SessionSettings;
    use crate::time::Clock;
    use pforte_policy::AuthMethod;

    const WINDOW: Duration = Duration::from_millis(750);
    const NOW: Timestamp = Timestamp::from_unix_secs(1_000_000);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn session(now: Timestamp) -> (SessionKey, Arc<Session>) {
        let key = SessionId::generate().unwrap().key();
        let new = NewSession {
            subject: "uuid-alice".into(),
            username: "alice".into(),
            display_name: "Alice".into(),
            email: None,
            groups: vec!["staff".into()],
            login: LoginStrength::Password,
            methods: vec![AuthMethod::Password],
            auth_time: now,
            source: IpAddr::V4(Ipv4Addr::LOCALHOST),
            device: None,
            federated: None,
        };
        let session = Session::open(new, key.sid(), now, &SessionSettings::default());
        (key, Arc::new(session))
    }

    fn miss_epoch(lookup: Lookup) -> Epoch {
        match lookup {
            Lookup::Miss(epoch) => epoch,
            Lookup::Hit(s) => panic!("unexpected hit {s:?}"),
        }
    }

    /// A cache holding one session, confirmed as of the start of the (manual) clock that
    /// times its trust.
    fn warm() -> (LocalCache, SessionKey, Clock) {
        let cache = LocalCache::new(WINDOW, 10);
        let clock = Clock::manual(NOW);
        cache.confirm(clock.instant());
        let (key, s) = session(NOW);
        let epoch = miss_epoch(cache.lookup(&key, NOW, clock.instant()));
        cache.insert(epoch, key.clone(), s, NOW, clock.instant());
        (cache, key, clock)
    }

    #[test]
    fn a_confirmed_cache_answers_from_memory() {
        let (cache, key, clock) = warm();
        clock.advance(ms(700)).unwrap();
        assert!(matches!(
            cache.lookup(&key, NOW, clock.instant()),
            Lookup::Hit(_)
        ));
    }

    #[test]
    fn a_handle_finds_a_trusted_session_and_nothing_after_invalidation() {
        let (cache, key, clock) = warm();
        let sid = key.sid();
        assert!(matches!(
            cache.lookup_sid(&sid, NOW, clock.instant()),
            Lookup::Hit(_)
        ));
        clock.advance(WINDOW).unwrap();
        assert!(matches!(
            cache.lookup_sid(&sid, NOW, clock.instant()),
            Lookup::Miss(_)
        ));
        cache.confirm(clock.instant());
        assert!(matches!(
            cache.lookup_sid(&sid, NOW, clock.instant()),
            Lookup::Hit(_)
        ));
        cache.invalidate(&sid);
        assert!(matches!(
            cache.lookup_sid(&sid, NOW, clock.instant()),
            Lookup::Miss(_)
        ));
    }

    #[test]
    fn without_a_recent_confirmation_every_lookup_misses() {
        let (cache, key, clock) = warm();
        clock.advance(WINDOW).unwrap();
        assert!(matches!(
            cache.lookup(&key, NOW, clock.instant()),
            Lookup::Miss(_)
        ));
        cache.confirm(clock.instant());
        assert!(matches!(
            cache.lookup(&key, NOW, clock.instant()),
            Lookup::Hit(_)
        ));
    }

    #[test]
    fn an_old_confirmation_does_not_move_trust_backwards() {
        let (cache, key, clock) = warm();
        let start = clock.instant();
        clock.advance(ms(500)).unwrap();
        cache.confirm(clock.instant());
        // The answer to an earlier ping, arriving late.
        cache.confirm(start);
        clock.advance(ms(500)).unwrap();
        assert!(matches!(
            cache.lookup(&key, NOW, clock.instant()),
            Lookup::Hit(_)
        ));
    }

    #[test]
    fn invalidation_drops_the_session() {
        let (cache, key, clock) = warm();
        cache.invalidate(&key.sid());
        assert!(matches!(
            cache.lookup(&key, NOW, clock.instant()),
            Lookup::Miss(_)
        ));
    }

    #[test]
    fn a_fetch_that_raced_an_invalidation_is_not_cached() {
        let cache = LocalCache::new(WINDOW, 10);
        let clock = Clock::manual(NOW);
        cache.confirm(clock.instant());
        let (key, s) = session(NOW);
        let epoch = miss_epoch(cache.lookup(&key, NOW, clock.instant()));
        cache.invalidate(&key.sid());
        cache.insert(epoch, key.clone(), s, NOW, clock.instant());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn reset_forgets_and_distrusts_until_confirmed_again() {
        let (cache, key, clock) = warm();
        cache.reset();
        assert_eq!(cache.len(), 0);
        let (key2, s2) = session(NOW);
        let epoch = miss_epoch(cache.lookup(&key2, NOW, clock.instant()));
        cache.insert(epoch, key2.clone(), s2, NOW, clock.instant());
        assert_eq!(cache.len(), 0, "an untrusted cache takes no entries");
        assert!(matches!(
            cache.lookup(&key, NOW, clock.instant()),
            Lookup::Miss(_)
        ));
    }

    #[test]
    fn a_wrong_key_with_the_same_sid_misses() {
        let (cache, key, clock) = warm();
        let mut forged = key.as_bytes().to_vec();
        forged[31] ^= 1;
        let forged = SessionKey::from_bytes(&forged).unwrap();
        assert_eq!(forged.sid(), key.sid());
        assert!(matches!(
            cache.lookup(&forged, NOW, clock.instant()),
            Lookup::Miss(_)
        ));
    }

    #[test]
    fn an_expired_cached_session_is_not_served() {
        let (cache, key, clock) = warm();
        let later = NOW.plus(SessionSettings::default().idle_timeout);
        assert!(matches!(
            cache.lookup(&key, later, clock.instant()),
            Lookup::Miss(_)
        ));
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn a_full_cache_makes_room_from_expired_sessions_only_once_a_second() {
        let cache = LocalCache::new(WINDOW, 1);
        let clock = Clock::manual(NOW);
        cache.confirm(clock.instant());
        let (k1, s1) = session(NOW);
        let (k2, s2) = session(NOW);
        cache.insert(Epoch(0), k1, s1, NOW, clock.instant());
        cache.insert(Epoch(0), k2.clone(), s2.clone(), NOW, clock.instant());
        assert_eq!(cache.len(), 1);
        let later = NOW.plus(SessionSettings::default().idle_timeout);
        // The full cache was just looked through: no second walk within the spacing.
        cache.insert(Epoch(0), k2.clone(), s2.clone(), later, clock.instant());
        assert!(matches!(
            cache.lookup(&k2, NOW, clock.instant()),
            Lookup::Miss(_)
        ));
        clock.advance(SWEEP_SPACING).unwrap();
        cache.confirm(clock.instant());
        cache.insert(Epoch(0), k2.clone(), s2, later, clock.instant());
        assert!(matches!(
            cache.lookup(&k2, NOW, clock.instant()),
            Lookup::Hit(_)
        ));
    }
}
