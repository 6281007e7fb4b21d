//! `POST /oidc/device_authorization`: a device asks to log a person in (RFC 8628 §3.1).
//!
//! ```text
//! client authentication (as at the token endpoint) ─▶ device::validate (grant, scopes)
//!   │ refused: 400/401 with the rule's error
//!   ▼
//! device code (random) + user code (drawn until free) ─▶ DeviceGrant filed 10 min
//!   ─▶ 200 {device_code, user_code, verification_uri(_complete), expires_in, interval}
//! ```
//!
//! The person then enters the user code on the verification page
//! ([`super::device_verification`]) while the device polls the token endpoint
//! ([`super::device_poll`]).

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use pforte_oidc::device::{DeviceAuthorizationResponse, DeviceGrant, UserCode};
use pforte_oidc::discovery::paths;
use pforte_oidc::{ErrorCode, OpaqueToken, Params, ProtocolError};

use super::client_auth;
use super::grants::Grants;
use super::provider::Provider;
use super::reply::{json_no_store, refused};
use crate::login_host::LoginHost;
use crate::web::error::GatewayError;

/// How many user codes are drawn before giving up. A drawn code is taken by another live
/// authorization with a chance of (live codes) / 20⁸; a sixth draw is never needed.
const USER_CODE_DRAWS: usize = 6;

/// Answers a device authorization request.
pub async fn authorize_device(
    host: &LoginHost<'_>,
    provider: &Provider,
    headers: &HeaderMap,
    form: &Params,
) -> Result<Response<Bytes>, GatewayError> {
    let refuse =
        |error: &ProtocolError| Ok(refused(&host.shared.metrics, "device_authorization", error));
    let client = match client_auth::authenticate(host, provider, headers, form).await {
        Ok(client) => client,
        Err(error) => return refuse(&error),
    };
    let scopes = match pforte_oidc::device::validate(form, client) {
        Ok(scopes) => scopes,
        Err(error) => return refuse(&error),
    };
    let now = host.ctx.now.unix_secs();
    let grant = DeviceGrant::new(&client.id, scopes, now);
    let device_code = OpaqueToken::from_random(rand::random());
    let grants = Grants::new(&host.shared.sessions);
    for _ in 0..USER_CODE_DRAWS {
        let Some(user_code) = UserCode::from_random(rand::random()) else {
            continue;
        };
        if grants
            .put_device(&device_code, &user_code, &grant, now)
            .await?
        {
            let verification_uri = format!("{}{}", host.login_origin(), paths::DEVICE_VERIFICATION);
            let body =
                DeviceAuthorizationResponse::new(&device_code, &user_code, &verification_uri);
            return Ok(json_no_store(StatusCode::OK, &body));
        }
    }
    tracing::error!(
        draws = USER_CODE_DRAWS,
        "no free user code for a device authorization"
    );
    refuse(&ProtocolError::new(
        ErrorCode::TemporarilyUnavailable,
        "no user code is free right now; try again",
    ))
}
