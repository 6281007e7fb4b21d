//! The in-process store: sessions, SSO tickets and counters of a single gateway, lost on
//! restart.
//!
//! Everything sits behind three `std::sync::Mutex`es held only for map operations. Expired
//! sessions and tickets and forgotten counters are swept when their map has doubled since the
//! last sweep, which keeps memory within twice the live entries at an amortised constant cost
//! per insert.
//!
//! The OIDC records, the refresh-family index and the logout queue live in `oidc`,
//! `expiring` and `logout`: each behind its own mutex, with lazy expiry on read and a bounded
//! sweep on insert. A revocation queues its logout notice while it still holds the sessions'
//! lock, so no taker sees the session gone without its notice.
//!
//! The records and the index are given a time to live rather than a `now`: they expire by the
//! [`Clock`] the store was made with, which nothing else here reads.

mod expiring;
mod logout;
mod oidc;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::id::{SessionId, SessionKey, Sid};
use crate::session::{Identity, NewSession, Session};
use crate::settings::SessionSettings;
use crate::throttle::{Failures, LoginCheck, Throttle, ThrottleKind, ThrottleSettings};
use crate::ticket::{self, Ticket, TicketKey};
use crate::time::{Clock, Timestamp};
use pforte_policy::AuthMethod;

const FIRST_SWEEP: usize = 1024;

#[derive(Debug)]
struct Sessions {
    by_sid: HashMap<Sid, (SessionKey, Arc<Session>)>,
    sweep_at: usize,
}

#[derive(Debug)]
struct Counters {
    by_name: HashMap<(ThrottleKind, String), Failures>,
    sweep_at: usize,
}

/// SSO tickets by lookup key: when each expires, and its sealed value.
#[derive(Debug)]
struct Tickets {
    by_key: HashMap<TicketKey, (Timestamp, Vec<u8>)>,
    sweep_at: usize,
}

