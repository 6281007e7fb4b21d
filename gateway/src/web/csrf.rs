//! Anti-forgery for the login host's forms (login, logout): the double-submit pattern. The
//! form carries a random token that must equal the `__Host-pforte-csrf` cookie; another site can
//! make a browser post a form but can neither read nor set that cookie (`__Host-`, `SameSite`).
//! On top, a request whose `Origin` or `Sec-Fetch-Site` says it came from another site is
//! refused outright. Tokens are compared in constant time.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Response, header};
use subtle::ConstantTimeEq;

use super::cookies;

/// How long a shown form may be posted back.
pub const FORM_LIFETIME: Duration = Duration::from_secs(3600);

/// Sets the cookie that `token`, carried by the page's forms, must match when they are posted,
/// valid for `lifetime`.
pub fn with_cookie(
    mut response: Response<Bytes>,
    token: &str,
    lifetime: Duration,
) -> Response<Bytes> {
    if let Some(cookie) = cookies::set(cookies::CSRF, token, lifetime) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// A new random token (256 bits from the operating system's generator, hex).
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a form post may be trusted: it comes from `login_origin` (or says nothing about its
/// origin) and its `token` equals the cookie.
pub fn check(headers: &HeaderMap, token: &str, login_origin: &str) -> bool {
    if headers
        .get(http::header::ORIGIN)
        .is_some_and(|origin| origin.as_bytes() != login_origin.as_bytes())
    {
        return false;
    }
    if headers
        .get("sec-fetch-site")
        .is_some_and(|site| !matches!(site.as_bytes(), b"same-origin" | b"none"))
    {
        return false;
    }
    if token.len() != 64 {
        return false;
    }
    cookies::values(headers, cookies::CSRF)
        .any(|cookie| bool::from(cookie.as_bytes().ct_eq(token.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const ORIGIN: &str = "https://login.example.org";

    fn with_cookie(token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            HeaderValue::from_str(&format!("{}={token}", cookies::CSRF)).unwrap(),
        );
        headers
    }

    #[test]
    fn the_token_must_match_the_cookie() {
        let token = new_token();
        assert_eq!(token.len(), 64);
        assert_ne!(token, new_token());
        assert!(check(&with_cookie(&token), &token, ORIGIN));
        assert!(!check(&with_cookie(&token), &new_token(), ORIGIN));
        assert!(!check(&HeaderMap::new(), &token, ORIGIN));
        assert!(!check(&with_cookie(""), "", ORIGIN));
    }

    #[test]
    fn cross_site_posts_are_refused() {
        let token = new_token();
        let mut headers = with_cookie(&token);
        headers.insert(http::header::ORIGIN, HeaderValue::from_static(ORIGIN));
        headers.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(check(&headers, &token, ORIGIN));
        headers.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!check(&headers, &token, ORIGIN));
        let mut headers = with_cookie(&token);
        headers.insert(
            http::header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!check(&headers, &token, ORIGIN));
    }
}
