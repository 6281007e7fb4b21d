//! The store the gateway holds: exactly the two backends users need, behind one API.

use std::sync::Arc;

use crate::error::StoreError;
use crate::id::{SessionId, Sid};
use crate::memory::MemoryStore;
use crate::redis_store::RedisStore;
use crate::session::{NewSession, Session};
use crate::settings::{Backend, StoreSettings};
use crate::throttle::{LoginCheck, Throttle, ThrottleKind, counter_name};
use crate::time::Timestamp;

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
    /// `Unavailable` when Redis does not answer.
    pub async fn open(settings: &StoreSettings) -> Result<Self, StoreError> {
        Ok(match &settings.backend {
            Backend::Memory => Self::Memory(MemoryStore::new(
                settings.sessions.clone(),
                settings.throttle.clone(),
            )),
            Backend::Redis(redis) => Self::Redis(
                RedisStore::connect(redis, settings.sessions.clone(), settings.throttle.clone())
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
            Self::Redis(r) => r.create(new, now).await,
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
            Self::Redis(r) => r.get(id, now).await,
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
            Self::Redis(r) => r.touch(session, now).await,
        }
    }

    /// Notes that an OIDC client received tokens from the session, for back-channel logout.
    /// `false` when the session is gone.
    pub async fn add_client(&self, sid: &Sid, client: &str) -> Result<bool, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.add_client(sid, client)),
            Self::Redis(r) => r.add_client(sid, client).await,
        }
    }

    /// Ends one session (logout, or the admin's `sessions revoke SID`); every replica refuses it
    /// within the revocation bound. `false` when it did not exist.
    pub async fn revoke(&self, sid: &Sid) -> Result<bool, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.revoke(sid)),
            Self::Redis(r) => r.revoke(sid).await,
        }
    }

    /// Ends every session of one person (account disabled, password changed); returns how
    /// many ended.
    pub async fn revoke_user(&self, subject: &str) -> Result<usize, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.revoke_user(subject)),
            Self::Redis(r) => r.revoke_user(subject).await,
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
            Self::Redis(r) => r.list(subject, now).await,
        }
    }

    /// How many sessions exist, for status and metrics (Redis counts keys whose TTL has not
    /// run out, which may include sessions idle-expired within the last touch interval).
    pub async fn count(&self, now: Timestamp) -> Result<usize, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.count(now)),
            Self::Redis(r) => r.count().await,
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
            Self::Redis(r) => r.issue_ticket(id, host, now).await,
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
            Self::Redis(r) => r.redeem_ticket(ticket, host, now).await,
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
            Self::Redis(r) => r.record_failure(kind, &name, now).await,
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
            Self::Redis(r) => r.check(kind, &name, now).await,
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
            Self::Redis(r) => r.login_check(&account, &source, now).await,
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
            Self::Redis(r) => r.clear(kind, &name).await,
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
            Self::Redis(r) => r.locked(kind, now).await,
        }
    }
}