/// Sessions, SSO tickets, failure counters and OIDC state of one process.
#[derive(Debug)]
pub struct MemoryStore {
    sessions: Mutex<Sessions>,
    tickets: Mutex<Tickets>,
    counters: Mutex<Counters>,
    /// Boxed: rarely touched by most requests, and it keeps [`crate::SessionStore`] small.
    oidc: Box<oidc::OidcState>,
    timeouts: SessionSettings,
    throttle: ThrottleSettings,
    /// What the OIDC records' expiry is read from.
    clock: Clock,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every change is a single map operation, so a panic elsewhere leaves the maps consistent.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MemoryStore {
    /// An empty store with these timeouts and thresholds, whose OIDC records expire by `clock`
    /// ([`Clock::system`] in production, a manual clock in tests).
    pub fn new(timeouts: SessionSettings, throttle: ThrottleSettings, clock: Clock) -> Self {
        Self {
            sessions: Mutex::new(Sessions {
                by_sid: HashMap::new(),
                sweep_at: FIRST_SWEEP,
            }),
            tickets: Mutex::new(Tickets {
                by_key: HashMap::new(),
                sweep_at: FIRST_SWEEP,
            }),
            counters: Mutex::new(Counters {
                by_name: HashMap::new(),
                sweep_at: FIRST_SWEEP,
            }),
            oidc: Box::default(),
            timeouts,
            throttle,
            clock,
        }
    }

    /// See [`crate::SessionStore::create`].
    pub fn create(
        &self,
        new: NewSession,
        now: Timestamp,
    ) -> Result<(SessionId, Arc<Session>), crate::StoreError> {
        let mut sessions = lock(&self.sessions);
        let (id, key) = loop {
            let id = SessionId::generate()?;
            let key = id.key();
            // A 64-bit sid clash is astronomically rare; never let it overwrite a session.
            if !sessions.by_sid.contains_key(&key.sid()) {
                break (id, key);
            }
        };
        let session = Arc::new(Session::open(new, key.sid(), now, &self.timeouts));
        sessions
            .by_sid
            .insert(key.sid(), (key, Arc::clone(&session)));
        if sessions.by_sid.len() >= sessions.sweep_at {
            sessions.by_sid.retain(|_, (_, s)| s.is_live(now));
            sessions.sweep_at = (sessions.by_sid.len() * 2).max(FIRST_SWEEP);
        }
        Ok((id, session))
    }

    /// See [`crate::SessionStore::get`].
    pub fn get(&self, id: &SessionId, now: Timestamp) -> Option<Arc<Session>> {
        let key = id.key();
        let sessions = lock(&self.sessions);
        let (stored, session) = sessions.by_sid.get(&key.sid())?;
        (*stored == key && session.is_live(now)).then(|| Arc::clone(session))
    }

    /// See [`crate::SessionStore::get_by_sid`].
    pub fn get_by_sid(&self, sid: &Sid, now: Timestamp) -> Option<Arc<Session>> {
        let sessions = lock(&self.sessions);
        let (_, session) = sessions.by_sid.get(sid)?;
        session.is_live(now).then(|| Arc::clone(session))
    }

    /// See [`crate::SessionStore::touch`].
    pub fn touch(&self, session: &Session, now: Timestamp) {
        let mut sessions = lock(&self.sessions);
        if let Some((_, stored)) = sessions.by_sid.get_mut(&session.sid) {
            let mut updated = Session::clone(stored);
            updated.seen_at(now, &self.timeouts);
            *stored = Arc::new(updated);
        }
    }

    /// See [`crate::SessionStore::add_client`].
    pub fn add_client(&self, sid: &Sid, client: &str) -> bool {
        let mut sessions = lock(&self.sessions);
        let Some((_, stored)) = sessions.by_sid.get_mut(sid) else {
            return false;
        };
        if !stored.clients.iter().any(|c| c == client) {
            let mut updated = Session::clone(stored);
            updated.clients.push(client.to_owned());
            *stored = Arc::new(updated);
        }
        true
    }

    /// See [`crate::SessionStore::step_up`].
    pub fn step_up(&self, sid: &Sid, method: AuthMethod, now: Timestamp) -> Option<Arc<Session>> {
        self.rewrite(sid, now, |s| s.stepped_up(method, now))
    }

    /// See [`crate::SessionStore::refresh_identity`].
    pub fn refresh_identity(
        &self,
        sid: &Sid,
        identity: Identity,
        now: Timestamp,
    ) -> Option<Arc<Session>> {
        self.rewrite(sid, now, |s| s.refreshed(identity, now))
    }

    /// Replaces a live session by `change` of it; `None` when it is unknown or has ended.
    fn rewrite(
        &self,
        sid: &Sid,
        now: Timestamp,
        change: impl FnOnce(&Session) -> Session,
    ) -> Option<Arc<Session>> {
        let mut sessions = lock(&self.sessions);
        let (_, stored) = sessions.by_sid.get_mut(sid)?;
        if !stored.is_live(now) {
            return None;
        }
        *stored = Arc::new(change(stored));
        Some(Arc::clone(stored))
    }

    /// See [`crate::SessionStore::revoke`].
    pub fn revoke(&self, sid: &Sid) -> bool {
        let mut sessions = lock(&self.sessions);
        let Some((_, ended)) = sessions.by_sid.remove(sid) else {
            return false;
        };
        self.ended(&ended);
        true
    }

    /// See [`crate::SessionStore::revoke_user`].
    pub fn revoke_user(&self, subject: &str) -> usize {
        let mut sessions = lock(&self.sessions);
        let sids: Vec<Sid> = sessions
            .by_sid
            .iter()
            .filter(|(_, (_, s))| s.subject == subject)
            .map(|(sid, _)| *sid)
            .collect();
        for sid in &sids {
            if let Some((_, ended)) = sessions.by_sid.remove(sid) {
                self.ended(&ended);
            }
        }
        sids.len()
    }

    /// Queues the logout notice of a session just removed; called with the sessions' lock
    /// held, so the removal and the notice are one step for every other task.
    fn ended(&self, session: &Session) {
        if let Some(notice) = oidc::notice_for(session) {
            self.oidc.logouts.push(notice);
        }
    }

    /// See [`crate::SessionStore::list`].
    pub fn list(&self, subject: Option<&str>, now: Timestamp) -> Vec<Session> {
        let sessions = lock(&self.sessions);
        let mut found: Vec<Session> = sessions
            .by_sid
            .values()
            .filter(|(_, s)| s.is_live(now) && subject.is_none_or(|want| s.subject == want))
            .map(|(_, s)| Session::clone(s))
            .collect();
        found.sort_by_key(|s| (s.created, s.sid));
        found
    }

    /// See [`crate::SessionStore::count`].
    pub fn count(&self, now: Timestamp) -> usize {
        lock(&self.sessions)
            .by_sid
            .values()
            .filter(|(_, s)| s.is_live(now))
            .count()
    }

    /// See [`crate::SessionStore::issue_ticket`].
    pub fn issue_ticket(
        &self,
        id: &SessionId,
        host: &str,
        now: Timestamp,
    ) -> Result<String, crate::StoreError> {
        let issued = ticket::issue(id, host, now)?;
        let mut tickets = lock(&self.tickets);
        tickets
            .by_key
            .insert(issued.key, (issued.expires, issued.sealed));
        if tickets.by_key.len() >= tickets.sweep_at {
            tickets.by_key.retain(|_, (expires, _)| now < *expires);
            tickets.sweep_at = (tickets.by_key.len() * 2).max(FIRST_SWEEP);
        }
        Ok(issued.text)
    }

    /// See [`crate::SessionStore::redeem_ticket`].
    pub fn redeem_ticket(&self, text: &str, host: &str, now: Timestamp) -> Option<SessionId> {
        let ticket = Ticket::parse(text)?;
        let (_, sealed) = lock(&self.tickets).by_key.remove(&ticket.lookup())?;
        ticket.open(&sealed, host, now)
    }

    /// See [`crate::SessionStore::record_failure`].
    pub fn record_failure(&self, kind: ThrottleKind, key: &str, now: Timestamp) -> Throttle {
        let mut counters = lock(&self.counters);
        let entry = counters
            .by_name
            .entry((kind, key.to_owned()))
            .or_insert(Failures {
                count: 0,
                last: now,
            });
        if self.throttle.is_forgotten(entry.last, now) {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = entry.last.max(now);
        let failures = *entry;
        if counters.by_name.len() >= counters.sweep_at {
            counters
                .by_name
                .retain(|_, f| !self.throttle.is_forgotten(f.last, now));
            counters.sweep_at = (counters.by_name.len() * 2).max(FIRST_SWEEP);
        }
        self.throttle.verdict(failures, now)
    }

    /// See [`crate::SessionStore::check`].
    pub fn check(&self, kind: ThrottleKind, key: &str, now: Timestamp) -> Throttle {
        match lock(&self.counters).by_name.get(&(kind, key.to_owned())) {
            Some(f) if !self.throttle.is_forgotten(f.last, now) => self.throttle.verdict(*f, now),
            _ => Throttle::Allowed,
        }
    }

    /// See [`crate::SessionStore::login_check`].
    pub fn login_check(&self, account: &str, source: &str, now: Timestamp) -> LoginCheck {
        let has_failures = lock(&self.counters)
            .by_name
            .get(&(ThrottleKind::Account, account.to_owned()))
            .is_some_and(|f| !self.throttle.is_forgotten(f.last, now));
        LoginCheck::new(
            self.check(ThrottleKind::Account, account, now),
            self.check(ThrottleKind::Source, source, now),
            has_failures,
        )
    }

    /// See [`crate::SessionStore::clear`].
    pub fn clear(&self, kind: ThrottleKind, key: &str) {
        lock(&self.counters).by_name.remove(&(kind, key.to_owned()));
    }

    /// See [`crate::SessionStore::locked`].
    pub fn locked(&self, kind: ThrottleKind, now: Timestamp) -> Vec<(String, Timestamp)> {
        let counters = lock(&self.counters);
        let mut locked: Vec<(String, Timestamp)> = counters
            .by_name
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .filter_map(|((_, name), f)| match self.throttle.verdict(*f, now) {
                Throttle::Locked { until } => Some((name.clone(), until)),
                _ => None,
            })
            .collect();
        locked.sort();
        locked
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};
    use std::time::Duration;

    use pforte_policy::LoginStrength;

    use super::*;

    pub(super) const T0: Timestamp = Timestamp::from_unix_secs(1_700_000_000);

    /// An empty store whose clock reads `T0` until the test moves it.
    pub(super) fn store() -> MemoryStore {
        store_with(&Clock::manual(T0))
    }

    /// An empty store on `clock`, which the test keeps to move time.
    pub(super) fn store_with(clock: &Clock) -> MemoryStore {
        MemoryStore::new(
            SessionSettings::default(),
            ThrottleSettings::default(),
            clock.clone(),
        )
    }

    pub(super) fn login(subject: &str) -> NewSession {
        NewSession {
            subject: subject.into(),
            username: subject.into(),
            display_name: subject.into(),
            email: None,
            groups: vec!["staff".into()],
            login: LoginStrength::Password,
            methods: vec![AuthMethod::Password],
            auth_time: T0,
            source: IpAddr::V4(Ipv4Addr::LOCALHOST),
            device: None,
            federated: None,
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn a_created_session_is_found_by_its_id_only() {
        let store = store();
        let (id, created) = store.create(login("alice"), T0).unwrap();
        let found = store.get(&id, T0).unwrap();
        assert_eq!(*found, *created);
        assert_eq!(found.subject, "alice");
        let other = SessionId::generate().unwrap();
        assert!(store.get(&other, T0).is_none());
    }

    #[test]
    fn every_login_gets_a_new_id() {
        let store = store();
        let (a, _) = store.create(login("alice"), T0).unwrap();
        let (b, _) = store.create(login("alice"), T0).unwrap();
        assert_ne!(a.to_cookie_value(), b.to_cookie_value());
        assert_eq!(store.count(T0), 2);
    }

    #[test]
    fn an_idle_session_expires_and_a_touched_one_does_not() {
        let store = store();
        let idle = SessionSettings::default().idle_timeout;
        let (id, session) = store.create(login("alice"), T0).unwrap();
        assert!(store.get(&id, T0.plus(idle - secs(1))).is_some());
        assert!(store.get(&id, T0.plus(idle)).is_none());

        store.touch(&session, T0.plus(idle - secs(1)));
        assert!(store.get(&id, T0.plus(idle)).is_some());
        assert!(store.get(&id, T0.plus(idle * 2 - secs(1))).is_none());
    }

    #[test]
    fn a_busy_session_still_ends_at_the_absolute_timeout() {
        let store = store();
        let timeouts = SessionSettings::default();
        let (id, session) = store.create(login("alice"), T0).unwrap();
        let mut now = T0;
        while now < T0.plus(timeouts.absolute_timeout) {
            store.touch(&session, now);
            assert!(store.get(&id, now).is_some());
            now = now.plus(secs(600));
        }
        assert!(store.get(&id, T0.plus(timeouts.absolute_timeout)).is_none());
    }

    #[test]
    fn revoke_ends_one_session() {
        let store = store();
        let (a, session) = store.create(login("alice"), T0).unwrap();
        let (b, _) = store.create(login("alice"), T0).unwrap();
        assert!(store.revoke(&session.sid));
        assert!(!store.revoke(&session.sid));
        assert!(store.get(&a, T0).is_none());
        assert!(store.get(&b, T0).is_some());
    }

    #[test]
    fn a_step_up_raises_the_stored_session_in_place() {
        let store = store();
        let (id, session) = store.create(login("alice"), T0).unwrap();
        let later = T0.plus(secs(120));
        let up = store
            .step_up(&session.sid, AuthMethod::Totp, later)
            .unwrap();
        let found = store.get(&id, later).unwrap();
        assert_eq!(*found, *up);
        assert_eq!(found.login, LoginStrength::Mfa);
        assert_eq!(found.methods, [AuthMethod::Password, AuthMethod::Totp]);
        assert_eq!(found.auth_time, later);
        assert_eq!(found.sid, session.sid, "the same session, not a new one");
        store
            .step_up(&session.sid, AuthMethod::Totp, later)
            .unwrap();
        assert_eq!(store.get(&id, later).unwrap().methods.len(), 2);
    }

    #[test]
    fn an_identity_refresh_rewrites_the_person_and_keeps_the_session() {
        let store = store();
        let (id, session) = store.create(login("alice"), T0).unwrap();
        assert_eq!(session.identity_refreshed, T0, "read at login");
        let later = T0.plus(secs(300));
        let identity = Identity {
            username: "alice".into(),
            display_name: "Alice Renamed".into(),
            email: None,
            groups: vec!["finance".into()],
        };
        let refreshed = store
            .refresh_identity(&session.sid, identity.clone(), later)
            .unwrap();
        let found = store.get(&id, later).unwrap();
        assert_eq!(*found, *refreshed);
        assert_eq!(found.identity(), identity);
        assert_eq!(found.identity_refreshed, later);
        assert_eq!(found.sid, session.sid);
        assert_eq!(found.login, session.login);
        assert_eq!(found.auth_time, session.auth_time, "not a new login");
        assert!(
            store
                .refresh_identity(&session.sid, identity.clone(), T0)
                .is_some_and(|s| s.identity_refreshed == later),
            "the refresh time never moves backwards"
        );
        store.revoke(&session.sid);
        assert!(
            store
                .refresh_identity(&session.sid, identity, later)
                .is_none()
        );
    }

    #[test]
    fn a_step_up_of_an_ended_session_is_none() {
        let store = store();
        let (_, session) = store.create(login("alice"), T0).unwrap();
        let idle = T0.plus(SessionSettings::default().idle_timeout);
        assert!(
            store
                .step_up(&session.sid, AuthMethod::Totp, idle)
                .is_none()
        );
        store.revoke(&session.sid);
        assert!(store.step_up(&session.sid, AuthMethod::Totp, T0).is_none());
    }

    #[test]
    fn revoke_user_ends_all_sessions_of_that_person_only() {
        let store = store();
        let (a1, _) = store.create(login("alice"), T0).unwrap();
        let (a2, _) = store.create(login("alice"), T0).unwrap();
        let (b, _) = store.create(login("bob"), T0).unwrap();
        assert_eq!(store.revoke_user("alice"), 2);
        assert!(store.get(&a1, T0).is_none());
        assert!(store.get(&a2, T0).is_none());
        assert!(store.get(&b, T0).is_some());
        assert_eq!(store.list(None, T0).len(), 1);
        assert!(store.list(Some("alice"), T0).is_empty());
    }

    #[test]
    fn clients_are_remembered_once() {
        let store = store();
        let (id, session) = store.create(login("alice"), T0).unwrap();
        assert!(store.add_client(&session.sid, "wiki"));
        assert!(store.add_client(&session.sid, "wiki"));
        assert_eq!(store.get(&id, T0).unwrap().clients, ["wiki"]);
    }

    #[test]
    fn failures_throttle_then_lock_then_clear() {
        let store = store();
        let kind = ThrottleKind::Account;
        for _ in 0..3 {
            assert_eq!(store.record_failure(kind, "bob", T0), Throttle::Allowed);
        }
        assert_eq!(
            store.record_failure(kind, "bob", T0),
            Throttle::Wait {
                until: T0.plus(secs(1))
            }
        );
        assert_eq!(
            store.check(ThrottleKind::Account, "alice", T0),
            Throttle::Allowed
        );
        assert_eq!(
            store.check(ThrottleKind::Source, "bob", T0),
            Throttle::Allowed
        );
        for _ in 4..20 {
            store.record_failure(kind, "bob", T0);
        }
        let locked = Throttle::Locked {
            until: T0.plus(secs(900)),
        };
        assert_eq!(store.check(kind, "bob", T0.plus(secs(60))), locked);
        assert_eq!(
            store.locked(kind, T0),
            [("bob".to_owned(), T0.plus(secs(900)))]
        );
        store.clear(kind, "bob");
        assert_eq!(store.check(kind, "bob", T0), Throttle::Allowed);
        assert!(store.locked(kind, T0).is_empty());
    }

    #[test]
    fn a_counter_is_forgotten_after_a_quiet_period() {
        let store = store();
        for _ in 0..5 {
            store.record_failure(ThrottleKind::Source, "192.0.2.1", T0);
        }
        let later = T0.plus(secs(900));
        assert_eq!(
            store.check(ThrottleKind::Source, "192.0.2.1", later),
            Throttle::Allowed
        );
        assert_eq!(
            store.record_failure(ThrottleKind::Source, "192.0.2.1", later),
            Throttle::Allowed
        );
    }

    const APP: &str = "wiki.example.org";

    #[test]
    fn a_ticket_hands_the_session_to_its_host_once() {
        let store = store();
        let (id, _) = store.create(login("alice"), T0).unwrap();
        let ticket = store.issue_ticket(&id, APP, T0).unwrap();
        assert_eq!(ticket.len(), 43);
        assert_ne!(ticket, id.to_cookie_value());

        let handed = store.redeem_ticket(&ticket, APP, T0.plus(secs(2))).unwrap();
        assert_eq!(handed.to_cookie_value(), id.to_cookie_value());
        assert!(store.get(&handed, T0.plus(secs(2))).is_some());
        assert!(
            store
                .redeem_ticket(&ticket, APP, T0.plus(secs(2)))
                .is_none()
        );
    }

    #[test]
    fn a_ticket_expires_sixty_seconds_after_issue() {
        let store = store();
        let id = SessionId::generate().unwrap();
        let early = store.issue_ticket(&id, APP, T0).unwrap();
        let late = store.issue_ticket(&id, APP, T0).unwrap();
        assert!(
            store
                .redeem_ticket(&early, APP, T0.plus(secs(59)))
                .is_some()
        );
        assert!(store.redeem_ticket(&late, APP, T0.plus(secs(60))).is_none());
    }

    #[test]
    fn a_ticket_for_another_host_is_refused_and_used_up() {
        let store = store();
        let id = SessionId::generate().unwrap();
        let ticket = store.issue_ticket(&id, APP, T0).unwrap();
        assert!(
            store
                .redeem_ticket(&ticket, "evil.example.org", T0)
                .is_none()
        );
        assert!(store.redeem_ticket(&ticket, APP, T0).is_none());
    }

    #[test]
    fn garbage_tickets_are_none() {
        let store = store();
        let id = SessionId::generate().unwrap();
        let good = store.issue_ticket(&id, APP, T0).unwrap();
        let huge = "A".repeat(1 << 20);
        let garbage = [
            "",
            &good[..42],
            &format!("{good}A"),
            &format!("{}=", &good[..42]),
            &format!("{}+", &good[..42]),
            &format!("{}é", &good[..41]),
            "\0\0\0",
            &huge,
            &id.to_cookie_value(),
        ];
        for bad in garbage {
            assert!(
                store.redeem_ticket(bad, APP, T0).is_none(),
                "{}",
                &bad[..bad.len().min(50)]
            );
        }
        assert!(store.redeem_ticket(&good, APP, T0).is_some());
    }

    #[test]
    fn the_ticket_map_holds_neither_ticket_nor_session_id() {
        let store = store();
        let id = SessionId::generate().unwrap();
        let ticket = store.issue_ticket(&id, APP, T0).unwrap();
        let ticket_bytes = crate::id::decode_secret(&ticket).unwrap();
        let tickets = lock(&store.tickets);
        let [(key, (_, sealed))] = Vec::from_iter(&tickets.by_key)[..] else {
            panic!("one ticket stored");
        };
        let shown = format!("{key} {key:?} {tickets:?}");
        for secret in [id.as_bytes(), &ticket_bytes] {
            assert!(!sealed.windows(8).any(|w| secret.windows(8).any(|s| s == w)));
        }
        assert!(!shown.contains(&ticket) && !shown.contains(&id.to_cookie_value()));
    }

    #[test]
    fn expired_tickets_are_swept_as_the_map_grows() {
        let store = store();
        let id = SessionId::generate().unwrap();
        for _ in 1..FIRST_SWEEP {
            store.issue_ticket(&id, APP, T0).unwrap();
        }
        let later = T0.plus(secs(60));
        let fresh = store.issue_ticket(&id, APP, later).unwrap();
        assert_eq!(lock(&store.tickets).by_key.len(), 1);
        assert!(store.redeem_ticket(&fresh, APP, later).is_some());
    }
}
