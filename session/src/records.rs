//! The OIDC provider's short-lived state, kept in the session store so that any replica can
//! serve any step of a flow: authorization codes, refresh-token families, revocations, and the
//! queue of ended sessions whose OIDC clients must hear of the logout. Second factors keep
//! their short-lived state here too, for the same reason: the last accepted TOTP step, WebAuthn
//! ceremonies and TOTP enrolments waiting for their confirming code.
//!
//! The store treats a record as opaque bytes under a caller's key (a digest, a family id, a
//! `jti`) in one of the [`RecordKind`] key spaces, with a time to live. What the bytes mean is
//! the `oidc` crate's business; the store only promises the atomic steps the protocol needs:
//! single use ([`crate::SessionStore::take_record`]) and compare-and-set
//! ([`crate::SessionStore::replace_record`]).
//!
//! # Logout notices
//!
//! When a session that handed tokens to OIDC clients ends by revocation (logout, the admin's
//! `sessions revoke`, `revoke_user`), the revocation itself enqueues a [`LogoutNotice`] in the
//! same atomic step, whichever process made it (a gateway, or the admin CLI talking to Redis).
//! A gateway task drains the queue with [`crate::SessionStore::next_logout`]: each notice goes
//! to exactly one taker. The queue keeps at most [`LOGOUT_QUEUE_CAP`] notices (the oldest are
//! dropped beyond that), so a Redis that no gateway drains cannot grow without bound.

use std::time::Duration;

use serde::Deserialize;

use crate::error::StoreError;
use crate::id::Sid;

/// The longest key a record may have, in bytes: ample for a digest or an id, and small
/// enough that a caller passing untrusted input straight through cannot bloat the store.
pub const MAX_RECORD_KEY_BYTES: usize = 256;

/// The most logout notices the queue keeps; beyond that the oldest are dropped. Ten thousand
/// notices are hours of logouts for a large organisation, yet a few megabytes of Redis.
pub const LOGOUT_QUEUE_CAP: usize = 10_000;

/// The longest time to live a record gets (ten years); longer ones are cut to it, so that no
/// TTL overflows Redis's millisecond clock.
pub const MAX_RECORD_TTL: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// The longest [`crate::SessionStore::next_logout`] waits in one call; longer waits are cut to
/// it, so a deadline never overflows the clock. The caller calls again anyway.
pub const MAX_LOGOUT_WAIT: Duration = Duration::from_secs(3600);

/// Key spaces of the short-lived records (OIDC, second factors): a key in one kind never meets
/// the same key in another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    /// An issued authorization code waiting to be exchanged, under its digest.
    AuthorizationCode,
    /// A code already exchanged, remembered so a replay can revoke what it issued.
    RedeemedCode,
    /// A refresh-token family's state, under the family id.
    RefreshFamily,
    /// A revoked token (such as an access token's `jti`), until it would have expired anyway.
    RevokedToken,
    /// An authorization request sent to the login form with `prompt=login`: when it first
    /// arrived, under the digest of the id its return URL carries.
    PendingLogin,
    /// The last TOTP time step accepted for a person, under their subject: a code once
    /// accepted is refused for the rest of its window on every replica.
    TotpStep,
    /// A WebAuthn ceremony's server-side state between its two requests, under a random id,
    /// so a ceremony begun on one replica finishes on another.
    Ceremony,
    /// A TOTP secret waiting for the code that confirms its enrolment, under the sid of the
    /// session enrolling it.
    Enrolment,
    /// A replica's claim to re-read a session's identity from the directory, under the sid,
    /// so replicas do not each ask the directory for the same session.
    IdentityRefresh,
    /// A pushed authorization request (RFC 9126) waiting for its code, under the digest of
    /// the handle its `request_uri` carries.
    PushedRequest,
    /// A `private_key_jwt` client assertion's `jti` (RFC 7523 §3), under the digest of client
    /// and id, until the assertion expires: an assertion authenticates once.
    AssertionId,
    /// A device authorization (RFC 8628) waiting for its person's decision and then for the
    /// device's poll, under the digest of its device code.
    DeviceGrant,
    /// The user code of a device authorization, normalised, naming the digest of its device
    /// code: what the verification page finds the device by.
    UserCode,
    /// A login sent to an upstream provider (federation), waiting for its callback: provider,
    /// nonce, PKCE verifier, return URL and browser binding, under the digest of its `state`.
    FederatedLogin,
    /// A directory person linked to a provider's account, under the digest of (issuer, `sub`):
    /// the local subject. Kept long (it is an identity, not a step of a flow).
    FederationLink,
    /// The provider account a directory person is linked to, under the digest of (issuer, local
    /// subject): the upstream `sub`, so a second account at the same provider cannot link too.
    FederationLinked,
    /// The local session an upstream provider's session (`sid`) opened, under the digest of
    /// (issuer, sid): what the provider's back-channel logout names.
    UpstreamSession,
}

