//! The login page's return URL check (`pforte::portal::return_to::check`): no open redirect.

use pforte::portal::return_to::check;

/// The hosts the check is told the gateway serves.
const KNOWN: [&str; 2] = ["mail.example.org", "login.example.org"];

/// The first byte picks the public port (443 or 8443), the rest is the URL. An accepted URL is
/// returned unchanged, and it names a known host on the public port over `https` for the
/// gateway's URL parser (`http::Uri`) and for a browser's (WHATWG, the `url` crate) alike: a
/// URL the two read differently could send a person elsewhere than the check saw.
pub fn return_to(data: &[u8]) {
    let Some((&port_byte, rest)) = data.split_first() else {
        return;
    };
    let port = if port_byte & 1 == 0 { 443 } else { 8443 };
    let Ok(raw) = std::str::from_utf8(rest) else {
        return;
    };
    let Some(accepted) = check(raw, |host| KNOWN.contains(&host), port) else {
        return;
    };
    assert_eq!(
        accepted.as_str(),
        raw,
        "an accepted URL is returned as given"
    );

    let uri: http::Uri = raw.parse().expect("an accepted URL parses");
    assert_eq!(uri.scheme_str(), Some("https"));
    let host = uri.host().expect("an accepted URL has a host");
    assert!(KNOWN.contains(&host), "http::Uri reads host {host:?}");
    assert_eq!(uri.port_u16().unwrap_or(443), port);

    let url = url::Url::parse(raw)
        .unwrap_or_else(|e| panic!("accepted {raw:?}, which a browser cannot parse: {e}"));
    assert_eq!(
        url.scheme(),
        "https",
        "a browser reads another scheme in {raw:?}"
    );
    assert!(
        url.host_str().is_some_and(|h| KNOWN.contains(&h)),
        "accepted {raw:?}, which a browser reads as host {:?}",
        url.host_str()
    );
    assert_eq!(
        url.port_or_known_default(),
        Some(port),
        "a browser reads another port in {raw:?}"
    );
    assert!(
        url.username().is_empty() && url.password().is_none(),
        "a browser reads credentials in {raw:?}"
    );
}
