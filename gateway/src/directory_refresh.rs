//! Sessions follow the directory: a session's identity (enabled, username, display name, mail,
//! groups) is read again from the directory once its refresh interval has passed, on its next
//! request (a browser's, a client's refresh, userinfo, introspection), so a person disabled or
//! moved between groups loses what the directory no longer grants within the interval.
//!
//! ```text
//! not due ───────────────────────────────────────────────────────▶ the session as it is
//! due ─▶ claim (one replica asks; the others go on with the last identity)
//!          └▶ directory: the person ─▶ store the identity in place (every replica sees it)
//!                        disabled, deleted ─▶ end the session (back-channel to its clients)
//!                        no answer ─▶ within the grace: the last identity; past it: refused
//! ```
//!
//! A guest (a person who exists only through a partner's provider, see `federation`) is not in
//! the directory and is never re-read: the provider vouched for them at login, their session
//! ends at its timeouts or by the provider's back-channel logout. A person linked to a
//! directory account through a provider is re-read like everybody else.
//!
//! The claim is a record in the session store that only one replica can insert, so N replicas
//! cost the directory one re-read per session and interval, not N. A claim whose holder died is
//! taken over once it is older than [`CLAIM_FOR`] (by the gateway's clock), and a failed re-read
//! keeps its claim, so during an outage each session asks the directory at most once per
//! [`CLAIM_FOR`], not once per request.

use std::sync::Arc;
use std::time::Duration;

use pforte_directory::{Directory, UserRecord};
use pforte_session::{Identity, RecordKind, Session, SessionStore, StoreError, Timestamp};

use crate::config::DirectoryRefresh;
use crate::telemetry::audit::{self, AuditContext, AuditEvent};
use crate::telemetry::metrics::{Metrics, RefreshResult};
use crate::web::error::GatewayError;

/// How long a replica's claim to re-read a session keeps the others from doing the same; also
/// the spacing of retries while the directory does not answer.
pub const CLAIM_FOR: Duration = Duration::from_secs(15);

/// Who ends a session whose person the directory no longer has, in the audit log.
pub const ENDED_BY: &str = "directory: account disabled or deleted";

/// What a session's refresh needs of the gateway.
pub struct Refresher<'a> {
    /// Where the session and the claim live.
    pub store: &'a SessionStore,
    /// The directory, `None` when none is configured (then nobody logged in and nothing is
    /// re-read).
    pub directory: Option<&'a Directory>,
    /// The interval and the grace in force.
    pub settings: DirectoryRefresh,
    /// Where each refresh is counted.
    pub metrics: &'a Metrics,
    /// The request the refresh happens in, for the audit log.
    pub audit: AuditContext<'a>,
}

/// A session as it may be used now.
pub enum Current {
    /// The session, with the identity the directory gave within the interval (or, during an
    /// outage, within the grace).
    Live(Arc<Session>),
    /// The directory no longer has the person enabled: the session is ended.
    Ended,
}

/// Why a session cannot be used now although it is live.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The session store did not answer.
    #[error(transparent)]
    Sessions(#[from] StoreError),
    /// The directory has not answered past the refresh's grace: the identity is too old to
    /// decide on, and the request is refused until the directory answers.
    #[error("the directory has not answered for longer than the refresh grace")]
    DirectoryUnavailable,
}

