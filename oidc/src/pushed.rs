//! Pushed authorization requests (RFC 9126): a client posts its authorization request's
//! parameters straight to the provider, authenticated, and sends the browser only a
//! `request_uri` that names them. What the browser carries can then be neither read nor changed
//! on its way, and a confidential client's request is proven to be its own.
//!
//! ```text
//! POST /par (client auth + parameters) ─▶ pushed_params ─▶ authorize::validate ─▶ PushedRequest
//!                                                         (stored, answered 201 request_uri)
//! GET /authorize?client_id&request_uri ─▶ resolve ─▶ the pushed parameters, validated again
//! ```
//!
//! A pushed request serves one code: the gateway ends it when it issues the code. Until then it
//! may be presented more than once, as the browser comes back from the login form with it
//! (RFC 9126 §4 allows that), for [`PUSHED_REQUEST_SECONDS`] at most.

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, ProtocolError};
use crate::params::Params;
use crate::token_value::OpaqueToken;

/// The prefix of every `request_uri` this provider hands out (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// How long a pushed request may be used: long enough for a person to log in and show a second
/// factor on the way, short enough that a leaked `request_uri` is soon worth nothing.
pub const PUSHED_REQUEST_SECONDS: u64 = 300;

/// The parameters of client authentication, which belong to the push and not to the request.
const CLIENT_AUTH_PARAMS: [&str; 3] =
    ["client_secret", "client_assertion", "client_assertion_type"];

/// A pushed request as stored until its code is issued or it expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedRequest {
    /// The client that pushed it, and the only one whose `request_uri` it is.
    pub client_id: String,
    /// The authorization request's parameters, form-encoded.
    pub params: String,
    /// When it stops being usable (Unix seconds).
    pub expires_at: u64,
}

/// The answer to a successful push (RFC 9126 §2.2), sent with `201 Created`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedResponse {
    /// What the client puts in the authorization URL.
    pub request_uri: String,
    /// Seconds it stays usable.
    pub expires_in: u64,
}

impl PushedRequest {
    /// The record for the authorization parameters `params` of `client_id`, pushed at `now`.
    pub fn new(client_id: &str, params: &Params, now: u64) -> Self {
        let mut encoded = form_urlencoded::Serializer::new(String::new());
        for (name, value) in params.iter() {
            encoded.append_pair(name, value);
        }
        Self {
            client_id: client_id.to_owned(),
            params: encoded.finish(),
            expires_at: now.saturating_add(PUSHED_REQUEST_SECONDS),
        }
    }

    /// The authorization request's parameters.
    pub fn params(&self) -> Params {
        Params::parse_urlencoded(&self.params)
    }
}

/// The `request_uri` for a stored request's random handle.
pub fn request_uri(handle: &OpaqueToken) -> String {
    format!("{REQUEST_URI_PREFIX}{}", handle.expose())
}

/// The random handle a `request_uri` names, if it is one of this provider's.
pub fn handle_of(request_uri: &str) -> Option<OpaqueToken> {
    request_uri
        .strip_prefix(REQUEST_URI_PREFIX)
        .filter(|handle| !handle.is_empty())
        .map(OpaqueToken::presented)
}

/// The authorization request in a push's form, for the authenticated client `client_id`: the
/// form without its client authentication, with `client_id` set. A `request_uri` in a push is
/// refused (RFC 9126 §2.1), as is a `client_id` naming another client.
pub fn pushed_params(form: &Params, client_id: &str) -> Result<Params, ProtocolError> {
    if form.get("request_uri").is_some() {
        return Err(ProtocolError::new(
            ErrorCode::InvalidRequest,
            "request_uri cannot be pushed (RFC 9126 §2.1)",
        ));
    }
    if form.get("client_id").is_some_and(|id| id != client_id) {
        return Err(ProtocolError::new(
            ErrorCode::InvalidRequest,
            "client_id differs from the authenticated client",
        ));
    }
    let pairs = form
        .iter()
        .filter(|(name, _)| *name != "client_id" && !CLIENT_AUTH_PARAMS.contains(name))
        .chain(std::iter::once(("client_id", client_id)));
    Ok(Params::from_pairs(pairs))
}

/// Why an authorization request's `request_uri` cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// It is not one of ours, was never pushed, has expired or has served its code.
    #[error("the request_uri is unknown, expired or already used; push the request again")]
    Unknown,
    /// The front channel's `client_id` is missing or not the pushing client's (RFC 9126 §4).
    #[error("client_id is missing or differs from the client that pushed the request")]
    WrongClient,
}

/// The pushed request's parameters for a front-channel request naming `client_id`, if the
/// record `stored` (found under the request's `request_uri`) is still usable at `now`.
pub fn resolve(
    stored: Option<&PushedRequest>,
    client_id: Option<&str>,
    now: u64,
) -> Result<Params, ResolveError> {
    let pushed = stored
        .filter(|p| p.expires_at > now)
        .ok_or(ResolveError::Unknown)?;
    if client_id != Some(pushed.client_id.as_str()) {
        return Err(ResolveError::WrongClient);
    }
    Ok(pushed.params())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_keeps_the_request_and_drops_client_authentication() {
        let form = Params::parse_urlencoded(
            "client_id=docs&client_secret=s&response_type=code&scope=openid&state=x",
        );
        let params = pushed_params(&form, "docs").unwrap();
        assert_eq!(params.get("client_secret"), None);
        assert_eq!(params.get("client_id"), Some("docs"));
        assert_eq!(params.get("scope"), Some("openid"));
        let basic = Params::parse_urlencoded("response_type=code");
        assert_eq!(
            pushed_params(&basic, "docs").unwrap().get("client_id"),
            Some("docs"),
            "a client authenticated by its Basic header need not repeat its id"
        );
        for refused in ["client_id=mail&response_type=code", "request_uri=urn:x"] {
            let form = Params::parse_urlencoded(refused);
            assert_eq!(
                pushed_params(&form, "docs").unwrap_err().code,
                ErrorCode::InvalidRequest,
                "{refused}"
            );
        }
    }

    #[test]
    fn a_pushed_request_serves_its_own_client_until_it_expires() {
        let params = Params::parse_urlencoded("client_id=docs&scope=openid%20email");
        let pushed = PushedRequest::new("docs", &params, 1_000);
        let resolved = resolve(Some(&pushed), Some("docs"), 1_000).unwrap();
        assert_eq!(resolved.get("scope"), Some("openid email"));
        assert_eq!(
            resolve(Some(&pushed), Some("mail"), 1_000).unwrap_err(),
            ResolveError::WrongClient
        );
        assert_eq!(
            resolve(Some(&pushed), None, 1_000).unwrap_err(),
            ResolveError::WrongClient
        );
        assert_eq!(
            resolve(Some(&pushed), Some("docs"), 1_000 + PUSHED_REQUEST_SECONDS).unwrap_err(),
            ResolveError::Unknown
        );
        assert_eq!(
            resolve(None, Some("docs"), 1_000).unwrap_err(),
            ResolveError::Unknown
        );
    }

    #[test]
    fn only_our_request_uris_name_a_handle() {
        let handle = OpaqueToken::from_random([7; crate::token_value::TOKEN_BYTES]);
        let uri = request_uri(&handle);
        assert_eq!(handle_of(&uri).unwrap().expose(), handle.expose());
        assert!(handle_of("https://evil.example/request.jwt").is_none());
        assert!(handle_of(REQUEST_URI_PREFIX).is_none());
    }
}
