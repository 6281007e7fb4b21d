//! Who is asking: the session cookie, if any, names a live SSO session. One local lookup for a
//! valid session (the store's in-process cache); a Redis round trip only on a cache miss or when
//! the idle clock is due to be written; an LDAP call only when the session's identity is due to
//! be read again (`directory_refresh`, every few minutes per session). What the later stages need of the
//! session (the subject interned for the policy, the identity header values) is prepared once per
//! session and policy and reused, so a request with a session allocates no more than one without.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use http::HeaderMap;
use pforte_session::{Session, SessionId, Sid, Timestamp};

use crate::directory_refresh::{Current, RefreshError, Refresher};

use crate::policy::engine::{Policy, Subject};
use crate::proxy::identity::IdentityValues;
use crate::web::cookies;

/// A request's live session and the id its cookie carried.
pub struct Visitor {
    /// The id from the cookie (needed to log out and to hand the session to an app host).
    pub id: SessionId,
    /// The session.
    pub session: Arc<Session>,
}

/// The live session named by the request's session cookie: the host's own (`__Host-`, which no
/// other host can set), then, only when `domain_cookie` is on (`portal.cookie_domain` is set),
/// the parent domain's. Without a cookie domain a `pforte_sso` cookie is never read: any
/// sibling host could have planted it (cookie tossing) to log the visitor in as someone else.
/// A malformed, unknown or expired cookie is no session, and so is one whose person the
/// directory no longer has (the refresher ends it); a store that cannot answer, or a directory
/// silent past the refresh grace, is an error (the request gets 503, never a login page that
/// would hide the outage).
pub async fn identify(
    refresher: &Refresher<'_>,
    headers: &HeaderMap,
    domain_cookie: bool,
    now: Timestamp,
) -> Result<Option<Visitor>, RefreshError> {
    let store = refresher.store;
    let host_only = cookies::values(headers, cookies::SESSION);
    let domain_wide = domain_cookie
        .then(|| cookies::values(headers, cookies::DOMAIN_SESSION))
        .into_iter()
        .flatten();
    for value in host_only.chain(domain_wide) {
        let Ok(id) = SessionId::parse(value) else {
            continue;
        };
        let Some(found) = store.get(&id, now).await? else {
            continue;
        };
        if let Current::Live(session) = refresher.current(found, now).await? {
            store.touch(&session, now).await?;
            return Ok(Some(Visitor { id, session }));
        }
    }
    Ok(None)
}

/// A session as the policy and the proxy use it.
pub struct Prepared {
    /// The session it was made from.
    pub session: Arc<Session>,
    /// The person, interned for the policy in force when it was made.
    pub subject: Subject,
    /// The identity header values.
    pub values: IdentityValues,
}

/// The most prepared sessions kept; past it the cache starts over (a rebuild, never a wrong
/// answer).
const CAPACITY: usize = 100_000;

/// Prepared sessions by handle.
#[derive(Default)]
pub struct PreparedCache {
    entries: Mutex<HashMap<Sid, Arc<Prepared>>>,
}

impl PreparedCache {
    /// The prepared form of `session` for `policy`: reused while the store hands out the same
    /// session and the policy has not been reloaded, made anew otherwise.
    pub fn get(&self, session: &Arc<Session>, policy: &Policy) -> Arc<Prepared> {
        if let Some(prepared) = self.lock().get(&session.sid)
            && Arc::ptr_eq(&prepared.session, session)
            && prepared.subject.is_interned_for(policy)
        {
            return Arc::clone(prepared);
        }
        let prepared = Arc::new(Prepared {
            session: Arc::clone(session),
            subject: policy.subject(&session.username, &session.groups, session.login),
            values: IdentityValues::new(
                &session.username,
                &session.display_name,
                session.email.as_deref(),
                &session.groups,
            ),
        });
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(session.sid, Arc::clone(&prepared));
        prepared
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Sid, Arc<Prepared>>> {
        // Every change is one insert or clear: a poisoned lock holds a consistent map.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::engine::LoginStrength;
    use std::net::{IpAddr, Ipv4Addr};

    fn session(groups: &[&str]) -> Arc<Session> {
        let now = Timestamp::from_unix_secs(1_000);
        let clock = pforte_session::Clock::manual(now);
        let store = pforte_session::MemoryStore::new(Default::default(), Default::default(), clock);
        let new = pforte_session::NewSession {
            subject: "s-1".into(),
            username: "alice".into(),
            display_name: "Alice".into(),
            email: None,
            groups: groups.iter().map(|g| (*g).to_string()).collect(),
            login: LoginStrength::Password,
            methods: vec![pforte_session::AuthMethod::Password],
            auth_time: now,
            source: IpAddr::V4(Ipv4Addr::LOCALHOST),
            device: None,
            federated: None,
        };
        store.create(new, now).unwrap().1
    }

    fn policy() -> Policy {
        let dir = tempfile::tempdir().unwrap();
        let entry = dir.path().join("policy.toml");
        std::fs::write(
            &entry,
            "[[rule]]\napps = [\"a\"]\nallow = [\"group:staff\"]\n",
        )
        .unwrap();
        let apps = [crate::policy::engine::AppSummary {
            name: "a".into(),
            hosts: vec!["a.test".into()],
            path_prefix: String::new(),
            display_name: "A".into(),
            icon: None,
        }];
        crate::policy::engine::load(&entry, &apps).unwrap().policy
    }

    #[test]
    fn a_prepared_session_is_reused_until_the_session_or_the_policy_changes() {
        let cache = PreparedCache::default();
        let (first_policy, alice) = (policy(), session(&["staff"]));
        let a = cache.get(&alice, &first_policy);
        let b = cache.get(&alice, &first_policy);
        assert!(Arc::ptr_eq(&a, &b), "the same session and policy: reused");
        let reloaded = policy();
        let c = cache.get(&alice, &reloaded);
        assert!(!Arc::ptr_eq(&a, &c), "a reloaded policy interns anew");
        assert!(c.subject.is_interned_for(&reloaded));
        let touched = Arc::new((*alice).clone());
        let d = cache.get(&touched, &reloaded);
        assert!(
            !Arc::ptr_eq(&c, &d),
            "a session the store replaced is prepared anew"
        );
    }
}
