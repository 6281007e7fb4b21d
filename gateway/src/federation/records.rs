//! What federation keeps in the session store, so any replica serves any step: the login sent
//! to a provider until its callback, the links of directory people to provider accounts, and
//! which local session each upstream session opened.

use std::time::Duration;

use pforte_federation::identity::{digest_of, hashed};
use pforte_session::{MAX_RECORD_TTL, RecordKind, SessionStore, StoreError};
use serde::{Deserialize, Serialize};

/// How long a person has at the provider before the login must begin again.
pub const PENDING_LOGIN_TTL: Duration = Duration::from_secs(10 * 60);

/// A login sent to a provider, kept under the digest of its `state` until the callback takes
/// it (once: a replayed callback finds nothing).
#[derive(Serialize, Deserialize)]
pub struct PendingLogin {
    /// The provider's id.
    pub provider: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier for the code exchange.
    pub verifier: String,
    /// SHA-256 of the browser's binding cookie: the callback must come from the same browser.
    pub binding: String,
    /// Where the person goes after the login, as checked when it began.
    pub return_to: Option<String>,
    /// The app host's hand-over binding, as the login form carries it.
    pub handover: Option<String>,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// Keeps `login` under its `state`.
pub async fn put_pending(
    store: &SessionStore,
    state: &str,
    login: &PendingLogin,
) -> Result<(), StoreError> {
    let value = serde_json::to_vec(login).map_err(StoreError::Encode)?;
    store
        .put_record(
            RecordKind::FederatedLogin,
            &hashed(state),
            &value,
            PENDING_LOGIN_TTL,
        )
        .await
}

/// Takes the login of `state`, once; `None` when unknown, taken or expired.
pub async fn take_pending(
    store: &SessionStore,
    state: &str,
) -> Result<Option<PendingLogin>, StoreError> {
    let Some(value) = store
        .take_record(RecordKind::FederatedLogin, &hashed(state))
        .await?
    else {
        return Ok(None);
    };
    Ok(serde_json::from_slice(&value).ok())
}

/// The directory subject the provider account (issuer, `sub`) is linked to.
pub async fn linked_subject(
    store: &SessionStore,
    issuer: &str,
    sub: &str,
) -> Result<Option<String>, StoreError> {
    let value = store
        .get_record(RecordKind::FederationLink, &digest_of(issuer, sub))
        .await?;
    Ok(value.and_then(|v| String::from_utf8(v).ok()))
}

/// How an attempt to link ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linked {
    /// The account is linked to the person (now or before).
    Yes,
    /// The person is linked to another account at the same provider.
    Elsewhere,
}

/// Links the provider account (issuer, `sub`) to the directory person `subject`, unless the
/// person is linked to another account there already. The person's side is written first
/// (insert-if-absent), so of two accounts racing to link one person exactly one wins.
pub async fn link(
    store: &SessionStore,
    issuer: &str,
    sub: &str,
    subject: &str,
) -> Result<Linked, StoreError> {
    let person_key = digest_of(issuer, subject);
    let inserted = store
        .insert_record(
            RecordKind::FederationLinked,
            &person_key,
            sub.as_bytes(),
            MAX_RECORD_TTL,
        )
        .await?;
    if !inserted {
        let held = store
            .get_record(RecordKind::FederationLinked, &person_key)
            .await?;
        if held.as_deref() != Some(sub.as_bytes()) {
            return Ok(Linked::Elsewhere);
        }
    }
    store
        .put_record(
            RecordKind::FederationLink,
            &digest_of(issuer, sub),
            subject.as_bytes(),
            MAX_RECORD_TTL,
        )
        .await?;
    Ok(Linked::Yes)
}

/// Remembers that the provider's session `sid` opened the local session `local`, for as long
/// as the local session can live.
pub async fn remember_upstream_session(
    store: &SessionStore,
    issuer: &str,
    sid: &str,
    local: &str,
    ttl: Duration,
) -> Result<(), StoreError> {
    store
        .put_record(
            RecordKind::UpstreamSession,
            &digest_of(issuer, sid),
            local.as_bytes(),
            ttl,
        )
        .await
}

/// The local session the provider's session `sid` opened, taken (a logout ends it once).
pub async fn take_upstream_session(
    store: &SessionStore,
    issuer: &str,
    sid: &str,
) -> Result<Option<String>, StoreError> {
    let value = store
        .take_record(RecordKind::UpstreamSession, &digest_of(issuer, sid))
        .await?;
    Ok(value.and_then(|v| String::from_utf8(v).ok()))
}
