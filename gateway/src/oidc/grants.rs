//! What the provider keeps between requests, in the session store, so any replica serves any
//! step of a flow and (with Redis) a restart loses nothing:
//!
//! | record | key | lives |
//! |---|---|---|
//! | authorization code | digest of the code | 60 s, taken once |
//! | redeemed code | digest of the code | a day: what to revoke if it comes again |
//! | refresh family | family id | the family's lifetime; written back by compare-and-set |
//! | revoked access token | `jti` | until the token would expire anyway |
//! | pending `prompt=login` | digest of the id in the return URL | 30 min, taken when a code is issued |
//! | pushed authorization request | digest of the `request_uri`'s handle | 5 min, taken when a code is issued |
//! | client assertion's `jti` | digest of client id and `jti` | until the assertion expires |
//! | device authorization (RFC 8628) | digest of the device code | 10 min and 10 more to answer `expired_token`; compare-and-set, taken when its tokens are issued |
//! | user code | the normalised user code, naming the device code's digest | 10 min, ended by the person's decision |
//!
//! Values are JSON; a record that does not parse is treated as absent (and logged), never
//! trusted.

mod device;

use std::time::Duration;

pub use device::LoadedDevice;
use pforte_oidc::pushed::PushedRequest;
use pforte_oidc::{AuthorizationCode, Client, OpaqueToken, RefreshFamily};
use pforte_session::{RecordKind, SessionStore, Sid, StoreError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// How long a redeemed code is remembered, to revoke what it issued if it is replayed.
const REDEEMED_MEMORY: Duration = Duration::from_secs(24 * 3600);

/// What a redeemed code issued, so a replay can revoke it (RFC 6749 §4.1.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Redeemed {
    /// The client that redeemed it.
    pub client_id: String,
    /// The refresh family it started, if any.
    pub family: Option<String>,
    /// The access token it issued.
    pub jti: String,
    /// When that access token expires (Unix seconds).
    pub until: u64,
}

/// How long an authorization request with `prompt=login` waits for its login; after that the
/// request counts as new and asks for the password once more.
pub const PENDING_LOGIN_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// An authorization request with `prompt=login` on its way through the login form. When it
/// first arrived is kept here, server-side: a time in the URL could be written by anyone who
/// holds a session, to pass `prompt=login` without the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    /// When the request first arrived (Unix seconds): only a later login satisfies it.
    pub asked_at: u64,
    /// SHA-256 of the request's parameters, so the record serves this request alone.
    pub request: [u8; 32],
}

/// A refresh family as loaded, with the exact bytes the compare-and-set must find.
pub struct LoadedFamily {
    /// The family.
    pub family: RefreshFamily,
    raw: Vec<u8>,
}

/// The provider's records in the session store.
pub struct Grants<'a> {
    store: &'a SessionStore,
}

impl<'a> Grants<'a> {
    /// The records of `store`.
    pub fn new(store: &'a SessionStore) -> Self {
        Self { store }
    }

    /// Keeps a new code for its lifetime.
    pub async fn put_code(
        &self,
        code: &OpaqueToken,
        record: &AuthorizationCode,
        now: u64,
    ) -> Result<(), StoreError> {
        let ttl = Duration::from_secs(record.expires_at.saturating_sub(now).max(1));
        self.store
            .put_record(
                RecordKind::AuthorizationCode,
                &code.digest(),
                &to_json(record),
                ttl,
            )
            .await
    }

    /// Takes a code, exactly once across every replica.
    pub async fn take_code(
        &self,
        code: &OpaqueToken,
    ) -> Result<Option<AuthorizationCode>, StoreError> {
        let raw = self
            .store
            .take_record(RecordKind::AuthorizationCode, &code.digest())
            .await?;
        Ok(raw.and_then(|raw| from_json(&raw, "authorization code")))
    }

    /// Remembers what a code issued.
    pub async fn put_redeemed(
        &self,
        code: &OpaqueToken,
        redeemed: &Redeemed,
    ) -> Result<(), StoreError> {
        self.store
            .put_record(
                RecordKind::RedeemedCode,
                &code.digest(),
                &to_json(redeemed),
                REDEEMED_MEMORY,
            )
            .await
    }

    /// What a code issued, if it was redeemed before.
    pub async fn redeemed(&self, code: &OpaqueToken) -> Result<Option<Redeemed>, StoreError> {
        let raw = self
            .store
            .get_record(RecordKind::RedeemedCode, &code.digest())
            .await?;
        Ok(raw.and_then(|raw| from_json(&raw, "redeemed code")))
    }

    /// Keeps a pending `prompt=login` request under the digest of `id`.
    pub async fn put_pending(
        &self,
        id: &OpaqueToken,
        pending: &PendingLogin,
    ) -> Result<(), StoreError> {
        self.store
            .put_record(
                RecordKind::PendingLogin,
                &id.digest(),
                &to_json(pending),
                PENDING_LOGIN_LIFETIME,
            )
            .await
    }

    /// The pending request `id` names, if it is still waiting.
    pub async fn pending(&self, id: &OpaqueToken) -> Result<Option<PendingLogin>, StoreError> {
        let raw = self
            .store
            .get_record(RecordKind::PendingLogin, &id.digest())
            .await?;
        Ok(raw.and_then(|raw| from_json(&raw, "pending login")))
    }

