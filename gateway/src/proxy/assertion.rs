//! Signed identity assertions for apps that ask for one (`identity_headers.assertion` in
//! `apps.toml`): a short-lived JWT signed with the gateway's active key (ES256 by default),
//! audience the app, so an app can verify who the person is against the published JWKS instead of
//! trusting a header. Signing is kept off the hot path: one token per session and app is reused
//! until shortly before it expires.

use std::collections::HashMap;
use std::sync::Mutex;

use pforte_keys::{KeySet, TokenError};
use pforte_session::{Session, Sid};
use serde::Serialize;

/// How long an assertion is valid.
pub const LIFETIME_SECS: u64 = 120;
/// A cached assertion is replaced when it has less than this left.
const RENEW_BEFORE_SECS: u64 = 30;
/// The most assertions kept; past it the cache starts over (a rare re-sign, never a wrong one).
const CAPACITY: usize = 100_000;

/// The claims of an assertion.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    sid: String,
    preferred_username: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    groups: &'a [String],
}

/// Assertions already signed, by session and app.
#[derive(Default)]
pub struct AssertionCache {
    entries: Mutex<HashMap<(Sid, usize), (String, u64)>>,
}

impl AssertionCache {
    /// The assertion for `session` at the app with index `app` (named `audience`), signed by
    /// `keys` now or reused from an earlier request.
    pub fn get(
        &self,
        keys: &KeySet,
        issuer: &str,
        audience: &str,
        app: usize,
        session: &Session,
        now: u64,
    ) -> Result<String, TokenError> {
        let key = (session.sid, app);
        if let Some((token, exp)) = self.lock().get(&key)
            && now + RENEW_BEFORE_SECS < *exp
        {
            return Ok(token.clone());
        }
        let exp = now + LIFETIME_SECS;
        let claims = Claims {
            iss: issuer,
            sub: &session.subject,
            aud: audience,
            iat: now,
            exp,
            sid: session.sid.to_string(),
            preferred_username: &session.username,
            name: &session.display_name,
            email: session.email.as_deref(),
            groups: &session.groups,
        };
        let token = keys.sign(&claims, "JWT")?;
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, (token.clone(), exp));
        Ok(token)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Sid, usize), (String, u64)>> {
        // A panic while holding the lock cannot leave the map inconsistent (each step is one
        // insert or clear), so a poisoned lock is used as it is.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
