//! Session cookies: the session id (`SessionId::parse`), the sid admins and peers send
//! (`Sid::parse`), and the gateway's reading of `Cookie` headers (`web::cookies::values`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};
use pforte::web::cookies;
use pforte_session::{SessionId, Sid};

/// Any text as a cookie value, a sid and a `Cookie` header: parsing is strict (a value that
/// parses is the one canonical spelling: `encode(decode(x)) == x`), and any 32 bytes survive
/// `decode(encode(bytes))`; every cookie value the gateway reads out of a header is a trimmed
/// piece of that header without `;`.
pub fn cookie(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(id) = SessionId::parse(text) {
            assert_eq!(id.to_cookie_value(), text, "a session id has one spelling");
        }
        if let Ok(sid) = Sid::parse(text) {
            assert_eq!(sid.to_string(), text, "a sid has one spelling");
        }
        header_values(text);
    }
    if let Some(bytes) = data.get(..32) {
        let value = URL_SAFE_NO_PAD.encode(bytes);
        let id = SessionId::parse(&value).expect("43 base64url characters of 32 bytes parse");
        assert_eq!(id.to_cookie_value(), value);
        let sid = id.key().sid();
        assert_eq!(Sid::parse(&sid.to_string()), Ok(sid), "a sid round-trips");
    }
}

fn header_values(text: &str) {
    let Ok(value) = HeaderValue::from_str(text) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, value);
    let name = text
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map_or("", |(name, _)| name.trim());
    for found in cookies::values(&headers, name) {
        assert!(text.contains(found), "{found:?} is not in the header");
        assert!(!found.contains(';'), "{found:?} spans two cookies");
        assert_eq!(found, found.trim(), "{found:?} is not trimmed");
    }
}
