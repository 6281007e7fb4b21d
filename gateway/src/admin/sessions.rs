//! `GET /sessions[?subject=S]`, `GET /sessions/SID` and `POST /sessions/revoke?sid=|subject=`:
//! the gateway's live sessions for `pforte-admin`, which cannot open the memory store from
//! outside the process. A revocation goes through the gateway's own store, so every replica
//! refuses the session within the revocation bound and the store queues the back-channel logout
//! notice that this process's notifier delivers; each ended session is audited with the admin's
//! name (`by`).

use std::net::SocketAddr;

use pforte_session::Sid;

use super::api::{Revoked, SessionList, SessionView};
use super::query::Query;
use super::reply::AdminError;
use crate::state::Shared;
use crate::telemetry::audit::{self, AuditContext, AuditEvent};

/// `GET /sessions`: every live session, or one subject's.
pub(super) async fn list(shared: &Shared, query: Option<&str>) -> Result<SessionList, AdminError> {
    let query = Query::parse(query, &["subject"])?;
    let subject = match query.get("subject") {
        Some("") => return Err(AdminError::bad("subject", "empty")),
        subject => subject,
    };
    let sessions = shared.sessions.list(subject, shared.clock.now()).await?;
    Ok(SessionList {
        sessions: sessions.iter().map(SessionView::from).collect(),
    })
}

/// `GET /sessions/SID`: one live session, 404 when there is none with that handle.
pub(super) async fn one(shared: &Shared, sid: &str) -> Result<SessionView, AdminError> {
    let sid = parse_sid(sid)?;
    let session = shared.sessions.get_by_sid(&sid, shared.clock.now()).await?;
    session
        .map(|s| SessionView::from(&*s))
        .ok_or_else(|| AdminError::NotFound(format!("no live session {sid}")))
}

/// `POST /sessions/revoke`: ends one session or every session of a subject and answers with
/// the sessions that were live and ended.
pub(super) async fn revoke(
    shared: &Shared,
    peer: SocketAddr,
    query: Option<&str>,
) -> Result<Revoked, AdminError> {
    let query = Query::parse(query, &["sid", "subject", "by"])?;
    let by = query.by()?;
    let store = &shared.sessions;
    let now = shared.clock.now();
    let ended: Vec<SessionView> = match query.one_of(&["sid", "subject"])? {
        ("sid", sid) => {
            let sid = parse_sid(sid)?;
            match store.get_by_sid(&sid, now).await? {
                Some(session) => {
                    if store.revoke(&sid).await? {
                        vec![SessionView::from(&*session)]
                    } else {
                        Vec::new()
                    }
                }
                None => Vec::new(),
            }
        }
        (_, subject) => {
            let live = store.list(Some(subject), now).await?;
            store.revoke_user(subject).await?;
            live.iter().map(SessionView::from).collect()
        }
    };
    for session in &ended {
        audit::record(
            AuditContext {
                request_id: "",
                source: Some(peer.ip()),
            },
            AuditEvent::SessionRevoked {
                subject: &session.subject,
                session: &session.sid,
                by,
            },
        );
    }
    Ok(Revoked { revoked: ended })
}

fn parse_sid(text: &str) -> Result<Sid, AdminError> {
    Sid::parse(text).map_err(|_| AdminError::bad("sid", "16 lower-case hex characters"))
}
