//! The device authorization request (RFC 8628 §3.1) and its answer (§3.2). The client is
//! authenticated as at the token endpoint before these rules run; its scopes are checked as for
//! the code flow, since the person approves the same kind of login.

use serde::Serialize;

use super::user_code::UserCode;
use super::{DEVICE_CODE_SECONDS, POLL_INTERVAL_SECONDS};
use crate::clients::{Client, GrantType};
use crate::error::{ErrorCode, ProtocolError};
use crate::params::Params;
use crate::scope::Scopes;
use crate::token_value::OpaqueToken;

/// The scopes a device authorization request of the authenticated `client` asks for, if the
/// client may use the grant and may have them: `openid` among them (the device gets an ID
/// token), each known, each registered for the client.
pub fn validate(form: &Params, client: &Client) -> Result<Scopes, ProtocolError> {
    use ErrorCode::{InvalidRequest, UnauthorizedClient};
    if form.repeated().is_some() {
        return Err(ProtocolError::new(
            InvalidRequest,
            "a parameter was sent more than once",
        ));
    }
    if !client.allows(GrantType::DeviceCode) {
        return Err(ProtocolError::new(
            UnauthorizedClient,
            "this client may not use the device authorization grant; add \"device_code\" to \
             its grant_types",
        ));
    }
    Scopes::for_person(form.get("scope"), client.scopes)
}

/// The answer to a device authorization request (RFC 8628 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceAuthorizationResponse {
    /// What the device presents at the token endpoint; only its digest is stored.
    pub device_code: String,
    /// What the person types, as the device shows it (`WDJB-MJHT`).
    pub user_code: String,
    /// The verification page on the login host.
    pub verification_uri: String,
    /// The page with the code filled in, for a QR code or a link (the person still confirms).
    pub verification_uri_complete: String,
    /// Seconds both codes may be used.
    pub expires_in: u64,
    /// Seconds the device waits between polls.
    pub interval: u64,
}

impl DeviceAuthorizationResponse {
    /// The answer for a new device authorization with these codes; `verification_uri` is the
    /// login host's verification page (`https://login.example.org/device`).
    pub fn new(device_code: &OpaqueToken, user_code: &UserCode, verification_uri: &str) -> Self {
        let shown = user_code.display();
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("user_code", &shown);
        Self {
            device_code: device_code.expose().to_owned(),
            verification_uri_complete: format!("{verification_uri}?{}", query.finish()),
            user_code: shown,
            verification_uri: verification_uri.to_owned(),
            expires_in: DEVICE_CODE_SECONDS,
            interval: POLL_INTERVAL_SECONDS,
        }
    }
}
