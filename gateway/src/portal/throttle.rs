//! The brute-force throttle as the login host's forms use it: a password, a second factor's
//! code, a passkey assertion or a confirmation are one attempt each, counted per account and
//! per address in the same counters (shared by replicas through the session store).

use pforte_session::{StoreError, Throttle, ThrottleKind, Timestamp};

use crate::login_host::LoginHost;
use crate::telemetry::audit::{self, AuditEvent};

/// One login attempt past the form checks (or a second factor's): what the throttle counts it
/// against.
pub(crate) struct Attempt<'a> {
    /// The user name as typed, trimmed: what is audited and asked of the directory.
    pub(crate) username: &'a str,
    /// The throttle's account key: the user name in lower case.
    pub(crate) account: String,
    /// The throttle's address key: the client's address.
    pub(crate) source: String,
    /// When the attempt was made.
    pub(crate) now: Timestamp,
}

impl<'a> Attempt<'a> {
    /// An attempt for `username` from this request's address.
    pub(crate) fn of(host: &LoginHost<'_>, username: &'a str, now: Timestamp) -> Self {
        Self {
            username,
            account: username.to_lowercase(),
            source: host.ctx.peer.ip().to_canonical().to_string(),
            now,
        }
    }
}

/// Counts a failure against the account and the address; a lock is audited and metered.
pub(crate) async fn record_failure(
    host: &LoginHost<'_>,
    account: &str,
    source: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    for (kind, key) in [
        (ThrottleKind::Account, account),
        (ThrottleKind::Source, source),
    ] {
        if let Throttle::Locked { .. } = host.sessions().record_failure(kind, key, now).await? {
            host.shared.metrics.record_lockout();
            audit::record(
                host.audit_context(),
                AuditEvent::Lockout {
                    scope: kind.as_str(),
                    key,
                },
            );
        }
    }
    Ok(())
}
