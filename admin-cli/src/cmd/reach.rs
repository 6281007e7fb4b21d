//! Where the sessions are, for every command that reads or ends them (`sessions`, `users show`,
//! `users unlock`, `users disable|delete`):
//!
//! ```text
//! [sessions] store = "redis"   ─▶ Place::Store: the shared store, opened by this process;
//!                                 this tool audits what it ends
//! [sessions] store = "memory"  ─▶ Place::Gateway: the running gateway's admin listener
//!                                 ([admin] listen and token), which acts in its own store and
//!                                 audits with this admin's name
//! ```
//!
//! Either way a revocation is the store's: every replica refuses the session within the
//! revocation bound, and the store queues the back-channel logout notice that a gateway delivers
//! to the session's OpenID Connect clients. A memory-store gateway that does not answer is an
//! error, never "no sessions".

use pforte::admin::api::{LockState, LockView, Revoked, SessionList, SessionView, Unlocked};
use pforte::telemetry::audit::AuditEvent;
use pforte_session::{Backend, Clock, SessionStore, Sid, ThrottleKind, Timestamp};

use super::Ctx;
use crate::audit;
use crate::error::CmdError;
use crate::listener::{Listener, with_query};

/// The sessions of the gateway this tool's config describes.
pub struct SessionsAt {
    place: Place,
    /// The admin, for the audit log.
    by: String,
}

enum Place {
    /// Redis: shared by every replica, reachable from here (boxed: the store is large and
    /// made once per run).
    Store(Box<SessionStore>),
    /// The memory store inside the running gateway, through its admin listener.
    Gateway(Listener),
}

impl SessionsAt {
    /// Opens the Redis store (which must answer), or for the memory store names the gateway's
    /// listener (asked on first use).
    pub async fn open(ctx: &Ctx) -> Result<Self, CmdError> {
        let config = ctx.config()?;
        let place = match config.sessions.backend {
            Backend::Memory => Place::Gateway(Listener::new(&config.admin)),
            Backend::Redis(_) => {
                let store = pforte::backends::open_sessions(config, Clock::system()).await?;
                Place::Store(Box::new(store))
            }
        };
        Ok(Self {
            place,
            by: ctx.by.clone(),
        })
    }

    /// Where the sessions are, for messages.
    pub fn describe(&self) -> String {
        match &self.place {
            Place::Store(_) => "the Redis session store".into(),
            Place::Gateway(listener) => {
                format!(
                    "the gateway's memory store (admin listener {})",
                    listener.addr()
                )
            }
        }
    }

    /// The live sessions, of one subject or of everybody, oldest first.
    pub async fn list(&self, subject: Option<&str>) -> Result<Vec<SessionView>, CmdError> {
        Ok(match &self.place {
            Place::Store(store) => views(store.list(subject, now()).await?),
            Place::Gateway(listener) => {
                let path = match subject {
                    Some(subject) => with_query("/sessions", &[("subject", subject)]),
                    None => "/sessions".into(),
                };
                listener.get::<SessionList>(&path).await?.sessions
            }
        })
    }

    /// One live session, `None` when there is none with that id.
    pub async fn get(&self, sid: &Sid) -> Result<Option<SessionView>, CmdError> {
        match &self.place {
            Place::Store(store) => Ok(store
                .get_by_sid(sid, now())
                .await?
                .map(|s| SessionView::from(&*s))),
            Place::Gateway(listener) => match listener.get(&format!("/sessions/{sid}")).await {
                Ok(view) => Ok(Some(view)),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e.into()),
            },
        }
    }

    /// Ends one session; returns it if it was live (audited as `session_revoked`).
    pub async fn revoke(&self, sid: &Sid) -> Result<Vec<SessionView>, CmdError> {
        match &self.place {
            Place::Store(store) => {
                let ended = match store.get_by_sid(sid, now()).await? {
                    Some(session) => {
                        if store.revoke(sid).await? {
                            vec![SessionView::from(&*session)]
                        } else {
                            Vec::new()
                        }
                    }
                    None => Vec::new(),
                };
                Ok(self.audited(ended))
            }
            Place::Gateway(listener) => {
                let sid = sid.to_string();
                let path = with_query("/sessions/revoke", &[("sid", &sid), ("by", &self.by)]);
                Ok(listener.post::<Revoked>(&path).await?.revoked)
            }
        }
    }

    /// Ends every session of one subject; returns those that were live (each audited).
    pub async fn revoke_subject(&self, subject: &str) -> Result<Vec<SessionView>, CmdError> {
        match &self.place {
            Place::Store(store) => {
                let live = views(store.list(Some(subject), now()).await?);
                store.revoke_user(subject).await?;
                Ok(self.audited(live))
            }
            Place::Gateway(listener) => {
                let path = with_query(
                    "/sessions/revoke",
                    &[("subject", subject), ("by", &self.by)],
                );
                Ok(listener.post::<Revoked>(&path).await?.revoked)
            }
        }
    }

    /// The brute-force counter of an account (the name is lower-cased, as the login page
    /// counts it).
    pub async fn lock(&self, account: &str) -> Result<LockState, CmdError> {
        let account = account.to_lowercase();
        match &self.place {
            Place::Store(store) => Ok(store
                .check(ThrottleKind::Account, &account, now())
                .await?
                .into()),
            Place::Gateway(listener) => {
                let path = with_query("/locks", &[("account", &account)]);
                Ok(listener.get::<LockView>(&path).await?.lock)
            }
        }
    }

    /// Clears an account's counter (audited as `unlock`); returns the lower-cased name.
    pub async fn unlock(&self, account: &str) -> Result<String, CmdError> {
        let account = account.to_lowercase();
        match &self.place {
            Place::Store(store) => {
                store.clear(ThrottleKind::Account, &account).await?;
                audit::record(AuditEvent::Unlock {
                    scope: ThrottleKind::Account.as_str(),
                    key: &account,
                    by: &self.by,
                });
                Ok(account)
            }
            Place::Gateway(listener) => {
                let path = with_query("/unlock", &[("account", &account), ("by", &self.by)]);
                Ok(listener.post::<Unlocked>(&path).await?.key)
            }
        }
    }

    /// Writes `session_revoked` for each session this process ended itself.
    fn audited(&self, ended: Vec<SessionView>) -> Vec<SessionView> {
        for session in &ended {
            audit::record(AuditEvent::SessionRevoked {
                subject: &session.subject,
                session: &session.sid,
                by: &self.by,
            });
        }
        ended
    }
}

fn views(sessions: Vec<pforte_session::Session>) -> Vec<SessionView> {
    sessions.iter().map(SessionView::from).collect()
}

/// The time commands act at: the system clock's, which the gateway's stores keep too.
fn now() -> Timestamp {
    Clock::system().now()
}
