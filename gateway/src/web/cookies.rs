//! Pforte's cookies: the session cookie (`__Host-pforte`, on the login host and on each app host
//! the person has opened) and the login form's anti-forgery cookie (`__Host-pforte-csrf`). The
//! `__Host-` prefix makes browsers insist on `Secure`, `Path=/` and no `Domain`, so no other host
//! (not even a sibling subdomain) can set or overwrite them. All are `HttpOnly` and
//! `SameSite=Lax`. Their values never reach an app (see `proxy::identity`) or a log.

use std::time::Duration;

use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};

/// The session cookie.
pub const SESSION: &str = "__Host-pforte";
/// The session cookie for the parent domain (`portal.cookie_domain`), when configured: every
/// host under it sees the session without a hand-over.
pub const DOMAIN_SESSION: &str = "pforte_sso";
/// The login form's anti-forgery cookie.
pub const CSRF: &str = "__Host-pforte-csrf";
/// The id of a passwordless passkey login's ceremony, between its two requests (minutes).
pub const PASSKEY: &str = "__Host-pforte-passkey";
/// The browser's binding to a login sent to a partner's provider, between the start and the
/// callback (minutes): a callback from another browser is refused (login CSRF).
pub const FEDERATION: &str = "__Host-pforte-federation";
/// An app host's proof that this browser asked for the hand-over it receives (see
/// `portal::handover`).
pub const HANDOVER: &str = "__Host-pforte-handover";

/// The values of every cookie called `name` in the request (a browser may send two with the
/// same name; the caller tries each).
pub fn values<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(move |pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key.trim() == name).then(|| value.trim())
        })
}

/// A `Set-Cookie` value that stores `value` for `max_age`.
pub fn set(name: &str, value: &str, max_age: Duration) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={}",
        max_age.as_secs()
    ))
    .ok()
}

/// A `Set-Cookie` value that stores `value` for `max_age` on `domain` and its subdomains.
pub fn set_for_domain(
    name: &str,
    value: &str,
    domain: &str,
    max_age: Duration,
) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{name}={value}; Domain={domain}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={}",
        max_age.as_secs()
    ))
    .ok()
}

/// A `Set-Cookie` value that deletes a domain cookie.
pub fn clear_for_domain(name: &str, domain: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{name}=; Domain={domain}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"
    ))
    .ok()
}

/// A `Set-Cookie` value that deletes the cookie.
pub fn clear(name: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("__Host-pforte=; Path=/; Secure; Max-Age=0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_cookie_of_a_name_and_nothing_else() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; __Host-pforte=one"));
        headers.append(
            COOKIE,
            HeaderValue::from_static("__Host-pforte-csrf=c;__Host-pforte=two"),
        );
        let found: Vec<&str> = values(&headers, SESSION).collect();
        assert_eq!(found, ["one", "two"]);
        assert_eq!(values(&headers, CSRF).collect::<Vec<_>>(), ["c"]);
        assert_eq!(values(&headers, "b").count(), 0);
    }

    #[test]
    fn set_and_clear_carry_the_safe_attributes() {
        let value = set(SESSION, "abc", Duration::from_secs(60)).unwrap();
        assert_eq!(
            value,
            "__Host-pforte=abc; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=60"
        );
        assert!(set(SESSION, "a\r\nb", Duration::ZERO).is_none());
        assert!(clear(CSRF).to_str().unwrap().ends_with("Max-Age=0"));
        assert_eq!(
            set_for_domain(DOMAIN_SESSION, "v", "example.org", Duration::from_secs(5)).unwrap(),
            "pforte_sso=v; Domain=example.org; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=5"
        );
        assert!(
            clear_for_domain(DOMAIN_SESSION, "example.org")
                .unwrap()
                .to_str()
                .unwrap()
                .contains("Domain=example.org; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
        );
    }
}
