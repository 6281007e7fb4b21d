//! The gateway is the only source of identity an app sees. Before a request leaves for an
//! upstream, every client-supplied copy of a protected header is removed ([`HeaderGuard`]), and
//! so are Pforte's own cookies (an app must never see, log or replay the session); then the
//! identity headers the app asked for are set from the session.

use http::header::{self, HeaderMap, HeaderValue};

use super::protected::HeaderGuard;
pub use crate::config::apps::IdentityHeaders;

/// The prefix of every cookie Pforte sets; none of them ever reaches an app.
pub const COOKIE_PREFIXES: [&str; 2] = ["__Host-pforte", "pforte"];

/// A person's identity header values, built once per session (not per request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityValues {
    user: Option<HeaderValue>,
    name: Option<HeaderValue>,
    email: Option<HeaderValue>,
    groups: Option<HeaderValue>,
}

impl IdentityValues {
    /// The values for a person. UTF-8 bytes are valid header bytes (obs-text); a value with a
    /// control character is left out, so a directory value can never split or inject a header.
    pub fn new(username: &str, display_name: &str, email: Option<&str>, groups: &[String]) -> Self {
        let value = |text: &str| HeaderValue::from_bytes(text.as_bytes()).ok();
        Self {
            user: value(username),
            name: value(display_name),
            email: email.and_then(value),
            groups: value(&groups.join(",")),
        }
    }
}

/// Who a request is from, as far as the app is told.
#[derive(Debug, Clone, Copy)]
pub struct Identity<'a> {
    /// The identity header values.
    pub values: &'a IdentityValues,
    /// The signed assertion, for an app that asked for one.
    pub assertion: Option<&'a str>,
}

/// Removes client-supplied protected headers (see [`HeaderGuard`]) and Pforte's cookies. Runs
/// for every proxied request, with or without a session; `trusted_peer` says whether the peer
/// is a trusted proxy.
pub fn strip(headers: &mut HeaderMap, guard: &HeaderGuard, trusted_peer: bool) {
    guard.strip(headers, trusted_peer);
    strip_own_cookies(headers);
}

/// Sets the identity headers for a person.
pub fn set(headers: &mut HeaderMap, names: &IdentityHeaders, identity: Identity<'_>) {
    let values = identity.values;
    for (name, value) in [
        (&names.user, &values.user),
        (&names.name, &values.name),
        (&names.email, &values.email),
        (&names.groups, &values.groups),
    ] {
        if let Some(value) = value {
            headers.insert(name.clone(), value.clone());
        }
    }
    if let (Some(name), Some(assertion)) = (&names.assertion, identity.assertion)
        && let Ok(value) = HeaderValue::from_str(assertion)
    {
        headers.insert(name.clone(), value);
    }
}

/// Drops Pforte's cookies from every `Cookie` header, keeping the app's own; a header left
/// empty is removed.
fn strip_own_cookies(headers: &mut HeaderMap) {
    if !headers.contains_key(header::COOKIE) {
        return;
    }
    let kept: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|pair| !pair.is_empty() && !is_own_cookie(pair))
        .map(str::to_string)
        .collect();
    headers.remove(header::COOKIE);
    if !kept.is_empty()
        && let Ok(value) = HeaderValue::from_str(&kept.join("; "))
    {
        headers.insert(header::COOKIE, value);
    }
}

fn is_own_cookie(pair: &str) -> bool {
    let name = pair.split_once('=').map_or(pair, |(name, _)| name).trim();
    COOKIE_PREFIXES.iter().any(|prefix| {
        name.len() >= prefix.len() && name[..prefix.len()].eq_ignore_ascii_case(prefix)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_identity_and_own_cookies_never_pass() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-user", HeaderValue::from_static("admin"));
        headers.insert("x-remote-user", HeaderValue::from_static("admin"));
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("app=1; __Host-pforte=secret; PFORTE_sso=x"),
        );
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("__host-pforte-csrf=y; b=2"),
        );
        headers.insert("x-pforte-assertion", HeaderValue::from_static("forged"));
        let names = IdentityHeaders {
            user: http::HeaderName::from_static("x-remote-user"),
            assertion: Some(http::HeaderName::from_static("x-pforte-assertion")),
            ..IdentityHeaders::default()
        };
        let guard = HeaderGuard::new(&names, &Default::default());
        strip(&mut headers, &guard, false);
        assert!(headers.get("x-forwarded-user").is_none());
        assert!(headers.get("x-remote-user").is_none());
        assert!(headers.get("x-pforte-assertion").is_none());
        assert_eq!(headers.get(header::COOKIE).unwrap(), "app=1; b=2");

        let mut only_ours = HeaderMap::new();
        only_ours.insert(header::COOKIE, HeaderValue::from_static("__Host-pforte=s"));
        strip(&mut only_ours, &guard, false);
        assert!(only_ours.get(header::COOKIE).is_none());
    }

    #[test]
    fn identity_is_set_from_the_session() {
        let mut headers = HeaderMap::new();
        let groups = vec!["admins".to_string(), "staff".to_string()];
        let values = IdentityValues::new(
            "alice",
            "Alice Liddell-Größe",
            Some("alice@example.org"),
            &groups,
        );
        set(
            &mut headers,
            &IdentityHeaders::default(),
            Identity {
                values: &values,
                assertion: Some("a.b.c"),
            },
        );
        assert_eq!(headers.get("x-forwarded-user").unwrap(), "alice");
        assert_eq!(headers.get("x-forwarded-groups").unwrap(), "admins,staff");
        assert!(
            headers.get("x-pforte-assertion").is_none(),
            "no assertion header unless the app names one"
        );
        assert_eq!(
            headers.get("x-forwarded-name").unwrap().as_bytes(),
            "Alice Liddell-Größe".as_bytes()
        );
        let mut evil = HeaderMap::new();
        let values = IdentityValues::new("eve\r\nx-admin: 1", "Eve", None, &[]);
        set(
            &mut evil,
            &IdentityHeaders::default(),
            Identity {
                values: &values,
                assertion: None,
            },
        );
        assert!(evil.get("x-forwarded-user").is_none());
        assert!(evil.get("x-forwarded-email").is_none());
    }
}
