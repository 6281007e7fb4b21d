//! Who is asking: the session cookie, if any, names a live SSO session. One local lookup for a
//! valid session (the store's in-process cache); a Redis round trip only on a cache miss or when
//! the idle clock is due to be written, and never an LDAP call.

use std::sync::Arc;

use http::HeaderMap;
use pforte_session::{Session, SessionId, SessionStore, StoreError, Timestamp};

use crate::portal::cookies;

/// A request's live session and the id its cookie carried.
pub struct Visitor {
    /// The id from the cookie (needed to log out and to hand the session to an app host).
    pub id: SessionId,
    /// The session.
    pub session: Arc<Session>,
}

/// The live session named by the request's session cookie (the host's own, or the parent
/// domain's when `portal.cookie_domain` is set). A malformed, unknown or expired
/// cookie is no session; a store that cannot answer is an error (the request gets 503, never a
/// login page that would hide the outage).
pub async fn identify(
    store: &SessionStore,
    headers: &HeaderMap,
    now: Timestamp,
) -> Result<Option<Visitor>, StoreError> {
    let host_only = cookies::values(headers, cookies::SESSION);
    let domain_wide = cookies::values(headers, cookies::DOMAIN_SESSION);
    for value in host_only.chain(domain_wide) {
        let Ok(id) = SessionId::parse(value) else {
            continue;
        };
        if let Some(session) = store.get(&id, now).await? {
            store.touch(&session, now).await?;
            return Ok(Some(Visitor { id, session }));
        }
    }
    Ok(None)
}
