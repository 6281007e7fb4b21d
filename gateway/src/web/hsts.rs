//! HTTP Strict Transport Security (RFC 6797) on every HTTPS answer: the login host's pages, the
//! OIDC endpoints, error pages and the proxied apps' answers, so a browser that has once reached
//! the gateway never again tries plain HTTP (where a network attacker could strip TLS). The
//! plain-HTTP redirect listener never sends it (browsers ignore it there, RFC 6797 §7.2).
//!
//! An app's own header is replaced by the gateway's: the gateway owns the host's TLS and so
//! decides how long browsers must insist on it. An app with `hsts = false` keeps its own header,
//! or none.

use http::{HeaderMap, header::STRICT_TRANSPORT_SECURITY};

use crate::config::Hsts;

/// Sets the gateway's header in `headers` unless the answer is an app's that turned HSTS off
/// (`enabled = false`).
pub fn apply(headers: &mut HeaderMap, hsts: &Hsts, enabled: bool) {
    if enabled {
        headers.insert(STRICT_TRANSPORT_SECURITY, hsts.header().clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn replaces_an_apps_header_and_keeps_it_when_off() {
        let mut headers = HeaderMap::new();
        headers.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=60"),
        );
        let year = Hsts::new(31_536_000, false, false).unwrap();
        apply(&mut headers, &year, false);
        assert_eq!(headers[STRICT_TRANSPORT_SECURITY], "max-age=60");
        apply(&mut headers, &year, true);
        assert_eq!(headers[STRICT_TRANSPORT_SECURITY], "max-age=31536000");
        let all = Hsts::new(31_536_000, true, true).unwrap();
        apply(&mut headers, &all, true);
        assert_eq!(
            headers[STRICT_TRANSPORT_SECURITY],
            "max-age=31536000; includeSubDomains; preload"
        );
        assert_eq!(headers.get_all(STRICT_TRANSPORT_SECURITY).iter().count(), 1);
    }
}
