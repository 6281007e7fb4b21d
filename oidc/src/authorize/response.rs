//! What goes back to the client's redirect URI: a code, or an error the client may see.
//!
//! Both carry `iss` (RFC 9207) so a client talking to several providers can tell which one
//! answered, closing the mix-up attack.

use crate::error::ErrorCode;
use crate::token_value::OpaqueToken;

/// Appends query parameters to a registered redirect URI, keeping its own query.
fn with_query(uri: &str, pairs: &[(&str, Option<&str>)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{}", query.finish())
}

/// A successful authorization: where to send the browser with its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationResponse {
    /// The registered redirect URI.
    pub redirect_uri: String,
    /// The code, shown once.
    pub code: OpaqueToken,
    /// The client's `state`, returned unchanged.
    pub state: Option<String>,
    /// This provider's issuer identifier.
    pub iss: String,
}

impl AuthorizationResponse {
    /// The `Location` to redirect the browser to.
    pub fn location(&self) -> String {
        with_query(
            &self.redirect_uri,
            &[
                ("code", Some(self.code.expose())),
                ("state", self.state.as_deref()),
                ("iss", Some(&self.iss)),
            ],
        )
    }
}

/// An error that may be sent to the client, because its redirect URI is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    /// The registered redirect URI.
    pub redirect_uri: String,
    /// The RFC error code.
    pub error: ErrorCode,
    /// A description for the client's developer.
    pub description: String,
    /// The client's `state`, returned unchanged.
    pub state: Option<String>,
    /// This provider's issuer identifier.
    pub iss: String,
}

impl RedirectError {
    /// The `Location` to redirect the browser to.
    pub fn location(&self) -> String {
        with_query(
            &self.redirect_uri,
            &[
                ("error", Some(self.error.as_str())),
                ("error_description", Some(&self.description)),
                ("state", self.state.as_deref()),
                ("iss", Some(&self.iss)),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_keep_the_registered_query_and_encode_values() {
        let ok = AuthorizationResponse {
            redirect_uri: "https://app.example.org/cb?tenant=1".into(),
            code: OpaqueToken::presented("abc"),
            state: Some("s t&x".into()),
            iss: "https://login.example.org".into(),
        };
        assert_eq!(
            ok.location(),
            "https://app.example.org/cb?tenant=1&code=abc&state=s+t%26x&iss=https%3A%2F%2Flogin.example.org"
        );
        let err = RedirectError {
            redirect_uri: "https://app.example.org/cb".into(),
            error: ErrorCode::AccessDenied,
            description: "no".into(),
            state: None,
            iss: "https://login.example.org".into(),
        };
        assert_eq!(
            err.location(),
            "https://app.example.org/cb?error=access_denied&error_description=no&iss=https%3A%2F%2Flogin.example.org"
        );
    }
}