impl RecordKind {
    /// The kind's part of a Redis key name; documented in the Redis store's key table.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "code",
            Self::RedeemedCode => "redeemed",
            Self::RefreshFamily => "family",
            Self::RevokedToken => "revoked",
            Self::PendingLogin => "pending",
            Self::TotpStep => "totp-step",
            Self::Ceremony => "ceremony",
            Self::Enrolment => "enrolment",
            Self::IdentityRefresh => "identity-refresh",
            Self::PushedRequest => "pushed",
            Self::AssertionId => "assertion-jti",
            Self::DeviceGrant => "device",
            Self::UserCode => "user-code",
            Self::FederatedLogin => "federated-login",
            Self::FederationLink => "federation-link",
            Self::FederationLinked => "federation-linked",
            Self::UpstreamSession => "upstream-session",
        }
    }
}

/// A session that was ended (logout, admin revocation) while OIDC clients held tokens from it:
/// the clients to send back-channel logout tokens to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutNotice {
    /// The ended session (the `sid` claim of the logout token).
    pub sid: Sid,
    /// The directory's id of its person, before any pairwise mapping (the `sub` claim).
    pub subject: String,
    /// The OIDC clients that received tokens from the session, sorted, never empty.
    pub clients: Vec<String>,
}

/// Refuses keys the store will not file: longer than [`MAX_RECORD_KEY_BYTES`].
pub(crate) fn check_key(key: &str) -> Result<(), StoreError> {
    if key.len() > MAX_RECORD_KEY_BYTES {
        return Err(StoreError::RecordKeyTooLong { bytes: key.len() });
    }
    Ok(())
}

/// The time to live both backends apply: at least 1 ms (Redis refuses 0), at most
/// [`MAX_RECORD_TTL`].
pub(crate) fn clamp_ttl(ttl: Duration) -> Duration {
    ttl.clamp(Duration::from_millis(1), MAX_RECORD_TTL)
}

/// [`clamp_ttl`] in whole milliseconds, for Redis's `PX` and `PEXPIRE`.
pub(crate) fn ttl_millis(ttl: Duration) -> u64 {
    // At most ten years of milliseconds: far below u64::MAX, so the cast cannot truncate.
    u64::try_from(clamp_ttl(ttl).as_millis()).unwrap_or(u64::MAX)
}

/// A notice as the Redis revocation scripts write it (`cjson.encode`): one-letter names.
#[derive(Deserialize)]
struct StoredNotice {
    s: String,
    u: String,
    c: Vec<String>,
}

