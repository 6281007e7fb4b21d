//! `private_key_jwt` client authentication (RFC 7523 §2.2, RFC 7521 §4.2, OIDC Core §9): the
//! client signs a short-lived JWT with its private key, and the provider checks it with the
//! public keys registered for that client. No secret is shared, so none can leak from the
//! provider.
//!
//! ```text
//! form ─▶ presented (type, one method, iss = sub = client_id) ─▶ the client's keys
//!      ─▶ verify (key by kid, alg, signature, aud, exp within an hour, nbf, iat, jti)
//!      ─▶ VerifiedAssertion { jti, expires_at }: the gateway remembers the jti until then
//! ```

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::error::{ErrorCode, ProtocolError};
use crate::params::Params;

/// The one assertion type accepted (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The longest life an assertion may claim: its `jti` is remembered that long, so a client
/// cannot make the provider keep an id for days.
pub const MAX_ASSERTION_SECONDS: u64 = 3600;

/// Clock difference tolerated between client and provider, in seconds.
const LEEWAY: u64 = 60;

/// The longest `jti` accepted.
const MAX_JTI_BYTES: usize = 256;

/// The signature algorithms accepted (advertised in discovery): asymmetric only.
pub const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// An assertion a request presented, with the client it claims to come from (not yet proven).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedAssertion {
    /// The client the assertion names as `iss` and `sub`.
    pub client_id: String,
    /// The signed JWT.
    pub jwt: String,
}

/// A verified assertion: what must be remembered so it is used once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// Its unique id.
    pub jti: String,
    /// When it expires (Unix seconds): the id is remembered until then.
    pub expires_at: u64,
}

/// Why an assertion was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    /// It names a key the client's set does not hold (a remote set may have rotated: fetch it
    /// again and retry once).
    #[error("the client assertion is signed with a key the client has not registered")]
    UnknownKey,
    /// It is not acceptable, for the reason given (safe to tell the client's developer).
    #[error("the client assertion is refused: {0}")]
    Refused(&'static str),
}

impl AssertionError {
    /// The refusal as the token endpoint answers it (`invalid_client`, RFC 6749 §5.2).
    pub fn to_protocol(&self) -> ProtocolError {
        ProtocolError::new(ErrorCode::InvalidClient, self.to_string())
    }
}

/// The assertion of a request's form, if it uses one: `None` when it has no
/// `client_assertion_type` or `client_assertion` (another method, or none).
pub fn presented(form: &Params) -> Option<Result<PresentedAssertion, ProtocolError>> {
    let kind = form.get("client_assertion_type");
    let jwt = form.get("client_assertion");
    if kind.is_none() && jwt.is_none() {
        return None;
    }
    Some(presented_from(form, kind, jwt))
}

