//! The protocol's error codes, spelled as the RFCs spell them.
//!
//! Every refusal in this crate carries one of these codes, so that the gateway writes the
//! `error` field of a redirect or a JSON body without a mapping table of its own.

use std::fmt;

/// An OAuth 2.0 / OpenID Connect error code (RFC 6749 §4.1.2.1 and §5.2, OIDC Core §3.1.2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A parameter is missing, repeated, malformed or not supported.
    InvalidRequest,
    /// The client is unknown or its authentication failed (answer 401 at the token endpoint).
    InvalidClient,
    /// The code or refresh token is invalid, expired, revoked, or bound to someone else.
    InvalidGrant,
    /// The client may not use this grant or response type.
    UnauthorizedClient,
    /// The grant type is not one this provider knows.
    UnsupportedGrantType,
    /// The response type is not `code`.
    UnsupportedResponseType,
    /// A requested scope is unknown or not allowed for the client.
    InvalidScope,
    /// The access rules deny the person this client's app.
    AccessDenied,
    /// The token exchange names a target (`audience`) the client may not get tokens for, or
    /// one the provider does not know (RFC 8693 §2.2.2).
    InvalidTarget,
    /// `prompt=none` was asked but the person must log in.
    LoginRequired,
    /// `prompt=none` was asked but the person must do something first: show a second factor
    /// (OIDC Core §3.1.2.6).
    InteractionRequired,
    /// The `request` parameter (request objects) is not supported.
    RequestNotSupported,
    /// The `request_uri` parameter is not supported.
    RequestUriNotSupported,
    /// A bearer token is malformed, expired, revoked or not ours (RFC 6750 §3.1; answer 401).
    InvalidToken,
    /// A bearer token lacks a scope the resource needs (RFC 6750 §3.1; answer 403).
    InsufficientScope,
    /// The provider cannot answer now (its session store is down); the client may retry
    /// (RFC 6749 §4.1.2.1; answer 503).
    TemporarilyUnavailable,
    /// The provider failed in a way the client cannot fix (RFC 6749 §4.1.2.1; answer 500).
    ServerError,
    /// A device code's person has not decided yet: poll again after the interval
    /// (RFC 8628 §3.5).
    AuthorizationPending,
    /// A device polled faster than its interval, which is now 5 s longer (RFC 8628 §3.5).
    SlowDown,
    /// A device code's time ran out before it was used: start again (RFC 8628 §3.5).
    ExpiredToken,
}

impl ErrorCode {
    /// The code as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::InvalidTarget => "invalid_target",
            Self::LoginRequired => "login_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::ServerError => "server_error",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal with its RFC code and a description safe to show to the client's developer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct ProtocolError {
    /// The RFC error code.
    pub code: ErrorCode,
    /// Human-readable detail (`error_description`); never contains a secret.
    pub description: String,
}

impl ProtocolError {
    /// Builds an error from its code and description.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }
}
