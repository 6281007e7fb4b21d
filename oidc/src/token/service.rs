//! `grant_type=client_credentials`: a service acting for itself (RFC 6749 §4.4).

use crate::clients::Client;
use crate::error::{ErrorCode, ProtocolError};
use crate::scope::{Scope, Scopes};

/// The scopes to grant a service client. No person is involved, so `openid` and
/// `offline_access` make no sense and are refused; anything else must be the client's.
pub fn client_credentials(
    client: &Client,
    requested: Option<Scopes>,
) -> Result<Scopes, ProtocolError> {
    let user_only = Scopes::EMPTY.with(Scope::Openid).with(Scope::OfflineAccess);
    let allowed = client
        .scopes
        .iter()
        .filter(|s| !user_only.contains(*s))
        .collect::<Scopes>();
    let Some(requested) = requested else {
        return Ok(allowed);
    };
    if requested.is_subset_of(allowed) {
        Ok(requested)
    } else {
        Err(ProtocolError::new(
            ErrorCode::InvalidScope,
            "client_credentials tokens carry no person: openid and offline_access, and scopes \
             beyond the client's, are refused",
        ))
    }
}