fn presented_from(
    form: &Params,
    kind: Option<&str>,
    jwt: Option<&str>,
) -> Result<PresentedAssertion, ProtocolError> {
    let invalid = |d: &str| ProtocolError::new(ErrorCode::InvalidRequest, d);
    if form.is_repeated("client_assertion") || form.is_repeated("client_assertion_type") {
        return Err(invalid("client_assertion is repeated"));
    }
    if kind != Some(JWT_BEARER) {
        return Err(invalid(
            "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ));
    }
    let jwt = jwt.ok_or_else(|| invalid("client_assertion is missing"))?;
    if form.get("client_secret").is_some() {
        return Err(invalid(
            "use one client authentication method, not both client_secret and client_assertion",
        ));
    }
    let claims = unverified_claims(jwt).ok_or_else(|| {
        ProtocolError::new(
            ErrorCode::InvalidClient,
            "the client assertion is not a readable JWT",
        )
    })?;
    let (Some(iss), Some(sub)) = (claims.iss, claims.sub) else {
        return Err(ProtocolError::new(
            ErrorCode::InvalidClient,
            "the client assertion needs iss and sub, both the client_id",
        ));
    };
    if iss != sub || form.get("client_id").is_some_and(|id| id != sub) {
        return Err(ProtocolError::new(
            ErrorCode::InvalidClient,
            "the client assertion's iss, sub and the client_id must be the same client",
        ));
    }
    Ok(PresentedAssertion {
        client_id: sub,
        jwt: jwt.to_owned(),
    })
}

#[derive(Deserialize)]
struct Names {
    iss: Option<String>,
    sub: Option<String>,
}

/// The `iss` and `sub` of a JWT before its signature is checked: only to find whose keys to
/// check it with.
fn unverified_claims(jwt: &str) -> Option<Names> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Verifies `assertion` with the client's `keys`: meant for one of `audiences` (the issuer or
/// one of the endpoints that take client authentication), current at `now`, with a `jti`.
pub fn verify(
    assertion: &PresentedAssertion,
    keys: &JwkSet,
    audiences: &[String],
    now: u64,
) -> Result<VerifiedAssertion, AssertionError> {
    let header = jsonwebtoken::decode_header(&assertion.jwt)
        .map_err(|_| AssertionError::Refused("unreadable header or unsupported algorithm"))?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(AssertionError::Refused(
            "the algorithm must be asymmetric (RS, PS, ES or EdDSA)",
        ));
    }
    if header.crit.is_some() {
        return Err(AssertionError::Refused(
            "critical header extensions are not supported",
        ));
    }
    let jwk = key_for(keys, header.kid.as_deref()).ok_or(AssertionError::UnknownKey)?;
    if let Some(declared) = jwk.common.key_algorithm
        && declared != jsonwebtoken::jwk::KeyAlgorithm::from(header.alg)
    {
        return Err(AssertionError::Refused(
            "the algorithm differs from the key's",
        ));
    }
    let key = DecodingKey::from_jwk(jwk)
        .map_err(|_| AssertionError::Refused("the registered key cannot verify signatures"))?;
    let claims = jsonwebtoken::decode::<serde_json::Value>(
        &assertion.jwt,
        &key,
        &validation(header.alg, &assertion.client_id, audiences),
    )
    .map_err(|e| AssertionError::Refused(decode_refusal(e.kind())))?
    .claims;
    let expires_at = check_times(&claims, now)?;
    let jti = claims
        .get("jti")
        .and_then(serde_json::Value::as_str)
        .filter(|jti| !jti.is_empty() && jti.len() <= MAX_JTI_BYTES)
        .ok_or(AssertionError::Refused(
            "jti is required (at most 256 bytes): an assertion is used once",
        ))?;
    Ok(VerifiedAssertion {
        jti: jti.to_owned(),
        expires_at,
    })
}

/// The key a header's `kid` names; without a `kid`, the only key of a one-key set.
fn key_for<'k>(keys: &'k JwkSet, kid: Option<&str>) -> Option<&'k Jwk> {
    match kid {
        Some(kid) => keys.find(kid),
        None => match keys.keys.as_slice() {
            [only] => Some(only),
            _ => None,
        },
    }
}

fn validation(alg: Algorithm, client_id: &str, audiences: &[String]) -> Validation {
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.set_issuer(&[client_id]);
    v.sub = Some(client_id.to_owned());
    v.set_audience(audiences);
    v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    v
}

fn decode_refusal(kind: &jsonwebtoken::errors::ErrorKind) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match kind {
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::InvalidAudience => "the audience must be this provider's issuer or endpoint",
        ErrorKind::InvalidIssuer | ErrorKind::InvalidSubject => "iss and sub must be the client_id",
        ErrorKind::MissingRequiredClaim(_) => "exp, iss, sub and aud are required",
        ErrorKind::InvalidAlgorithm => "the algorithm does not fit the key",
        _ => "undecodable token",
    }
}

/// `exp` present, not past and at most an hour ahead; `nbf` and `iat` not in the future.
fn check_times(claims: &serde_json::Value, now: u64) -> Result<u64, AssertionError> {
    let date = |name: &str| claims.get(name).and_then(serde_json::Value::as_u64);
    let exp = date("exp").ok_or(AssertionError::Refused("exp must be a number of seconds"))?;
    if now >= exp.saturating_add(LEEWAY) {
        return Err(AssertionError::Refused("the assertion has expired"));
    }
    if exp > now.saturating_add(MAX_ASSERTION_SECONDS + LEEWAY) {
        return Err(AssertionError::Refused(
            "exp is more than an hour ahead; make assertions short-lived",
        ));
    }
    let future = |t: u64| t > now.saturating_add(LEEWAY);
    if date("nbf").is_some_and(future) || date("iat").is_some_and(future) {
        return Err(AssertionError::Refused(
            "the assertion is not valid yet (nbf or iat in the future)",
        ));
    }
    Ok(exp)
}

#[cfg(test)]
mod tests;
