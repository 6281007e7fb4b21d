//! Single sign-on across hosts. A browser keeps cookies per host, and the session cookie is
//! host-only (`__Host-`), so an app host learns about a login on the login host through a short
//! hand-over:
//!
//! ```text
//! app host, no session ──302──▶ login host /login?return_to=https://app/path&handover=B
//!   login host, session (or after the form) ──302──▶ https://app/.pforte/sso?ticket=T&return_to=/path
//!     app host redeems T once ──▶ sets its own session cookie ──302──▶ /path
//! ```
//!
//! A ticket is random, single-use, lives 60 seconds, is bound to the one host it was issued for
//! and to the browser that asked for it (`handover`), and is kept in the session store (so any replica can redeem it) only as a hash with the
//! session id sealed under a key derived from the ticket itself: a dump of the store cannot be
//! turned into a session. The session id itself never appears in a URL.

use http::Uri;

use super::handover::Binding;

/// The path on every app host where tickets are redeemed; never forwarded to an app.
pub const SSO_PATH: &str = "/.pforte/sso";

/// The path on every app host that sends a browser to log in with a hand-over binding (for
/// sites behind their own proxy, whose forward-auth answer cannot set the app host's cookie);
/// never forwarded to an app.
pub const LOGIN_PATH: &str = "/.pforte/login";

/// The login page's URL on the login host for `return_to`, with the browser's hand-over
/// binding when it comes from an app host.
pub fn login_url(
    login_host: &str,
    port_suffix: &str,
    return_to: &str,
    binding: Option<&Binding>,
) -> String {
    let mut url = format!(
        "https://{login_host}{port_suffix}/login?return_to={}",
        encode(return_to)
    );
    if let Some(binding) = binding {
        url.push_str("&handover=");
        url.push_str(binding.as_str());
    }
    url
}

/// The URL on an app host that starts a login for `path_and_query` there.
pub fn start_url(host: &str, port_suffix: &str, path_and_query: &str) -> String {
    format!(
        "https://{host}{port_suffix}{LOGIN_PATH}?return_to={}",
        encode(path_and_query)
    )
}

/// The hand-over URL on `host` for a ticket, landing on `path_and_query` there.
pub fn handover_url(host: &str, port_suffix: &str, ticket: &str, path_and_query: &str) -> String {
    format!(
        "https://{host}{port_suffix}{SSO_PATH}?ticket={}&return_to={}",
        encode(ticket),
        encode(path_and_query)
    )
}

/// `:8443`, or nothing for the default HTTPS port.
pub fn port_suffix(port: u16) -> String {
    if port == 443 {
        String::new()
    } else {
        format!(":{port}")
    }
}

/// The full URL a request was for (what the person will come back to after login).
pub fn request_url(host: &str, port_suffix: &str, uri: &Uri) -> String {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    format!("https://{host}{port_suffix}{path}")
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The value of `name` in a query string, decoded (the first one if repeated).
pub fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// A local path to land on after the hand-over: it must be a path on the same host (`/x`),
/// never another host (`//evil`, `/\evil`) or a scheme.
pub fn local_path(path: &str) -> Option<&str> {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.len() <= 4096
        && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    ok.then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_round_trip_their_values() {
        let binding = Binding::parse(&"0".repeat(64)).unwrap();
        let url = login_url(
            "login.example.org",
            "",
            "https://mail.example.org/a?b=c&d=e",
            Some(&binding),
        );
        let uri: Uri = url.parse().unwrap();
        assert_eq!(
            query_value(uri.query(), "return_to").as_deref(),
            Some("https://mail.example.org/a?b=c&d=e")
        );
        assert_eq!(
            query_value(uri.query(), "handover").as_deref(),
            Some(binding.as_str())
        );
        let url = start_url("wiki.example.org", "", "/a?b=c");
        assert_eq!(
            url,
            "https://wiki.example.org/.pforte/login?return_to=%2Fa%3Fb%3Dc"
        );
        let url = handover_url("mail.example.org", ":8443", "t+/=", "/inbox?x=1");
        let uri: Uri = url.parse().unwrap();
        assert_eq!(uri.path(), SSO_PATH);
        assert_eq!(uri.port_u16(), Some(8443));
        assert_eq!(query_value(uri.query(), "ticket").as_deref(), Some("t+/="));
        assert_eq!(
            query_value(uri.query(), "return_to").as_deref(),
            Some("/inbox?x=1")
        );
        assert_eq!(query_value(None, "x"), None);
    }

    #[test]
    fn only_local_paths_are_landed_on() {
        assert_eq!(local_path("/inbox?x=1"), Some("/inbox?x=1"));
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil",
            "",
            "/a b",
            "/a\\b",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }
}
