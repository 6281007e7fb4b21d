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
    access_token: Option<String>,
    token_type: Option<String>,
}

/// What Pforte uses of a successful answer.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    /// The ID token, to be verified.
    pub id_token: String,
    /// The access token, for the provider's userinfo endpoint (claims the ID token leaves out).
    pub access_token: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(***)")
    }
}

#[derive(Deserialize)]
struct Failure {
    error: String,
}

/// The tokens of a successful answer: a Bearer token type and an ID token are required.
pub fn tokens_of(status: u16, body: &[u8]) -> Result<Tokens, TokenError> {
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
        .is_some_and(|t| t.eq_ignore_ascii_case("bearer"))
    {
        return Err(TokenError::Malformed("token_type is not Bearer".into()));
    }
    let id_token = success
        .id_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| TokenError::Malformed("no id_token".into()))?;
    Ok(Tokens {
        id_token,
        access_token: success.access_token.filter(|t| !t.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_as_token_or_error() {
        assert_eq!(
            tokens_of(
                200,
                br#"{"access_token":"a","token_type":"Bearer","id_token":"x.y.z"}"#
            ),
            Ok(Tokens {
                id_token: "x.y.z".into(),
                access_token: Some("a".into())
            })
        );
        assert!(matches!(
            tokens_of(
                200,
                br#"{"access_token":"a","token_type":"DPoP","id_token":"x"}"#
            ),
            Err(TokenError::Malformed(_))
        ));
        assert!(matches!(
            tokens_of(200, br#"{"access_token":"a","token_type":"Bearer"}"#),
            Err(TokenError::Malformed(_))
        ));
        assert_eq!(
            tokens_of(400, br#"{"error":"invalid_grant"}"#),
            Err(TokenError::Refused("invalid_grant".into()))
        );
        assert_eq!(
            tokens_of(502, b"<html>"),
            Err(TokenError::Refused("status 502".into()))
        );
    }
}
