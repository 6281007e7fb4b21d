//! The provider's ID token, checked as OpenID Connect Core §3.1.3.7 asks: the signature by a key
//! of the provider's JWKS (asymmetric algorithms only; [`crate::signature`], on aws-lc-rs), then
//! the claims by the openidconnect crate's verifier: `iss` exactly the provider's, `aud` holding Pforte's client id and no audience Pforte
//! does not trust (then `azp`), `exp` in the future, `iat` not in the future, and `nonce` the one
//! sent. A key id the set does not hold is told apart ([`IdTokenError::UnknownKey`]) so the
//! gateway can fetch the set again once: that is how a provider's key rotation looks.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, ClaimsVerificationError, ClientId, IdToken, IdTokenVerifier, IssuerUrl,
    Nonce, SignatureVerificationError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::signature::{self, SignatureError};

/// How far ahead of Pforte's clock a provider's `iat` may be: clocks drift a little.
const IAT_SKEW: TimeDelta = TimeDelta::minutes(2);

/// The signature algorithms accepted. HMAC (`HS*`) is not: it would make the client secret a
/// signing key, which Pforte keeps out of token checks.
pub(crate) const ALGORITHMS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// Claims beyond the standard ones (groups, `sid`, …), kept so the token parses whatever a
/// provider adds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Extra {
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl AdditionalClaims for Extra {}

type UpstreamIdToken =
    IdToken<Extra, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// Why an ID token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    /// Not a signed JWT with an ID token's claims.
    #[error("the ID token is malformed: {0}")]
    Malformed(String),
    /// The key set is not a JWKS.
    #[error("the provider's key set is malformed: {0}")]
    KeySet(String),
    /// `iss` is not the provider's.
    #[error("the ID token's issuer is wrong: {0}")]
    Issuer(String),
    /// `aud` does not hold Pforte's client id, or holds others.
    #[error("the ID token's audience is wrong: {0}")]
    Audience(String),
    /// No key of the set has the token's key id.
    #[error("the ID token is signed by a key the provider does not publish")]
    UnknownKey,
    /// The signature does not verify, or its algorithm is not accepted.
    #[error("the ID token's signature is not valid: {0}")]
    Signature(String),
    /// `exp` has passed, or `iat` is in the future.
    #[error("the ID token has expired or is not yet valid: {0}")]
    Expired(String),
    /// `nonce` is missing or not the one sent.
    #[error("the ID token's nonce is wrong: {0}")]
    Nonce(String),
}

/// What Pforte expects of an ID token.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The provider's issuer.
    pub issuer: &'a str,
    /// Pforte's client id there.
    pub client_id: &'a str,
    /// The nonce sent with the authorization request.
    pub nonce: &'a str,
}

/// The verified claims of an ID token.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamClaims {
    /// The provider's subject.
    pub sub: String,
    /// The provider's session id (`sid`), for its back-channel logout.
    pub sid: Option<String>,
    /// Every claim as sent (the mapping rules read them).
    pub all: Map<String, Value>,
}

/// Verifies `raw` with the provider's key set `jwks` at `now`.
pub fn verify(
    raw: &str,
    expected: Expected<'_>,
    jwks: &[u8],
    now: DateTime<Utc>,
) -> Result<UpstreamClaims, IdTokenError> {
    signature::verify(raw, jwks).map_err(|e| match e {
        SignatureError::Malformed(m) => IdTokenError::Malformed(m),
        SignatureError::KeySet(m) => IdTokenError::KeySet(m),
        SignatureError::UnknownKey => IdTokenError::UnknownKey,
        SignatureError::Invalid(m) => IdTokenError::Signature(m),
    })?;
    let token: UpstreamIdToken = raw
        .parse()
        .map_err(|e: serde_json::Error| IdTokenError::Malformed(e.to_string()))?;
    let issuer = IssuerUrl::new(expected.issuer.to_owned())
        .map_err(|e| IdTokenError::Issuer(e.to_string()))?;
    // "Public client" only means the verifier holds no client secret: HMAC is not accepted.
    // The signature was verified just above (on aws-lc-rs); this verifier checks the claims.
    let verifier: IdTokenVerifier<'_, CoreJsonWebKey> = IdTokenVerifier::new_public_client(
        ClientId::new(expected.client_id.to_owned()),
        issuer,
        CoreJsonWebKeySet::new(Vec::new()),
    )
    .insecure_disable_signature_check()
    .set_allowed_algs(ALGORITHMS)
    .set_time_fn(move || now)
    .set_issue_time_verifier_fn(move |iat| {
        if iat > now + IAT_SKEW {
            Err(format!("issued in the future ({iat})"))
        } else {
            Ok(())
        }
    });
    let nonce = Nonce::new(expected.nonce.to_owned());
    token.claims(&verifier, &nonce).map_err(refusal)?;
    let all = payload(raw)?;
    let sub = all
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| IdTokenError::Malformed("no sub".into()))?
        .to_owned();
    let sid = all.get("sid").and_then(Value::as_str).map(str::to_owned);
    Ok(UpstreamClaims { sub, sid, all })
}

/// The claims of a token whose signature was verified, as a JSON object.
fn payload(raw: &str) -> Result<Map<String, Value>, IdTokenError> {
    let part = raw
        .split('.')
        .nth(1)
        .ok_or_else(|| IdTokenError::Malformed("not a JWT".into()))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|e| IdTokenError::Malformed(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| IdTokenError::Malformed(e.to_string()))
}

fn refusal(e: ClaimsVerificationError) -> IdTokenError {
    match e {
        ClaimsVerificationError::InvalidIssuer(m) => IdTokenError::Issuer(m),
        ClaimsVerificationError::InvalidAudience(m) => IdTokenError::Audience(m),
        ClaimsVerificationError::Expired(m) | ClaimsVerificationError::InvalidAuthTime(m) => {
            IdTokenError::Expired(m)
        }
        ClaimsVerificationError::InvalidNonce(m) => IdTokenError::Nonce(m),
        ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        ) => IdTokenError::UnknownKey,
        ClaimsVerificationError::SignatureVerification(s) => IdTokenError::Signature(s.to_string()),
        other => IdTokenError::Malformed(other.to_string()),
    }
}

#[cfg(test)]
mod tests;
