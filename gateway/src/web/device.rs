//! A short description of the device a request came from ("Firefox on Linux"), read from its
//! `User-Agent`, for the session listings a person and an admin read to recognise their
//! sessions. It is a hint, never a security decision: any client can send any `User-Agent`.

use http::{HeaderMap, header};
use pforte_session::MAX_DEVICE_CHARS;

/// Browsers by a token of their `User-Agent`, first match wins: the ones that also claim to be
/// Chrome or Safari come first.
const BROWSERS: &[(&str, &str)] = &[
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Version/", "Safari"),
];

/// Systems by a token of their `User-Agent`, first match wins: Android and ChromeOS say
/// Linux too, iOS says "like Mac OS X".
const SYSTEMS: &[(&str, &str)] = &[
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("CrOS", "ChromeOS"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
    ("FreeBSD", "FreeBSD"),
];

/// The device of the request's `User-Agent`: "Browser on System" when both are known, one of
/// them when only one is, else the first product name ("curl"); `None` without a usable
/// header. At most [`MAX_DEVICE_CHARS`] characters.
pub fn describe(headers: &HeaderMap) -> Option<String> {
    let agent = headers.get(header::USER_AGENT)?.to_str().ok()?.trim();
    let find = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(token, _)| agent.contains(token))
            .map(|(_, name)| *name)
    };
    let system = find(SYSTEMS);
    // "Version/" alone names Safari only on Apple's systems.
    let browser = find(BROWSERS).filter(|b| *b != "Safari" || agent.contains("Safari/"));
    let described = match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(name), None) | (None, Some(name)) => name.to_owned(),
        (None, None) => agent
            .split(['/', ' '])
            .next()
            .filter(|product| !product.is_empty())?
            .to_owned(),
    };
    Some(described.chars().take(MAX_DEVICE_CHARS).collect())
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn of(agent: &str) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert(header::USER_AGENT, HeaderValue::from_str(agent).unwrap());
        describe(&headers)
    }

    #[test]
    fn common_browsers_are_named_with_their_system() {
        for (agent, expected) in [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                "Firefox on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
        ] {
            assert_eq!(of(agent).as_deref(), Some(expected), "{agent}");
        }
    }

    #[test]
    fn other_clients_are_named_by_their_product() {
        assert_eq!(of("curl/8.5.0").as_deref(), Some("curl"));
        assert_eq!(
            of("python-requests/2.31").as_deref(),
            Some("python-requests")
        );
        assert_eq!(of("   ").as_deref(), None);
        assert_eq!(describe(&HeaderMap::new()), None);
    }

    #[test]
    fn a_long_agent_is_cut() {
        let long = "x".repeat(500);
        assert_eq!(of(&long).map(|d| d.len()), Some(MAX_DEVICE_CHARS));
    }

    #[test]
    fn a_header_that_is_not_text_is_no_device() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::USER_AGENT,
            HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
        );
        assert_eq!(describe(&headers), None);
    }
}
