//! Client authentication at the token endpoint (RFC 6749 §2.3): `client_secret_basic`,
//! `client_secret_post`, and `none` for public clients.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{Client, ClientType, Clients};
use crate::error::{ErrorCode, ProtocolError};
use crate::params::Params;

/// The `client_id` and secret from an `Authorization: Basic` header (`client_secret_basic`).
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    /// The client id, form-decoded as RFC 6749 §2.3.1 requires.
    pub client_id: String,
    /// The secret, form-decoded.
    pub secret: String,
}

impl BasicCredentials {
    /// Parses the value of an `Authorization` header; `None` if it is not valid Basic.
    pub fn parse(header: &str) -> Option<Self> {
        let (scheme, encoded) = header.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = STANDARD.decode(encoded.trim()).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        Some(Self {
            client_id: form_decode(id),
            secret: form_decode(secret),
        })
    }
}

/// Undoes `application/x-www-form-urlencoded` encoding of one value ('+' is a space).
fn form_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

impl fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("client_id", &self.client_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// What a token request offered to prove which client sent it.
#[derive(Clone, PartialEq, Eq)]
pub struct PresentedCredentials {
    /// The client id.
    pub client_id: String,
    /// The secret, if any (absent for public clients).
    pub secret: Option<String>,
}

impl fmt::Debug for PresentedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresentedCredentials")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl PresentedCredentials {
    /// Combines the Basic header and the form body. Using both methods at once, or a body
    /// `client_id` that differs from the header's, is `invalid_request` (RFC 6749 §2.3).
    pub fn from_request(
        basic: Option<BasicCredentials>,
        form: &Params,
    ) -> Result<Self, ProtocolError> {
        let body_id = form.get("client_id");
        let body_secret = form.get("client_secret");
        match basic {
            Some(_) if body_secret.is_some() => Err(ProtocolError::new(
                ErrorCode::InvalidRequest,
                "use one client authentication method, not both Basic and client_secret",
            )),
            Some(b) if body_id.is_some_and(|id| id != b.client_id) => Err(ProtocolError::new(
                ErrorCode::InvalidRequest,
                "client_id differs from the Authorization header's",
            )),
            Some(b) => Ok(Self {
                client_id: b.client_id,
                secret: Some(b.secret),
            }),
            None => match body_id {
                Some(id) => Ok(Self {
                    client_id: id.to_owned(),
                    secret: body_secret.map(str::to_owned),
                }),
                None => Err(ProtocolError::new(
                    ErrorCode::InvalidClient,
                    "client authentication is required",
                )),
            },
        }
    }
}

impl Clients {
    /// Authenticates the client of a token request; every failure is `invalid_client`.
    ///
    /// Unknown ids still cost one argon2 verification (against a registered hash), so
    /// timing does not reveal which client ids exist.
    pub fn authenticate(&self, creds: &PresentedCredentials) -> Result<&Client, ProtocolError> {
        let refuse =
            || ProtocolError::new(ErrorCode::InvalidClient, "client authentication failed");
        let Some(client) = self.get(&creds.client_id) else {
            if let (Some(stand_in), Some(secret)) = (&self.stand_in, &creds.secret) {
                let _ = stand_in.verify(secret);
            }
            return Err(refuse());
        };
        match (&client.client_type, &creds.secret) {
            (ClientType::Public, None) => Ok(client),
            (ClientType::Confidential(hash), Some(secret)) if hash.verify(secret) => Ok(client),
            _ => Err(refuse()),
        }
    }
}
