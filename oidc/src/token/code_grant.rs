//! `grant_type=authorization_code`: the code must be unused, unexpired, issued to this
//! client for this redirect URI, and its PKCE challenge met (RFC 6749 §4.1.3, RFC 7636 §4.6).

use crate::clients::Client;
use crate::code::AuthorizationCode;
use crate::error::{ErrorCode, ProtocolError};
use crate::token_value::OpaqueToken;

/// Checks a code exchange. `record` is what the store's atomic take returned for the
/// presented code: `None` when it was unknown, expired from the store, or already used.
/// Every refusal is `invalid_grant` with a description that does not help a guesser.
pub fn exchange_code(
    record: Option<AuthorizationCode>,
    client: &Client,
    redirect_uri: Option<&str>,
    code_verifier: Option<&OpaqueToken>,
    now: u64,
) -> Result<AuthorizationCode, ProtocolError> {
    let refuse = |d: &str| Err(ProtocolError::new(ErrorCode::InvalidGrant, d));
    let Some(code) = record else {
        return refuse("the code is invalid, expired or already used");
    };
    if code.client_id != client.id {
        return refuse("the code was issued to another client");
    }
    if now >= code.expires_at {
        return refuse("the code is invalid, expired or already used");
    }
    match redirect_uri {
        Some(sent) if sent != code.redirect_uri => {
            return refuse("redirect_uri differs from the authorization request's");
        }
        None if code.redirect_uri_sent => {
            return refuse("redirect_uri is required, as in the authorization request");
        }
        _ => {}
    }
    match (&code.code_challenge, code_verifier) {
        (Some(challenge), Some(verifier)) if challenge.is_satisfied_by(verifier.expose()) => {}
        (Some(_), Some(_)) => return refuse("code_verifier does not match the code_challenge"),
        (Some(_), None) => return refuse("code_verifier is required"),
        (None, Some(_)) => {
            return refuse("code_verifier sent, but the authorization request had no challenge");
        }
        (None, None) => {}
    }
    Ok(code)
}
