//! A provider's back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.4, checked
//! as §2.6 asks): signed by a key of the provider's JWKS with an asymmetric algorithm, `iss` the
//! provider's, `aud` holding Pforte's client id, `iat` present and not in the future, `exp` (if
//! present) not passed, the back-channel logout event, `sub` or `sid`, and no `nonce` (so an ID
//! token can never pass as a logout token). The key is found as for ID tokens
//! ([`crate::signature`]); the jsonwebtoken crate checks signature, issuer and audience.

use std::collections::HashSet;

use jsonwebtoken::{Validation, decode};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::signature::{self, SignatureError};

/// The event member a logout token must carry.
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How far ahead of Pforte's clock a provider's `iat` may be.
const IAT_SKEW_SECS: u64 = 120;

/// Why a logout token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoutTokenError {
    /// Not a JWT, or its claims are not a logout token's.
    #[error("the logout token is malformed: {0}")]
    Malformed(String),
    /// No key of the set has the token's key id.
    #[error("the logout token is signed by a key the provider does not publish")]
    UnknownKey,
    /// The signature, issuer or audience does not verify.
    #[error("the logout token does not verify: {0}")]
    Invalid(String),
    /// `iat` is in the future or `exp` has passed.
    #[error("the logout token is not valid now")]
    Time,
}

/// What a verified logout token asks to end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    /// The provider's subject, if named.
    pub sub: Option<String>,
    /// The provider's session, if named.
    pub sid: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    iat: u64,
    exp: Option<u64>,
    sub: Option<String>,
    sid: Option<String>,
    jti: Option<String>,
    events: Option<Map<String, Value>>,
    nonce: Option<Value>,
}

/// Verifies `raw` from the provider `issuer` for Pforte's `client_id` with the key set `jwks`
/// at `now` (Unix seconds).
pub fn verify(
    raw: &str,
    issuer: &str,
    client_id: &str,
    jwks: &[u8],
    now: u64,
) -> Result<LogoutRequest, LogoutTokenError> {
    let (header, key) = signature::key_for(raw, jwks).map_err(|e| match e {
        SignatureError::Malformed(m) | SignatureError::KeySet(m) => LogoutTokenError::Malformed(m),
        SignatureError::UnknownKey => LogoutTokenError::UnknownKey,
        SignatureError::Invalid(m) => LogoutTokenError::Invalid(m),
    })?;
    let mut validation = Validation::new(header.alg);
    validation.required_spec_claims = HashSet::from(["iss".to_owned(), "aud".to_owned()]);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[client_id]);
    let claims = decode::<Claims>(raw, &key, &validation)
        .map_err(|e| LogoutTokenError::Invalid(e.to_string()))?
        .claims;
    if claims.iat > now + IAT_SKEW_SECS || claims.exp.is_some_and(|exp| exp <= now) {
        return Err(LogoutTokenError::Time);
    }
    if !claims
        .events
        .as_ref()
        .and_then(|events| events.get(LOGOUT_EVENT))
        .is_some_and(Value::is_object)
    {
        return Err(LogoutTokenError::Malformed(
            "no back-channel logout event".into(),
        ));
    }
    if claims.nonce.is_some() {
        return Err(LogoutTokenError::Malformed(
            "a logout token has no nonce".into(),
        ));
    }
    if claims.jti.as_deref().is_none_or(str::is_empty) {
        return Err(LogoutTokenError::Malformed("no jti".into()));
    }
    let sub = claims.sub.filter(|s| !s.is_empty());
    let sid = claims.sid.filter(|s| !s.is_empty());
    if sub.is_none() && sid.is_none() {
        return Err(LogoutTokenError::Malformed("neither sub nor sid".into()));
    }
    Ok(LogoutRequest { sub, sid })
}
