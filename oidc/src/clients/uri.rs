//! Rules for the URIs a client registers (RFC 9700 §2.1, RFC 8252 §7) and for matching a
//! request's redirect URI against them.
//!
//! At request time a redirect URI is accepted only when it is byte-for-byte one of the
//! registered strings, with one exception RFC 8252 §7.3 requires: a loopback IP redirect
//! (`http://127.0.0.1/cb`) takes any port, since a native app listens on whichever port is free.
//! These rules make sure that what is registered is safe to send codes to: `https`, `http` on a
//! loopback host, or a native app's private-use scheme; no fragment, no wildcard, no credentials.

use url::{Host, Url};

/// What a URI is registered for, which decides the schemes it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Where a confidential client's browser flow ends: `https`, or `http` on loopback.
    WebRedirect,
    /// Where a public client's flow ends: as a web redirect, or a native app's private-use
    /// scheme (RFC 8252 §7.1). Native apps are public clients (RFC 8252 §8.5).
    NativeRedirect,
    /// Back-channel logout: the provider posts a token there, so only `https`.
    Backchannel,
}

/// The scheme of a native app's private-use redirect URI (`de.example.app` of
/// `de.example.app:/callback`), if `uri` has one; checked by [`check`] at load time.
pub(crate) fn private_use_scheme(uri: &str) -> Option<&str> {
    let (scheme, _) = uri.split_once(':')?;
    (scheme.contains('.') && !scheme.contains('/')).then_some(scheme)
}

/// Whether a request's redirect URI matches a registered one: the same string, or for a
/// loopback IP redirect the same string but for the port (RFC 8252 §7.3).
pub(crate) fn redirect_matches(registered: &str, requested: &str) -> bool {
    registered == requested || same_loopback_redirect_but_port(registered, requested)
}

fn same_loopback_redirect_but_port(registered: &str, requested: &str) -> bool {
    let (Ok(mut registered), Ok(mut requested_url)) =
        (Url::parse(registered), Url::parse(requested))
    else {
        return false;
    };
    // The request must already be in the parser's normal form, so that no spelling the
    // parser rewrites (dot segments, case, escapes) reaches the app as a different address.
    if requested_url.as_str() != requested
        || registered.scheme() != "http"
        || !is_loopback_ip(&registered)
    {
        return false;
    }
    registered.set_port(None).is_ok()
        && requested_url.set_port(None).is_ok()
        && registered == requested_url
}

/// Checks one registered URI; the error says what is wrong and how to fix it.
pub(crate) fn check(uri: &str, purpose: Purpose) -> Result<(), String> {
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
    let redirect = purpose != Purpose::Backchannel;
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if redirect && is_loopback(&url) => Ok(()),
        "http" if redirect => Err(format!(
            "\"{uri}\" uses http on a non-loopback host; use https (http is only allowed on \
             127.0.0.1, [::1] or localhost)"
        )),
        _ if redirect && private_use_scheme(uri).is_some() => check_private_use(uri, &url, purpose),
        _ => Err(format!("\"{uri}\" must use https")),
    }
}

/// A native app's redirect to its own URI scheme (RFC 8252 §7.1): a reverse domain name the app's
/// publisher controls (`de.example.app`), no authority (`de.example.app:/callback`), and only
/// for a public client.
fn check_private_use(uri: &str, url: &Url, purpose: Purpose) -> Result<(), String> {
    let scheme = url.scheme();
    let labels_ok = scheme.split('.').count() >= 2
        && scheme.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !labels_ok {
        return Err(format!(
            "\"{uri}\": a private-use scheme must be a reverse domain name the app's publisher \
             controls, such as de.example.app (RFC 8252 §7.1)"
        ));
    }
    if url.has_host() || !url.path().starts_with('/') {
        return Err(format!(
            "\"{uri}\": a private-use scheme redirect has no authority and a path: write \
             {scheme}:/callback (RFC 8252 §7.1)"
        ));
    }
    if purpose != Purpose::NativeRedirect {
        return Err(format!(
            "\"{uri}\" uses a native app's private-use scheme; native apps are public clients \
             (RFC 8252 §8.5): set public = true, or register an https redirect"
        ));
    }
    Ok(())
}

/// The origin (`scheme://host[:port]`, RFC 6454) a browser names in its `Origin` header when a
/// page at `uri` calls the provider from JavaScript; `None` for URIs without one (custom schemes
/// of native apps).
pub(crate) fn web_origin(uri: &str) -> Option<String> {
    let origin = Url::parse(uri).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

fn is_loopback(url: &Url) -> bool {
    is_loopback_ip(url)
        || matches!(url.host(), Some(Host::Domain(name)) if name.eq_ignore_ascii_case("localhost"))
}

/// A loopback IP literal: the only hosts whose redirect takes any port (RFC 8252 §7.3; `localhost`
/// may resolve elsewhere, §8.3).
fn is_loopback_ip(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
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
            assert_eq!(check(uri, Purpose::WebRedirect), Ok(()), "{uri}");
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
            assert!(check(uri, Purpose::WebRedirect).is_err(), "{uri}");
        }
    }

    #[test]
    fn backchannel_needs_https_even_on_loopback() {
        assert!(check("http://127.0.0.1/logout", Purpose::Backchannel).is_err());
        assert!(check("de.example.app:/logout", Purpose::Backchannel).is_err());
        assert_eq!(
            check("https://cloud.example.org/logout", Purpose::Backchannel),
            Ok(())
        );
    }

    #[test]
    fn private_use_schemes_are_for_public_clients_with_a_reverse_domain_and_no_authority() {
        assert_eq!(
            check("de.example.app:/callback", Purpose::NativeRedirect),
            Ok(())
        );
        assert_eq!(
            check("de.example.app:/oauth2/cb?x=1", Purpose::NativeRedirect),
            Ok(())
        );
        for uri in [
            "de.example.app://callback",
            "de.example.app:callback",
            "de.example.app:",
            "de..app:/callback",
            "de.ex_ample.app:/callback",
            "myapp:/callback",
            "javascript:alert(1)",
            "data:text/html,x",
        ] {
            assert!(check(uri, Purpose::NativeRedirect).is_err(), "{uri}");
        }
        let refused = check("de.example.app:/callback", Purpose::WebRedirect).unwrap_err();
        assert!(refused.contains("public = true"), "{refused}");
    }

    #[test]
    fn loopback_ip_redirects_take_any_port_and_nothing_else_varies() {
        let registered = "http://127.0.0.1/callback";
        assert!(redirect_matches(
            registered,
            "http://127.0.0.1:51234/callback"
        ));
        assert!(redirect_matches(registered, registered));
        assert!(redirect_matches(
            "http://[::1]:8400/cb",
            "http://[::1]:51234/cb"
        ));
        for requested in [
            "http://127.0.0.1:51234/callback2",
            "http://127.0.0.1:51234/callback?x=1",
            "http://127.0.0.2:51234/callback",
            "https://127.0.0.1:51234/callback",
            "http://127.0.0.1:51234/x/../callback",
            "http://user@127.0.0.1:51234/callback",
            "http://127.0.0.1:51234/callback#f",
        ] {
            assert!(!redirect_matches(registered, requested), "{requested}");
        }
        assert!(
            !redirect_matches("http://localhost/cb", "http://localhost:51234/cb"),
            "localhost is matched exactly (RFC 8252 §8.3)"
        );
        assert!(!redirect_matches(
            "https://cloud.example.org/cb",
            "https://cloud.example.org:8443/cb"
        ));
    }
}
