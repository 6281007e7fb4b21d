//! The token endpoint's rules (RFC 6749 §4.1.3, §4.4, §6; RFC 8628 §3.4; RFC 8693).
//!
//! ```text
//! Params ─▶ TokenRequest::parse ─▶ Clients::authenticate ─▶ TokenRequest::check_client
//!            (grant + its params)     (invalid_client)         (unauthorized_client)
//!        ─▶ exchange_code | refresh::RefreshFamily::rotate | client_credentials
//!         | device::poll
//!           | exchange (token exchange)
//! ```

mod code_grant;
pub mod exchange;
mod service;

pub use code_grant::exchange_code;
pub use service::client_credentials;

use crate::clients::{Client, GrantType};
use crate::error::{ErrorCode, ProtocolError};
use crate::params::Params;
use crate::scope::Scopes;
use crate::token_value::OpaqueToken;
use exchange::ExchangeRequest;

/// A token request, parsed: the grant and its own parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest {
    /// Exchange a code.
    AuthorizationCode {
        /// The code from the redirect.
        code: OpaqueToken,
        /// The redirect URI, when the authorization request had one.
        redirect_uri: Option<String>,
        /// The PKCE verifier (kept out of Debug output by [`OpaqueToken`]).
        code_verifier: Option<OpaqueToken>,
    },
    /// Renew tokens.
    RefreshToken {
        /// The refresh token presented.
        refresh_token: OpaqueToken,
        /// A narrower scope, if asked.
        scope: Option<Scopes>,
    },
    /// A service asks for a token for itself.
    ClientCredentials {
        /// The scope asked for, if any.
        scope: Option<Scopes>,
    },
    /// A device polls for the tokens its person approved (RFC 8628 §3.4).
    DeviceCode {
        /// The device code from the device authorization response.
        device_code: OpaqueToken,
    },
    /// A service trades a person's access token for one to another client's API.
    TokenExchange(ExchangeRequest),
}

impl TokenRequest {
    /// Parses the form body of a token request.
    pub fn parse(params: &Params) -> Result<Self, ProtocolError> {
        let invalid = |d: &str| ProtocolError::new(ErrorCode::InvalidRequest, d);
        if params.repeated().is_some() {
            return Err(invalid("a parameter was sent more than once"));
        }
        let scope = params
            .get("scope")
            .map(Scopes::parse)
            .transpose()
            .map_err(|e| ProtocolError::new(ErrorCode::InvalidScope, e.to_string()))?;
        let grant = params
            .get("grant_type")
            .ok_or_else(|| invalid("grant_type is required"))?;
        match GrantType::from_wire(grant) {
            Some(GrantType::AuthorizationCode) => Ok(Self::AuthorizationCode {
                code: params
                    .get("code")
                    .map(OpaqueToken::presented)
                    .ok_or_else(|| invalid("code is required"))?,
                redirect_uri: params.get("redirect_uri").map(str::to_owned),
                code_verifier: params.get("code_verifier").map(OpaqueToken::presented),
            }),
            Some(GrantType::RefreshToken) => Ok(Self::RefreshToken {
                refresh_token: params
                    .get("refresh_token")
                    .map(OpaqueToken::presented)
                    .ok_or_else(|| invalid("refresh_token is required"))?,
                scope,
            }),
            Some(GrantType::ClientCredentials) => Ok(Self::ClientCredentials { scope }),
            Some(GrantType::DeviceCode) => Ok(Self::DeviceCode {
                device_code: params
                    .get("device_code")
                    .map(OpaqueToken::presented)
                    .ok_or_else(|| invalid("device_code is required"))?,
            }),
            Some(GrantType::TokenExchange) => {
                ExchangeRequest::parse(params, scope).map(Self::TokenExchange)
            }
            None => Err(ProtocolError::new(
                ErrorCode::UnsupportedGrantType,
                "grant_type must be authorization_code, refresh_token, client_credentials, \
                 urn:ietf:params:oauth:grant-type:device_code or \
                 urn:ietf:params:oauth:grant-type:token-exchange",
            )),
        }
    }

    /// The grant type of this request.
    pub fn grant_type(&self) -> GrantType {
        match self {
            Self::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            Self::RefreshToken { .. } => GrantType::RefreshToken,
            Self::ClientCredentials { .. } => GrantType::ClientCredentials,
            Self::DeviceCode { .. } => GrantType::DeviceCode,
            Self::TokenExchange(_) => GrantType::TokenExchange,
        }
    }

    /// Refuses a grant the authenticated client is not registered for.
    pub fn check_client(&self, client: &Client) -> Result<(), ProtocolError> {
        if client.allows(self.grant_type()) {
            Ok(())
        } else {
            Err(ProtocolError::new(
                ErrorCode::UnauthorizedClient,
                format!("this client may not use {}", self.grant_type().as_str()),
            ))
        }
    }
}

#[cfg(test)]
mod tests;
