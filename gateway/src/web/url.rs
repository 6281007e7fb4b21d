//! The URLs the login host and the app hosts write and read: ports, query values, local paths.

use http::Uri;

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

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(
            query_value(Some("a=1&b=x%20y"), "b").as_deref(),
            Some("x y")
        );
        assert_eq!(query_value(None, "x"), None);
        assert_eq!(port_suffix(443), "");
        assert_eq!(port_suffix(8443), ":8443");
    }
}
