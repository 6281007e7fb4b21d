//! Cross-origin access for browser apps (single-page apps, which are public clients) to the
//! endpoints they call from JavaScript: token, userinfo and revocation.
//!
//! An origin may call them when a registered client's redirect URI lives there, as Keycloak
//! derives "web origins" from redirect URIs: the app's own address is the only place its
//! JavaScript runs. The answer names that one origin (never `*`) and never allows credentials,
//! since these endpoints authenticate by the request's body or bearer token, not by cookies.
//! Other origins get no CORS headers, so the browser keeps the answer from their scripts.
//! Discovery and the JWKS are public documents and answer `*` themselves.

use std::collections::HashSet;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use pforte_oidc::Clients;

/// How long a browser may reuse a preflight's answer.
const MAX_AGE_SECS: &str = "600";

/// The request headers a browser app sends to these endpoints.
const ALLOWED_HEADERS: &str = "authorization, content-type";

/// The origins whose scripts may read the endpoints' answers, from one load of the clients.
#[derive(Debug, Default)]
pub struct WebOrigins(HashSet<String>);

impl WebOrigins {
    /// The web origins of every registered client's redirect URIs.
    pub fn of(clients: &Clients) -> Self {
        Self(clients.iter().flat_map(|c| c.web_origins()).collect())
    }

    /// The request's `Origin`, when it is one of ours.
    pub fn allowed<'a>(&self, headers: &'a HeaderMap) -> Option<&'a HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        let text = origin.to_str().ok()?;
        self.0
            .contains(&text.to_ascii_lowercase())
            .then_some(origin)
    }
}

/// The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`) for an endpoint
/// that takes `methods`; without an allowed origin it carries no permission.
pub fn preflight(origin: Option<&HeaderValue>, methods: &'static str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(methods),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOWED_HEADERS),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE_SECS),
        );
        allow(&mut response, origin);
    }
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("origin"));
    response
}

/// Lets the script at `origin` read `response` (errors included, so an app can show them).
pub fn allow(response: &mut Response<Bytes>, origin: &HeaderValue) {
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.append(header::VARY, HeaderValue::from_static("origin"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> WebOrigins {
        WebOrigins(["https://app.example.org".to_owned()].into())
    }

    fn with_origin(origin: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        headers
    }

    #[test]
    fn only_registered_origins_are_allowed() {
        let ours = with_origin("https://app.example.org");
        assert!(origins().allowed(&ours).is_some());
        let theirs = with_origin("https://app.example.org.evil.test");
        assert!(origins().allowed(&theirs).is_none());
        assert!(origins().allowed(&with_origin("null")).is_none());
        assert!(origins().allowed(&HeaderMap::new()).is_none());
    }

    #[test]
    fn a_preflight_names_the_origin_and_never_credentials() {
        let ours = with_origin("https://app.example.org");
        let response = preflight(origins().allowed(&ours), "POST");
        let headers = response.headers();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example.org"
        );
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_METHODS], "POST");
        assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS));
        let refused = preflight(None, "POST");
        assert!(
            !refused
                .headers()
                .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        );
    }
}
