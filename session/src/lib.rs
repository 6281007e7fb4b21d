//! Pforte's SSO sessions and brute-force counters.
//!
//! After a login the gateway calls [`SessionStore::create`] and sets the returned
//! [`SessionId`] as a cookie (the gateway owns the cookie's attributes). On each request it
//! parses the cookie with [`SessionId::parse`], asks [`SessionStore::get`] for the
//! [`Session`], and calls [`SessionStore::touch`] to slide the idle timeout. A second factor
//! checked later raises the session in place with [`SessionStore::step_up`] (its
//! [`AuthMethod`]s say what was done). Logout and the
//! admin end sessions with [`SessionStore::revoke`] and [`SessionStore::revoke_user`]. Before a
//! password is checked, [`SessionStore::check`] says whether the account and the source
//! address may try; failures go to [`SessionStore::record_failure`], success to
//! [`SessionStore::clear`].
//!
//! The cookie is host-only, so a login reaches other hosts by a one-time ticket: the login host
//! calls [`SessionStore::issue_ticket`] and redirects to the app host with it, and the app host
//! (any replica) sets its own cookie from [`SessionStore::redeem_ticket`]. A ticket lives 60 s,
//! works once and for its host only, and is stored hashed and sealed, never in the clear.
//!
//! ```text
//! cookie ─▶ SessionId::parse ─▶ key = SHA-256(id) ─▶ local cache ──hit──▶ Session
//!                                                        │ miss / untrusted
//!                                                        ▼
//!                                               Redis HGETALL {p}s:{sid}
//! ```
//!
//! The OpenID Connect provider keeps its short-lived state here too, so any replica can serve
//! any step of a flow: codes and refresh-token families as opaque records with a TTL
//! ([`SessionStore::put_record`], single-use [`SessionStore::take_record`], compare-and-set
//! [`SessionStore::replace_record`]), the families started from each SSO session
//! ([`SessionStore::link_family`]), and a queue of [`LogoutNotice`]s that every revocation of
//! a session with OIDC clients feeds atomically, drained by [`SessionStore::next_logout`]. In
//! Redis these are `{p}o:{kind}:{key}`, `{p}o:families:{sid}` and the list `{p}logout`.
//!
//! Two backends: [`MemoryStore`] for a single process and [`RedisStore`] (one server, TLS
//! with a private CA, or a Sentinel-managed master) shared by replicas,
//! whose local cache answers valid sessions without a round trip and still enforces every
//! revocation within a bound (1 s by default, see the [`RedisStore`] module doc). The crate
//! knows nothing of HTTP. The current time is passed in as `now`, except where a store must
//! time something by itself: the OIDC records, whose callers give a time to live (which Redis
//! counts down, or the memory store by its [`Clock`]), and the Redis store's trust in its
//! local cache. A store reads that time only from the [`Clock`] it was opened with, so tests
//! move a manual clock instead of sleeping.

#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)
)]

mod cache;
mod error;
mod id;
mod memory;
mod observe;
mod records;
mod redis_store;
mod session;
mod settings;
mod store;
mod throttle;
mod ticket;
mod time;

pub use error::StoreError;
pub use id::{IdError, SessionId, SessionKey, Sid};
pub use memory::MemoryStore;
pub use observe::{Observer, Operation};
/// Re-exported: the factors a session records (defined beside `LoginStrength`, which the
/// OIDC rules share).
pub use pforte_policy::AuthMethod;
pub use records::{
    LOGOUT_QUEUE_CAP, LogoutNotice, MAX_LOGOUT_WAIT, MAX_RECORD_KEY_BYTES, MAX_RECORD_TTL,
    RecordKind,
};
pub use redis_store::RedisStore;
pub use session::{Federated, Identity, MAX_DEVICE_CHARS, NewSession, Session};
pub use settings::{
    Acknowledgement, Backend, RedisPassword, RedisSettings, RedisTarget, SessionSettings,
    SettingsError, StoreSettings,
};
pub use store::SessionStore;
pub use throttle::{LoginCheck, Throttle, ThrottleKind, ThrottleSettings};
pub use ticket::Ticket;
pub use time::{Clock, ClockError, Timestamp};