    /// Ends a pending request once its code is issued, so its login serves it only once.
    pub async fn end_pending(&self, id: &OpaqueToken) -> Result<(), StoreError> {
        self.store
            .take_record(RecordKind::PendingLogin, &id.digest())
            .await
            .map(drop)
    }

    /// Keeps a pushed authorization request under the digest of its handle until it expires.
    pub async fn put_pushed(
        &self,
        handle: &OpaqueToken,
        pushed: &PushedRequest,
        now: u64,
    ) -> Result<(), StoreError> {
        let ttl = Duration::from_secs(pushed.expires_at.saturating_sub(now).max(1));
        self.store
            .put_record(
                RecordKind::PushedRequest,
                &handle.digest(),
                &to_json(pushed),
                ttl,
            )
            .await
    }

    /// The pushed request `handle` names, if it is still waiting for its code.
    pub async fn pushed(&self, handle: &OpaqueToken) -> Result<Option<PushedRequest>, StoreError> {
        let raw = self
            .store
            .get_record(RecordKind::PushedRequest, &handle.digest())
            .await?;
        Ok(raw.and_then(|raw| from_json(&raw, "pushed request")))
    }

    /// Ends a pushed request as its code is issued: one code per push. `false` when another
    /// request took it first, so that request alone gets the code.
    pub async fn end_pushed(&self, handle: &OpaqueToken) -> Result<bool, StoreError> {
        let taken = self
            .store
            .take_record(RecordKind::PushedRequest, &handle.digest())
            .await?;
        Ok(taken.is_some())
    }

    /// Records the single use of a client assertion: `true` the first time its `jti` is seen
    /// for this client on any replica, `false` for a replay. Kept until the assertion expires
    /// (and a minute of leeway), after which it is refused as expired anyway.
    pub async fn claim_assertion(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: u64,
        now: u64,
    ) -> Result<bool, StoreError> {
        let key = OpaqueToken::presented(&format!("{client_id}\u{0}{jti}")).digest();
        let ttl = Duration::from_secs(expires_at.saturating_sub(now).saturating_add(60));
        self.store
            .insert_record(RecordKind::AssertionId, &key, b"1", ttl)
            .await
    }

    /// Stores a family (new, or revoked whatever its state).
    pub async fn put_family(&self, family: &RefreshFamily, now: u64) -> Result<(), StoreError> {
        self.store
            .put_record(
                RecordKind::RefreshFamily,
                &family.id,
                &to_json(family),
                family_ttl(family, now),
            )
            .await
    }

    /// What a person's new tokens leave in the store, written at once (Redis pipelines
    /// concurrent commands on its one connection): the client on the session, so a logout tells
    /// it, and a refresh family started with them with its link to the session, so a logout
    /// ends it too.
    pub async fn keep_issued(
        &self,
        sid: &Sid,
        client: &Client,
        family: Option<&RefreshFamily>,
        now: u64,
    ) -> Result<(), StoreError> {
        let keep_family = async {
            if let Some(family) = family {
                let lifetime = Duration::from_secs(client.lifetimes.refresh_token);
                tokio::try_join!(
                    self.put_family(family, now),
                    self.store.link_family(sid, &family.id, lifetime),
                )?;
            }
            Ok(())
        };
        tokio::try_join!(self.store.add_client(sid, &client.id), keep_family).map(drop)
    }

    /// Loads a family.
    pub async fn family(&self, id: &str) -> Result<Option<LoadedFamily>, StoreError> {
        let raw = self.store.get_record(RecordKind::RefreshFamily, id).await?;
        Ok(raw.and_then(|raw| {
            from_json(&raw, "refresh family").map(|family| LoadedFamily { family, raw })
        }))
    }

    /// Writes `next` over `loaded` only if nobody changed the family since it was loaded:
    /// of two concurrent uses of one refresh token, one wins.
    pub async fn replace_family(
        &self,
        loaded: &LoadedFamily,
        next: &RefreshFamily,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.store
            .replace_record(
                RecordKind::RefreshFamily,
                &next.id,
                &loaded.raw,
                &to_json(next),
                family_ttl(next, now),
            )
            .await
    }

    /// Puts an access token on the revocation list until it expires.
    pub async fn revoke_access_token(
        &self,
        jti: &str,
        until: u64,
        now: u64,
    ) -> Result<(), StoreError> {
        let ttl = Duration::from_secs(until.saturating_sub(now).max(1));
        self.store
            .put_record(RecordKind::RevokedToken, jti, b"1", ttl)
            .await
    }

    /// Whether an access token was revoked.
    pub async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(self
            .store
            .get_record(RecordKind::RevokedToken, jti)
            .await?
            .is_some())
    }
}

/// A family is kept until it expires; a revoked one at least a minute, so a late reuse is
/// still recognised as one.
fn family_ttl(family: &RefreshFamily, now: u64) -> Duration {
    Duration::from_secs(family.expires_at.saturating_sub(now).max(60))
}

fn to_json(value: &impl Serialize) -> Vec<u8> {
    // The records are plain structs of strings and numbers, which always serialise.
    serde_json::to_vec(value).unwrap_or_default()
}

fn from_json<T: DeserializeOwned>(raw: &[u8], what: &str) -> Option<T> {
    match serde_json::from_slice(raw) {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::warn!(%error, record = what, "unreadable record in the session store, ignored");
            None
        }
    }
}
