//! Load-time rules for the URIs a client registers (RFC 9700 §2.1, RFC 8252 §7.3).
//!
//! At request time a redirect URI is accepted only when it is byte-for-byte one of the
//! registered strings; these rules make sure that what is registered is safe to send codes
//! to: `https`, or `http` on a loopback host for native apps and local tools, no fragment,
//! no wildcard, no credentials.

use url::{Host, Url};

/// Whether plain `http` is allowed on loopback hosts for this kind of URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loopback {
    /// Redirect URIs: RFC 8252 allows `http` on loopback for native apps.
    HttpAllowed,
    /// Back-channel logout: the provider posts a token there, so only `https`.
    HttpsOnly,
}

/// Checks one registered URI; the error says what is wrong and how to fix it.
pub(crate) fn check(uri: &str, loopback: Loopback) -> Result<(), String> {
    if uri.contains('*') {
        return Err(format!(
            "\"{uri}\" contains a wildcard; register every exact URI instead"
        ));
    }
    if uri.contains('#') {
        return Err(format!(
            "\"{uri}\" has a fragment; redirect URIs must not contain '#'"
        ));
    }
    let url = Url::parse(uri).map_err(|e| format!("\"{uri}\" is not an absolute URI: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "\"{uri}\" contains credentials; remove the user part"
        ));
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if loopback == Loopback::HttpAllowed && is_loopback(&url) => Ok(()),
        "http" if loopback == Loopback::HttpAllowed => Err(format!(
            "\"{uri}\" uses http on a non-loopback host; use https (http is only allowed on \
             127.0.0.1, [::1] or localhost)"
        )),
        _ => Err(format!("\"{uri}\" must use https")),
    }
}

/// The origin (`scheme://host[:port]`, RFC 6454) a browser names in its `Origin` header when a
/// page at `uri` calls the provider from JavaScript; `None` for URIs without one (custom schemes
/// of native apps).
pub(crate) fn web_origin(uri: &str) -> Option<String> {
    let origin = Url::parse(uri).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_http_are_accepted() {
        for uri in [
            "https://cloud.example.org/apps/user_oidc/code",
            "https://cloud.example.org:8443/cb?tenant=1",
            "http://127.0.0.1:8400/callback",
            "http://[::1]/cb",
            "http://localhost:3000/cb",
        ] {
            assert_eq!(check(uri, Loopback::HttpAllowed), Ok(()), "{uri}");
        }
    }

    #[test]
    fn unsafe_uris_are_refused() {
        for uri in [
            "http://cloud.example.org/cb",
            "http://10.0.0.1/cb",
            "https://*.example.org/cb",
            "https://cloud.example.org/cb*",
            "https://cloud.example.org/cb#frag",
            "https://user:pw@cloud.example.org/cb",
            "javascript:alert(1)",
            "ftp://cloud.example.org/cb",
            "/relative/cb",
        ] {
            assert!(check(uri, Loopback::HttpAllowed).is_err(), "{uri}");
        }
    }

    #[test]
    fn backchannel_needs_https_even_on_loopback() {
        assert!(check("http://127.0.0.1/logout", Loopback::HttpsOnly).is_err());
        assert_eq!(
            check("https://cloud.example.org/logout", Loopback::HttpsOnly),
            Ok(())
        );
    }
}
