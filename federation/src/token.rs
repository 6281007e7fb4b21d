//! The code exchange at the provider's token endpoint (RFC 6749 §4.1.3, with the PKCE
//! verifier): the request Pforte sends and the answer it reads.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::metadata::ClientAuth;
use crate::providers::Provider;

/// Why a token endpoint's answer cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The provider refused the code (an OAuth error response).
    #[error("the provider refused the code: {0}")]
    Refused(String),
    /// The answer is not a token response with an ID token.
    #[error("the token response is not valid: {0}")]
    Malformed(String),
}

/// The request's form body and, for `client_secret_basic`, its `Authorization` header value.
#[derive(Clone)]
pub struct TokenRequest {
    /// `application/x-www-form-urlencoded` body.
    pub body: String,
    /// `Basic …`, when the secret goes in the header.
    pub authorization: Option<String>,
}

impl TokenRequest {
    /// The exchange of `code` sent to `redirect_uri`, proven by `verifier`.
    pub fn new(
        provider: &Provider,
        secret: &str,
        auth: ClientAuth,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Self {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("code_verifier", verifier);
        let authorization = match auth {
            ClientAuth::Basic => {
                // RFC 6749 §2.3.1: both parts form-encoded before they are joined.
                let id = form_urlencoded::byte_serialize(provider.client_id.as_bytes())
                    .collect::<String>();
                let secret = form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>();
                Some(format!(
                    "Basic {}",
                    STANDARD.encode(format!("{id}:{secret}"))
                ))
            }
            ClientAuth::Post => {
                form.append_pair("client_id", &provider.client_id)
                    .append_pair("client_secret", secret);
                None
            }
        };
        Self {
            body: form.finish(),
            authorization,
        }
    }
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenRequest(***)")
    }
}

#[derive(Deserialize)]
struct Success {
    id_token: Option<String>,
    token_type: Option<String>,
}

#[derive(Deserialize)]
struct Failure {
    error: String,
}

/// The ID token of a successful answer (the access token is not used: every claim Pforte
/// needs is in the signed ID token).
pub fn id_token_of(status: u16, body: &[u8]) -> Result<String, TokenError> {
    if !(200..300).contains(&status) {
        return Err(match serde_json::from_slice::<Failure>(body) {
            Ok(f) => TokenError::Refused(f.error.chars().take(64).collect()),
            Err(_) => TokenError::Refused(format!("status {status}")),
        });
    }
    let success: Success =
        serde_json::from_slice(body).map_err(|e| TokenError::Malformed(e.to_string()))?;
    if !success
        .token_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("bearer") || t.eq_ignore_ascii_case("dpop"))
    {
        return Err(TokenError::Malformed("token_type is not Bearer".into()));
    }
    success
        .id_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| TokenError::Malformed("no id_token".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_as_token_or_error() {
        assert_eq!(
            id_token_of(
                200,
                br#"{"access_token":"a","token_type":"Bearer","id_token":"x.y.z"}"#
            ),
            Ok("x.y.z".into())
        );
        assert!(matches!(
            id_token_of(200, br#"{"access_token":"a","token_type":"Bearer"}"#),
            Err(TokenError::Malformed(_))
        ));
        assert_eq!(
            id_token_of(400, br#"{"error":"invalid_grant"}"#),
            Err(TokenError::Refused("invalid_grant".into()))
        );
        assert_eq!(
            id_token_of(502, b"<html>"),
            Err(TokenError::Refused("status 502".into()))
        );
    }
}
