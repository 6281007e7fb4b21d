//! Hand-over tickets are bound to the browser that asked for them. Without a binding, anyone
//! could log in, take the ticket the login host hands to an app host for their own session, and
//! send it to somebody else as a link: the victim's browser would redeem it and work in the app
//! as the sender (login CSRF, the same harm as cookie tossing).
//!
//! ```text
//! app host, no session ──302 + __Host-pforte-handover=N──▶ login host /login?…&handover=B
//!     (B = SHA-256 of N: the URL never shows the cookie's value)
//!   login host ── ticket for (app host, B) ──▶ app host /.pforte/sso?ticket=T
//!     redeemed only with the cookie whose SHA-256 is B, then the cookie is cleared
//! ```
//!
//! The cookie is `__Host-`: only the app host itself can set it, so no other site can give a
//! victim's browser the binding of a ticket it holds.

use std::time::Duration;

use aws_lc_rs::digest::{SHA256, digest};
use http::{HeaderMap, HeaderValue};

use crate::web::cookies;

/// How long a browser's binding waits for its login: a form filled in within that time hands
/// over at once; after it, one more round through the login host (with the session, no form).
pub const LIFETIME: Duration = Duration::from_secs(600);

/// Hex digits of a nonce and of a binding (256 bits each).
const HEX_LEN: usize = 64;

/// What a hand-over ticket is bound to: the SHA-256 of the browser's hand-over cookie, in hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding(String);

impl Binding {
    /// A binding as a URL or form carried it; `None` for anything that cannot be one.
    pub fn parse(text: &str) -> Option<Self> {
        is_hex(text).then(|| Self(text.to_string()))
    }

    /// The text for URLs and forms.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The audience a ticket for `host` and this binding is sealed to: redeeming it needs both.
    pub fn audience(&self, host: &str) -> String {
        format!("{host} {}", self.0)
    }

    fn of_nonce(nonce: &str) -> Self {
        let mut input = b"pforte hand-over v1\0".to_vec();
        input.extend_from_slice(nonce.as_bytes());
        Self(hex(digest(&SHA256, &input).as_ref()))
    }
}

/// The browser's hand-over cookie value, if it sent a well-formed one.
pub fn nonce(headers: &HeaderMap) -> Option<String> {
    cookies::values(headers, cookies::HANDOVER)
        .find(|value| is_hex(value))
        .map(str::to_string)
}

/// The binding the browser's hand-over cookie proves, if it has one.
pub fn proven(headers: &HeaderMap) -> Option<Binding> {
    nonce(headers).map(|nonce| Binding::of_nonce(&nonce))
}

/// The binding for a browser about to be sent to log in, with the `Set-Cookie` that gives it
/// the cookie when it had none (`existing` is its cookie value, from [`nonce`]). A browser that
/// has one keeps it, so two tabs logging in at once do not undo each other.
pub fn start(existing: Option<&str>) -> (Binding, Option<HeaderValue>) {
    if let Some(nonce) = existing {
        return (Binding::of_nonce(nonce), None);
    }
    let nonce = hex(&rand::random::<[u8; 32]>());
    let cookie = cookies::set(cookies::HANDOVER, &nonce, LIFETIME);
    (Binding::of_nonce(&nonce), cookie)
}

fn is_hex(text: &str) -> bool {
    text.len() == HEX_LEN && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]])
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::COOKIE;

    fn cookie_value(set_cookie: &HeaderValue) -> String {
        let text = set_cookie.to_str().unwrap();
        let pair = text.split(';').next().unwrap();
        pair.split_once('=').unwrap().1.to_string()
    }

    #[test]
    fn a_new_browser_gets_a_cookie_whose_digest_is_the_binding() {
        let (binding, set_cookie) = start(None);
        let set_cookie = set_cookie.expect("a cookie for a browser without one");
        assert!(
            set_cookie
                .to_str()
                .unwrap()
                .starts_with("__Host-pforte-handover=")
        );
        let mut headers = HeaderMap::new();
        let value = format!("a=1; {}={}", cookies::HANDOVER, cookie_value(&set_cookie));
        headers.insert(COOKIE, HeaderValue::from_str(&value).unwrap());
        assert_eq!(proven(&headers), Some(binding.clone()));
        assert_ne!(
            binding.as_str(),
            cookie_value(&set_cookie),
            "the URL never shows the cookie"
        );
        let again = start(nonce(&headers).as_deref());
        assert_eq!(again, (binding, None), "a browser keeps its binding");
    }

    #[test]
    fn only_well_formed_values_count() {
        assert!(Binding::parse(&"a".repeat(64)).is_some());
        for bad in ["", "abc", &"A".repeat(64), &"g".repeat(64), &"a".repeat(65)] {
            assert!(Binding::parse(bad).is_none(), "{bad}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("__Host-pforte-handover=short"),
        );
        assert_eq!(proven(&headers), None);
        let (one, two) = (start(None).0, start(None).0);
        assert_ne!(one, two);
        assert_eq!(one.audience("mail.example.org").split(' ').count(), 2);
    }
}
