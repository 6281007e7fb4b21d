//! Where the login page may send a person afterwards: only to an `https` URL on a host the
//! gateway serves (an app's host or the login host) and on its public port. Anything else
//! (another site, `//evil`, `https:evil`, backslashes, user info, encoded tricks, other ports)
//! is refused and the person lands on the portal instead: no open redirect.
//!
//! The URL is parsed by `http::Uri` (the same parser the server uses), and the check works on
//! the parsed parts, never on prefixes of the raw text.

use http::Uri;
use http::uri::Scheme;

/// A return URL that passed the check, ready for a `Location` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnTo(String);

impl ReturnTo {
    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks `raw` against the hosts the gateway serves; `known_host` answers for a lower-case
/// host name, `public_port` is the port clients use for HTTPS.
pub fn check(raw: &str, known_host: impl Fn(&str) -> bool, public_port: u16) -> Option<ReturnTo> {
    // Bytes that browsers strip or reinterpret (tabs, newlines, backslashes) have no place in a
    // URL we hand back; refusing them beats guessing what a browser would make of them.
    if raw.is_empty()
        || raw.len() > 2048
        || raw
            .bytes()
            .any(|b| b.is_ascii_control() || b == b' ' || b == b'\\' || !b.is_ascii())
    {
        return None;
    }
    let uri: Uri = raw.parse().ok()?;
    if uri.scheme() != Some(&Scheme::HTTPS) {
        return None;
    }
    let authority = uri.authority()?;
    if authority.as_str().contains('@') {
        return None;
    }
    let host = authority.host();
    if host.is_empty() || host != host.to_ascii_lowercase() || !known_host(host) {
        return None;
    }
    // `port_u16` reads a port that is no number (`:443fr`, `:+443`) as no port at all; a
    // browser refuses such a URL. Only digits, or nothing (the default), pass.
    let port = match authority.as_str().strip_prefix(host)?.strip_prefix(':') {
        None | Some("") => 443,
        Some(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => digits.parse().ok()?,
        Some(_) => return None,
    };
    if port != public_port {
        return None;
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    if !path.starts_with('/') || path.starts_with("//") {
        return None;
    }
    Some(ReturnTo(raw.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(host: &str) -> bool {
        matches!(host, "mail.example.org" | "login.example.org")
    }

    fn ok(raw: &str) -> bool {
        check(raw, known, 443).is_some()
    }

    #[test]
    fn app_hosts_on_the_public_port_are_followed() {
        assert!(ok("https://mail.example.org/inbox?folder=1"));
        assert!(ok("https://mail.example.org"));
        assert!(ok("https://mail.example.org:443/x"));
        assert!(ok("https://mail.example.org:/x"));
        assert!(ok("https://login.example.org/"));
        assert!(check("https://mail.example.org:8443/", known, 8443).is_some());
    }

    #[test]
    fn everything_else_is_refused() {
        for evil in [
            "//evil.example.com/",
            "https:evil.example.com",
            "https:/evil.example.com",
            "https://evil.example.com/",
            "http://mail.example.org/",
            "https://mail.example.org:8443/",
            // Found by the return_to fuzz target (fuzz/regressions/return_to/): a port that is
            // no number was read as the default port and the URL accepted.
            "https://mail.example.org:443fr/a",
            "https://mail.example.org:evil.example.com/",
            "https://mail.example.org:+443/",
            "https://mail.example.org:0443x/",
            "https://mail.example.org.evil.example.com/",
            "https://evil.example.com\\@mail.example.org/",
            "https://mail.example.org@evil.example.com/",
            "https://user:pw@mail.example.org/",
            "https://evil.example.com%2F@mail.example.org/",
            "https://mail.example.org%2Eevil.example.com/",
            "https://MAIL.example.org/",
            "https://mail.example.org//evil.example.com",
            "/inbox",
            "javascript:alert(1)",
            "https://mail.example.org/\nLocation: https://evil/",
            "https://mail.example.org\t/",
            "https://mäil.example.org/",
            "",
        ] {
            assert!(!ok(evil), "{evil:?} must be refused");
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the input, a URL that passes names a known host on the public port.
        #[test]
        fn only_known_hosts_pass(raw in "[ -~]{0,60}") {
            if let Some(ok) = check(&raw, |h| h == "mail.example.org", 443) {
                let uri: Uri = ok.as_str().parse().unwrap();
                prop_assert_eq!(uri.host(), Some("mail.example.org"));
                prop_assert_eq!(uri.port_u16().unwrap_or(443), 443);
            }
        }
    }
}
