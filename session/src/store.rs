//! The store the gateway holds: exactly the two backends users need, behind one API.

use std::sync::Arc;
use std::time::Duration;

use crate::error::StoreError;
use crate::id::{SessionId, Sid};
use crate::memory::MemoryStore;
use crate::observe::{Observer, Operation};
use crate::records::{LogoutNotice, RecordKind};
use crate::redis_store::RedisStore;
use crate::session::{Identity, NewSession, Session};
use crate::settings::{Backend, StoreSettings};
use crate::throttle::{LoginCheck, Throttle, ThrottleKind, counter_name};
use crate::time::{Clock, Timestamp};
use pforte_policy::AuthMethod;

/// Sessions and brute-force counters, in this process or in Redis.
#[derive(Debug)]
pub enum SessionStore {
    /// One process; see [`MemoryStore`].
    Memory(MemoryStore),
    /// Shared by every replica; see [`RedisStore`].
    Redis(RedisStore),
}

impl SessionStore {
    /// Opens the backend the settings name; for Redis this connects and fails with
    /// `Unavailable` when Redis does not answer. The store reads the time it must keep by
    /// itself (record expiry, cache trust) from `clock` only: [`Clock::system`] in production,
    /// a manual clock in tests.
    pub async fn open(settings: &StoreSettings, clock: Clock) -> Result<Self, StoreError> {
        Ok(match &settings.backend {
            Backend::Memory => Self::Memory(MemoryStore::new(
                settings.sessions.clone(),
                settings.throttle.clone(),
                clock,
            )),
            Backend::Redis(redis) => Self::Redis(
                RedisStore::connect(
                    redis,
                    settings.sessions.clone(),
                    settings.throttle.clone(),
                    clock,
                )
                .await?,
            ),
        })
    }

    /// Opens a session after a successful login. The id is always new (never one the browser
    /// sent), so a planted id cannot be fixed into a session. Returns the cookie value's id and
    /// the session.
    pub async fn create(
        &self,
        new: NewSession,
        now: Timestamp,
    ) -> Result<(SessionId, Arc<Session>), StoreError> {
        match self {
            Self::Memory(m) => m.create(new, now),
            Self::Redis(r) => r.timed(Operation::Create, r.create(new, now)).await,
        }
    }