/// Why a queued notice could not be read back.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BadNotice {
    /// Not the JSON the scripts write.
    #[error("not a notice: {0}")]
    Json(#[from] serde_json::Error),
    /// The sid is not 16 hex digits.
    #[error("bad sid: {0}")]
    Sid(#[from] crate::id::IdError),
    /// A notice without clients is never written.
    #[error("no clients")]
    NoClients,
}

/// Reads a notice from its queued form.
pub(crate) fn decode_notice(bytes: &[u8]) -> Result<LogoutNotice, BadNotice> {
    let stored: StoredNotice = serde_json::from_slice(bytes)?;
    if stored.c.is_empty() {
        return Err(BadNotice::NoClients);
    }
    Ok(LogoutNotice {
        sid: Sid::parse(&stored.s)?,
        subject: stored.u,
        clients: stored.c,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_up_to_the_limit_are_accepted_and_longer_ones_refused() {
        assert!(check_key("").is_ok());
        assert!(check_key(&"k".repeat(MAX_RECORD_KEY_BYTES)).is_ok());
        let long = "é".repeat(MAX_RECORD_KEY_BYTES / 2 + 1);
        assert!(matches!(
            check_key(&long),
            Err(StoreError::RecordKeyTooLong { bytes }) if bytes == long.len()
        ));
    }

    #[test]
    fn ttls_are_kept_between_a_millisecond_and_ten_years() {
        assert_eq!(ttl_millis(Duration::ZERO), 1);
        assert_eq!(ttl_millis(Duration::from_micros(1500)), 1);
        assert_eq!(ttl_millis(Duration::from_secs(60)), 60_000);
        assert_eq!(ttl_millis(Duration::MAX), 315_360_000_000);
        assert_eq!(clamp_ttl(Duration::MAX), MAX_RECORD_TTL);
    }

    #[test]
    fn every_kind_has_its_own_key_space() {
        let kinds = [
            RecordKind::AuthorizationCode,
            RecordKind::RedeemedCode,
            RecordKind::RefreshFamily,
            RecordKind::RevokedToken,
            RecordKind::PendingLogin,
            RecordKind::TotpStep,
            RecordKind::Ceremony,
            RecordKind::Enrolment,
            RecordKind::IdentityRefresh,
            RecordKind::PushedRequest,
            RecordKind::AssertionId,
            RecordKind::DeviceGrant,
            RecordKind::UserCode,
            RecordKind::FederatedLogin,
            RecordKind::FederationLink,
            RecordKind::FederationLinked,
            RecordKind::UpstreamSession,
        ];
        // No wildcard: a new kind does not compile until it is named here, next to the list.
        for kind in kinds {
            match kind {
                RecordKind::AuthorizationCode
                | RecordKind::RedeemedCode
                | RecordKind::RefreshFamily
                | RecordKind::RevokedToken
                | RecordKind::PendingLogin
                | RecordKind::TotpStep
                | RecordKind::Ceremony
                | RecordKind::Enrolment
                | RecordKind::IdentityRefresh
                | RecordKind::PushedRequest
                | RecordKind::AssertionId
                | RecordKind::DeviceGrant
                | RecordKind::UserCode
                | RecordKind::FederatedLogin
                | RecordKind::FederationLink
                | RecordKind::FederationLinked
                | RecordKind::UpstreamSession => {}
            }
        }
        let mut names: Vec<_> = kinds.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), kinds.len());
    }

    #[test]
    fn a_notice_reads_back_as_the_scripts_write_it() {
        let written = br#"{"s":"0123456789abcdef","u":"uuid\/1 \u00e9","c":["mail","wiki"]}"#;
        let notice = decode_notice(written).unwrap();
        assert_eq!(notice.sid.to_string(), "0123456789abcdef");
        assert_eq!(notice.subject, "uuid/1 é");
        assert_eq!(notice.clients, ["mail", "wiki"]);
    }

    #[test]
    fn damaged_notices_are_errors_not_panics() {
        for bad in [
            &b""[..],
            b"null",
            br#"{"s":"0123456789abcdef","u":"x","c":{}}"#,
            br#"{"s":"0123456789abcdef","u":"x","c":[]}"#,
            br#"{"s":"xyz","u":"x","c":["mail"]}"#,
            b"\xff\xfe",
        ] {
            assert!(decode_notice(bad).is_err());
        }
    }
}