impl Refresher<'_> {
    /// `session` as it may be used at `now`: as it is when its identity is recent, else with
    /// the identity the directory gives now (see the module's description).
    pub async fn current(
        &self,
        session: Arc<Session>,
        now: Timestamp,
    ) -> Result<Current, RefreshError> {
        let due = session.identity_refreshed.plus(self.settings.interval);
        if session.federated.as_ref().is_some_and(|f| f.guest) {
            return Ok(Current::Live(session));
        }
        match self.directory {
            Some(directory) if now >= due => {
                // Boxed: the directory's and the store's futures are large, and every
                // request's future (moved into place by the server) would carry them
                // otherwise, though only one request per session and interval runs them.
                Box::pin(self.refresh(directory, session, due, now)).await
            }
            _ => Ok(Current::Live(session)),
        }
    }

    /// Reads the person again (the session is due at `due`).
    async fn refresh(
        &self,
        directory: &Directory,
        session: Arc<Session>,
        due: Timestamp,
        now: Timestamp,
    ) -> Result<Current, RefreshError> {
        if !self.claim(&session, now).await? {
            return self.last_known(session, due, now, false);
        }
        match directory.find_by_subject(&session.subject).await {
            Ok(Some(person)) => self.refreshed(&session, person, now).await,
            Ok(None) => self.end(&session).await,
            Err(error) => {
                tracing::warn!(%error, session = %session.sid, "the directory did not answer a session's identity refresh");
                self.metrics
                    .record_identity_refresh(RefreshResult::Unavailable);
                self.last_known(session, due, now, true)
            }
        }
    }

    /// Takes this session's refresh claim: inserted where none is, or taken over from a claim
    /// older than [`CLAIM_FOR`]. `false`: another request or replica holds a recent one.
    async fn claim(&self, session: &Session, now: Timestamp) -> Result<bool, StoreError> {
        let key = session.sid.to_string();
        let stamp = now.unix_secs().to_string();
        let kind = RecordKind::IdentityRefresh;
        if self
            .store
            .insert_record(kind, &key, stamp.as_bytes(), CLAIM_FOR)
            .await?
        {
            return Ok(true);
        }
        let Some(held) = self.store.get_record(kind, &key).await? else {
            // Gone between the two calls: its holder finished; the next request tries again.
            return Ok(false);
        };
        let since = std::str::from_utf8(&held)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .map_or(Timestamp::from_unix_secs(0), Timestamp::from_unix_secs);
        if now < since.plus(CLAIM_FOR) {
            return Ok(false);
        }
        self.store
            .replace_record(kind, &key, &held, stamp.as_bytes(), CLAIM_FOR)
            .await
    }

    /// The last identity while the grace lasts, then a refusal; audited by the request that
    /// `asked` the directory (one per session and claim), not by every refused request.
    fn last_known(
        &self,
        session: Arc<Session>,
        due: Timestamp,
        now: Timestamp,
        asked: bool,
    ) -> Result<Current, RefreshError> {
        if now < due.plus(self.settings.grace) {
            return Ok(Current::Live(session));
        }
        self.metrics.record_identity_refresh(RefreshResult::Refused);
        if asked {
            audit::record(
                self.audit,
                AuditEvent::IdentityStale {
                    subject: &session.subject,
                    session: &session.sid.to_string(),
                    due_since: due.unix_secs(),
                },
            );
        }
        Err(RefreshError::DirectoryUnavailable)
    }

    /// Writes the directory's answer into the session (on every replica), auditing a change.
    async fn refreshed(
        &self,
        session: &Session,
        person: UserRecord,
        now: Timestamp,
    ) -> Result<Current, RefreshError> {
        let identity = Identity {
            username: person.username,
            display_name: person.display_name,
            email: person.email,
            groups: person.groups,
        };
        let changed = identity != session.identity();
        if changed {
            let sid = session.sid.to_string();
            let (added, removed) = group_changes(&session.groups, &identity.groups);
            audit::record(
                self.audit,
                AuditEvent::IdentityChanged {
                    subject: &session.subject,
                    session: &sid,
                    added: &added,
                    removed: &removed,
                },
            );
        }
        self.metrics.record_identity_refresh(if changed {
            RefreshResult::Changed
        } else {
            RefreshResult::Unchanged
        });
        Ok(
            match self
                .store
                .refresh_identity(&session.sid, identity, now)
                .await?
            {
                Some(refreshed) => Current::Live(refreshed),
                None => Current::Ended,
            },
        )
    }

    /// Ends the session of a person the directory no longer has enabled; the store queues the
    /// back-channel logout of its clients with the revocation.
    async fn end(&self, session: &Session) -> Result<Current, RefreshError> {
        if self.store.revoke(&session.sid).await? {
            audit::record(
                self.audit,
                AuditEvent::SessionRevoked {
                    subject: &session.subject,
                    session: &session.sid.to_string(),
                    by: ENDED_BY,
                },
            );
            self.metrics.record_identity_refresh(RefreshResult::Ended);
        }
        Ok(Current::Ended)
    }
}

impl From<RefreshError> for GatewayError {
    fn from(error: RefreshError) -> Self {
        match error {
            RefreshError::Sessions(e) => Self::Sessions(e),
            RefreshError::DirectoryUnavailable => Self::DirectoryUnavailable,
        }
    }
}

/// The groups in `after` but not in `before`, and the other way round, comma-separated.
fn group_changes(before: &[String], after: &[String]) -> (String, String) {
    let missing_from = |list: &[String], other: &[String]| {
        list.iter()
            .filter(|g| !other.contains(g))
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(",")
    };
    (missing_from(after, before), missing_from(before, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn group_changes_name_what_was_gained_and_lost() {
        let before = names(&["finance", "staff"]);
        let after = names(&["board", "staff"]);
        assert_eq!(
            group_changes(&before, &after),
            ("board".to_owned(), "finance".to_owned())
        );
        assert_eq!(
            group_changes(&before, &before),
            (String::new(), String::new())
        );
    }
}
