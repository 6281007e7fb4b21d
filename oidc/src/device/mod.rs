//! The device authorization grant (RFC 8628): a device with no browser or no keyboard (a
//! video-conference room system, a command-line tool on a server) logs a person in on a second
//! device. It shows a short user code; the person types it on the login host's verification
//! page on their phone or laptop and approves; meanwhile the device polls the token endpoint
//! until the decision is made.
//!
//! ```text
//! POST /device_authorization ─▶ request::validate (grant, scopes) ─▶ DeviceGrant::new
//!   (client auth)                 device_code (random, stored as its digest) + UserCode
//!                                 ─▶ DeviceAuthorizationResponse
//!
//! GET|POST /device (a signed-in person) ─▶ UserCode::parse ─▶ the DeviceGrant it names
//!                                         ─▶ DeviceGrant::approve | DeviceGrant::deny
//!
//! POST /token (device_code) ─▶ poll ─▶ Wait: authorization_pending | slow_down (interval + 5 s)
//!                                   ├▶ Approved: the record taken once, tokens issued
//!                                   └▶ Refused: invalid_grant | access_denied | expired_token
//! ```
//!
//! A device authorization lives [`DEVICE_CODE_SECONDS`]. Its record is kept
//! [`EXPIRED_NOTICE_SECONDS`] longer, so that a device polling late hears `expired_token`
//! rather than `invalid_grant`; it serves nothing in that time.

mod grant;
mod poll;
mod request;
mod user_code;

pub use grant::{Decision, DeviceGrant};
pub use poll::{Poll, poll};
pub use request::{DeviceAuthorizationResponse, validate};
pub use user_code::{USER_CODE_ALPHABET, USER_CODE_LEN, USER_CODE_RANDOM_BYTES, UserCode};

/// The grant's `grant_type` at the token endpoint (RFC 8628 §3.4).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// How long a device code and its user code may be used: time to fetch a phone, sign in and
/// show a second factor, short enough that an abandoned code is soon worth nothing.
pub const DEVICE_CODE_SECONDS: u64 = 600;

/// How long a device waits between polls at first (RFC 8628 §3.2's default).
pub const POLL_INTERVAL_SECONDS: u64 = 5;

/// How much longer the interval becomes each time a device polls too soon (RFC 8628 §3.5).
pub const SLOW_DOWN_SECONDS: u64 = 5;

/// How long an expired device authorization is remembered, to answer `expired_token`.
pub const EXPIRED_NOTICE_SECONDS: u64 = 600;

#[cfg(test)]
mod tests;