    /// The live session for a cookie, or `None` when it is unknown, revoked, idle-expired or
    /// past its absolute expiry. An unreachable Redis is an error, never `None`.
    pub async fn get(
        &self,
        id: &SessionId,
        now: Timestamp,
    ) -> Result<Option<Arc<Session>>, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.get(id, now)),
            Self::Redis(r) => r.timed(Operation::Get, r.get(id, now)).await,
        }
    }

    /// The live session with this public handle, without its cookie: for the OIDC provider,
    /// whose tokens name the session (`sid`) they were issued in and die with it. Never use it
    /// to let a request in; that takes the cookie ([`SessionStore::get`]).
    pub async fn get_by_sid(
        &self,
        sid: &Sid,
        now: Timestamp,
    ) -> Result<Option<Arc<Session>>, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.get_by_sid(sid, now)),
            Self::Redis(r) => r.timed(Operation::GetBySid, r.get_by_sid(sid, now)).await,
        }
    }

    /// Records activity on a session returned by [`SessionStore::get`], sliding its idle
    /// expiry. Cheap to call on every request: Redis is written only when the session's
    /// `last_seen` is a touch interval old.
    pub async fn touch(&self, session: &Session, now: Timestamp) -> Result<(), StoreError> {
        match self {
            Self::Memory(m) => {
                m.touch(session, now);
                Ok(())
            }
            Self::Redis(r) => r.timed(Operation::Touch, r.touch(session, now)).await,
        }
    }

    /// Notes that an OIDC client received tokens from the session, for back-channel logout.
    /// `false` when the session is gone.
    pub async fn add_client(&self, sid: &Sid, client: &str) -> Result<bool, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.add_client(sid, client)),
            Self::Redis(r) => {
                r.timed(Operation::AddClient, r.add_client(sid, client))
                    .await
            }
        }
    }

    /// Raises a live session in place after a second factor was checked at `now`: its login
    /// strength becomes `Mfa`, `method` is appended to its methods (unless it is there
    /// already), and its `auth_time` becomes `now`. The sid, the cookie and the timeouts stay,
    /// so the person goes on without logging in again. Every replica's cache forgets its old
    /// copy within the revocation bound (without the session counting as revoked: the next
    /// lookup reads the raised one). In Redis the change is one atomic step. Returns the raised
    /// session, or `None` when the session is unknown, revoked or expired.
    pub async fn step_up(
        &self,
        sid: &Sid,
        method: AuthMethod,
        now: Timestamp,
    ) -> Result<Option<Arc<Session>>, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.step_up(sid, method, now)),
            Self::Redis(r) => {
                r.timed(Operation::StepUp, r.step_up(sid, method, now))
                    .await
            }
        }
    }

    /// Writes what the directory says of the person now into a live session (username,
    /// display name, mail, groups) and marks it refreshed at `now`; the handle, the login
    /// strength and the timeouts stay. Every replica's cache forgets its old copy within the
    /// revocation bound, so changed groups count on every replica from the next request. In
    /// Redis the change is one atomic step. Returns the refreshed session, or `None` when the
    /// session is unknown, revoked or expired.
    pub async fn refresh_identity(
        &self,
        sid: &Sid,
        identity: Identity,
        now: Timestamp,
    ) -> Result<Option<Arc<Session>>, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.refresh_identity(sid, identity, now)),
            Self::Redis(r) => {
                r.timed(
                    Operation::RefreshIdentity,
                    r.refresh_identity(sid, &identity, now),
                )
                .await
            }
        }
    }

    /// Ends one session (logout, or the admin's `sessions revoke SID`); every replica refuses it
    /// within the revocation bound. `false` when it did not exist. When the session had OIDC
    /// clients, the same atomic step queues its [`LogoutNotice`] for
    /// [`SessionStore::next_logout`].
    pub async fn revoke(&self, sid: &Sid) -> Result<bool, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.revoke(sid)),
            Self::Redis(r) => r.timed(Operation::Revoke, r.revoke(sid)).await,
        }
    }

    /// Ends every session of one person (account disabled, password changed); returns how
    /// many ended. Queues a [`LogoutNotice`] for each that had OIDC clients, atomically with
    /// the revocation.
    pub async fn revoke_user(&self, subject: &str) -> Result<usize, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.revoke_user(subject)),
            Self::Redis(r) => r.timed(Operation::RevokeUser, r.revoke_user(subject)).await,
        }
    }

    /// The live sessions, of one subject or of everybody, oldest first, for the admin CLI.
    pub async fn list(
        &self,
        subject: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<Session>, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.list(subject, now)),
            Self::Redis(r) => r.timed(Operation::List, r.list(subject, now)).await,
        }
    }

    /// How many sessions exist, for status and metrics (Redis counts keys whose TTL has not
    /// run out, which may include sessions idle-expired within the last touch interval).
    pub async fn count(&self, now: Timestamp) -> Result<usize, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.count(now)),
            Self::Redis(r) => r.timed(Operation::Count, r.count()).await,
        }
    }

    /// Hands the session `id` to the app host `host` through a redirect: returns a one-time
    /// ticket (43 base64url characters) that [`SessionStore::redeem_ticket`] turns back into the
    /// id on that host, on any replica, within 60 s of `now`. `host` is compared byte for byte:
    /// pass the lower-case host name from the route table, as the app host will. Call it for a
    /// session just found by [`SessionStore::get`]; the app host checks the id like any cookie.
    pub async fn issue_ticket(
        &self,
        id: &SessionId,
        host: &str,
        now: Timestamp,
    ) -> Result<String, StoreError> {
        match self {
            Self::Memory(m) => m.issue_ticket(id, host, now),
            Self::Redis(r) => {
                r.timed(Operation::IssueTicket, r.issue_ticket(id, host, now))
                    .await
            }
        }
    }

    /// The session id a ticket hands to `host`, exactly once: of two concurrent redemptions
    /// only one gets it. `None` for a ticket that is malformed, unknown, used, expired or was
    /// issued for another host (which uses it up too), so a replayed or forwarded redirect
    /// leads back to the login page.
    pub async fn redeem_ticket(
        &self,
        ticket: &str,
        host: &str,
        now: Timestamp,
    ) -> Result<Option<SessionId>, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.redeem_ticket(ticket, host, now)),
            Self::Redis(r) => {
                r.timed(Operation::RedeemTicket, r.redeem_ticket(ticket, host, now))
                    .await
            }
        }
    }

    /// Counts a failed login against an account or a source address and says what the next
    /// attempt faces.
    pub async fn record_failure(
        &self,
        kind: ThrottleKind,
        name: &str,
        now: Timestamp,
    ) -> Result<Throttle, StoreError> {
        let name = counter_name(name);
        match self {
            Self::Memory(m) => Ok(m.record_failure(kind, &name, now)),
            Self::Redis(r) => {
                r.timed(Operation::RecordFailure, r.record_failure(kind, &name, now))
                    .await
            }
        }
    }

    /// Whether a login attempt may go ahead now; call before checking the password, for the
    /// account and for the source address.
    pub async fn check(
        &self,
        kind: ThrottleKind,
        name: &str,
        now: Timestamp,
    ) -> Result<Throttle, StoreError> {
        let name = counter_name(name);
        match self {
            Self::Memory(m) => Ok(m.check(kind, &name, now)),
            Self::Redis(r) => r.timed(Operation::Check, r.check(kind, &name, now)).await,
        }
    }

    /// Before a password is checked: the account's and the address's counters in one go (one
    /// Redis round trip), with whether the account has failures a success must clear.
    pub async fn login_check(
        &self,
        account: &str,
        source: &str,
        now: Timestamp,
    ) -> Result<LoginCheck, StoreError> {
        let (account, source) = (counter_name(account), counter_name(source));
        match self {
            Self::Memory(m) => Ok(m.login_check(&account, &source, now)),
            Self::Redis(r) => {
                r.timed(Operation::Check, r.login_check(&account, &source, now))
                    .await
            }
        }
    }

    /// Forgets the failures of an account or address: after a successful login, or the admin's
    /// unlock.
    pub async fn clear(&self, kind: ThrottleKind, name: &str) -> Result<(), StoreError> {
        let name = counter_name(name);
        match self {
            Self::Memory(m) => {
                m.clear(kind, &name);
                Ok(())
            }
            Self::Redis(r) => r.timed(Operation::Clear, r.clear(kind, &name)).await,
        }
    }

    /// The locked accounts or addresses and when each lock ends, for the admin's listing
    /// (names over 128 bytes appear as `sha256:` and their digest).
    pub async fn locked(
        &self,
        kind: ThrottleKind,
        now: Timestamp,
    ) -> Result<Vec<(String, Timestamp)>, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.locked(kind, now)),
            Self::Redis(r) => r.timed(Operation::Locked, r.locked(kind, now)).await,
        }
    }

    /// Stores an OIDC record under `key` in the `kind` key space, replacing any record there;
    /// it expires after `ttl` (kept between 1 ms and [`crate::MAX_RECORD_TTL`]; the memory store
    /// counts whole seconds of its clock, so there a record may live up to two seconds longer,
    /// never shorter). Keys are opaque (digests, ids, `jti`s) and at most
    /// [`crate::MAX_RECORD_KEY_BYTES`] long: a longer one is refused with
    /// [`StoreError::RecordKeyTooLong`], by this and every record method.
    pub async fn put_record(
        &self,
        kind: RecordKind,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        match self {
            Self::Memory(m) => m.put_record(kind, key, value, ttl),
            Self::Redis(r) => {
                r.timed(Operation::PutRecord, r.put_record(kind, key, value, ttl))
                    .await
            }
        }
    }

    /// The record under `key`, or `None` when there is none or it expired.
    pub async fn get_record(
        &self,
        kind: RecordKind,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Self::Memory(m) => m.get_record(kind, key),
            Self::Redis(r) => r.timed(Operation::GetRecord, r.get_record(kind, key)).await,
        }
    }

    /// Reads and deletes the record under `key` in one atomic step, for single use (an
    /// authorization code): of concurrent takers on any replicas exactly one gets `Some`.
    pub async fn take_record(
        &self,
        kind: RecordKind,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Self::Memory(m) => m.take_record(kind, key),
            Self::Redis(r) => {
                r.timed(Operation::TakeRecord, r.take_record(kind, key))
                    .await
            }
        }
    }

    /// Stores a record only where none is (Redis `SET NX`), and says whether it did: of
    /// concurrent inserts under one key on any replicas exactly one wins. With
    /// [`SessionStore::replace_record`] it makes a guard that only ever moves forward (the last
    /// accepted TOTP step).
    pub async fn insert_record(
        &self,
        kind: RecordKind,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        match self {
            Self::Memory(m) => m.insert_record(kind, key, value, ttl),
            Self::Redis(r) => {
                r.timed(Operation::PutRecord, r.insert_record(kind, key, value, ttl))
                    .await
            }
        }
    }

    /// Compare-and-set, for refresh-token rotation: writes `new` (expiring after `ttl`) only
    /// if the current record equals `expected` byte for byte, and says whether it did. `false`
    /// also when the record is missing or expired, so of concurrent rotations of one state
    /// exactly one wins.
    pub async fn replace_record(
        &self,
        kind: RecordKind,
        key: &str,
        expected: &[u8],
        new: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        match self {
            Self::Memory(m) => m.replace_record(kind, key, expected, new, ttl),
            Self::Redis(r) => {
                r.timed(
                    Operation::ReplaceRecord,
                    r.replace_record(kind, key, expected, new, ttl),
                )
                .await
            }
        }
    }

    /// Indexes a refresh-token family under the SSO session that started it, so a logout can
    /// revoke the session's families ([`SessionStore::families_of`]). The index expires after
    /// `ttl`, or later when an earlier link asked for longer: linking extends its life, never
    /// shortens it. It outlives the session's revocation on purpose. `family_id` is limited
    /// like a record key.
    pub async fn link_family(
        &self,
        sid: &Sid,
        family_id: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        match self {
            Self::Memory(m) => m.link_family(sid, family_id, ttl),
            Self::Redis(r) => {
                r.timed(Operation::Families, r.link_family(sid, family_id, ttl))
                    .await
            }
        }
    }

    /// The refresh-token families started from a session, sorted; empty when none (or the
    /// index expired).
    pub async fn families_of(&self, sid: &Sid) -> Result<Vec<String>, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.families_of(sid)),
            Self::Redis(r) => r.timed(Operation::Families, r.families_of(sid)).await,
        }
    }

    /// The next session that ended by revocation while it had OIDC clients, oldest first,
    /// waiting at most `wait` (cut to [`crate::MAX_LOGOUT_WAIT`]); `None` when none came.
    /// Each notice goes to exactly one caller across all replicas, whichever process revoked
    /// the session (a gateway or the admin CLI). Up to [`crate::LOGOUT_QUEUE_CAP`] notices wait
    /// for a taker; beyond that the oldest are dropped. In Redis the wait blocks a connection of
    /// its own, never the shared one; a failed connection is `Unavailable` and is made again on
    /// the next call.
    pub async fn next_logout(&self, wait: Duration) -> Result<Option<LogoutNotice>, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.next_logout(wait).await),
            Self::Redis(r) => r.next_logout(wait).await,
        }
    }

    /// The live sessions for a gauge, cheaply: the memory store counts them in the process;
    /// Redis keeps one count for `fresh`, made in the background by whichever replica finds it
    /// run out (see [`crate::RedisStore::live_count`]), so the fleet walks the session keys once
    /// per `fresh`, not once per replica, and no caller waits for the walk. `None` while the
    /// count is being made.
    pub async fn live_count(
        &self,
        now: Timestamp,
        fresh: Duration,
    ) -> Result<Option<usize>, StoreError> {
        match self {
            Self::Memory(m) => Ok(Some(m.count(now))),
            Self::Redis(r) => r.timed(Operation::Count, r.live_count(fresh)).await,
        }
    }

    /// Whether the store answers now: always for the memory store; for Redis one PING,
    /// bounded by the command timeout. What `/readyz` asks (through a cached background probe).
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Self::Memory(_) => Ok(()),
            Self::Redis(r) => r.timed(Operation::Ping, r.ping()).await,
        }
    }

    /// Tells `observer` of every operation that reaches Redis, from now on (the memory store
    /// has nothing to tell: see [`Observer`]). `false` when it was not taken: a memory store,
    /// or an observer set already.
    pub fn observe(&self, observer: std::sync::Arc<dyn Observer>) -> bool {
        match self {
            Self::Memory(_) => false,
            Self::Redis(r) => r.observe(observer),
        }
    }
}
