//! The OpenID Connect provider's protocol rules, with no HTTP and no I/O.
//!
//! The gateway wires endpoints to these functions; every rule of the protocol lives here,
//! tested in microseconds. Time comes in as `now` (Unix seconds) and randomness as bytes.
//!
//! ```text
//!  clients.toml ─▶ Clients (load, authenticate)
//!
//!  POST /par ─▶ pushed::pushed_params ─▶ authorize::validate ─▶ PushedRequest (request_uri)
//!  GET /authorize ─▶ (pushed::resolve) ─▶ authorize::validate ─▶ AuthorizationRequest ─▶ .session_verdict
//!                     │ (Page error | Redirect error + iss)     (Proceed | Login | StepUp | error)
//!                     ▼
//!                  AuthorizationCode (stored 60 s, single use) ─▶ AuthorizationResponse
//!
//!  POST /device_authorization ─▶ device::validate ─▶ DeviceGrant + UserCode (RFC 8628)
//!  GET|POST /device (the person) ─▶ UserCode::parse ─▶ DeviceGrant::approve | deny
//!
//!  POST /token ─▶ token::TokenRequest::parse ─▶ Clients::authenticate ─▶ grant rules:
//!                  token::exchange_code (binding + PKCE) │ RefreshFamily::rotate
//!                  │ token::client_credentials │ device::poll
//!                  │ token::exchange (RFC 8693 token exchange)
//!                     ▼
//!                  claims: ID token, RFC 9068 access token, userinfo, introspection
//!
//!  GET|POST /userinfo ─▶ bearer::presented_token (header or form body, never the query)
//!
//!  POST /revoke ─▶ revoke::revoke_refresh_token | revoke::revoke_access_token
//!  GET /end_session ─▶ end_session::validate ─▶ claims::logout_token_claims
//!  GET /.well-known/openid-configuration ─▶ discovery::document
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

// Modules in flow order (see the chart above); blank lines keep rustfmt from sorting them.

// Shared vocabulary: error codes, request parameters, scopes, opaque random values, and the
// authentication context (acr, amr).
pub mod error;
pub mod params;
pub mod scope;
pub mod token_value;

pub mod acr;

// 1. Registration: clients.toml and client authentication.
pub mod clients;

// 2. The authorization endpoint: PKCE, request validation, pushed requests, the code record.
pub mod pkce;

pub mod authorize;

pub mod pushed;

pub mod code;

// 2b. The device authorization grant's own front door (RFC 8628).
pub mod device;

// 3. The token endpoint: grants, refresh families, revocation.
pub mod token;

pub mod refresh;

pub mod revoke;

// 4. What is issued: ID, access and logout tokens, userinfo, introspection; and where a
// request to userinfo carries its token.
pub mod claims;

pub mod bearer;

// 5. Logout, and the discovery document that advertises all of the above.
pub mod end_session;

pub mod discovery;

#[cfg(test)]
mod testing;

pub use authorize::{AuthorizationRequest, AuthorizeError};
pub use clients::{Client, ClientType, Clients, ClientsError, GrantType};
pub use code::{Authentication, AuthorizationCode};
pub use error::{ErrorCode, ProtocolError};
pub use params::Params;
pub use pkce::CodeChallenge;
pub use refresh::{RefreshFamily, RefreshToken, Rotation};
pub use scope::{Scope, Scopes};
pub use token::TokenRequest;
pub use token_value::OpaqueToken;
