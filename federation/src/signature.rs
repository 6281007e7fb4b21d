//! The signature of a JWT from a partner's provider (ID tokens, logout tokens), checked with the
//! jsonwebtoken crate on aws-lc-rs, against the key of the provider's JWKS that the token's
//! header names. Asymmetric algorithms only: an HMAC token would make the client secret a
//! signing key, and `none` is not a signature.
//!
//! Why here and not in openidconnect's verifier, which checks the ID token's claims: it verifies
//! ES256 with a pure-Rust implementation about five times slower than aws-lc-rs, which made the
//! signature half of Pforte's CPU per federated login (BENCHMARKS.md).

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Header, decode_header};
use serde_json::Value;

/// The algorithms a partner's token may be signed with.
pub(crate) const ALGORITHMS: [Algorithm; 9] = [
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

/// Why a token's signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SignatureError {
    /// Not a JWS in compact form, or its header is unreadable.
    Malformed(String),
    /// The key set is not a JWKS.
    KeySet(String),
    /// No usable key of the set has the token's key id.
    UnknownKey,
    /// The algorithm is not accepted, or the signature is wrong.
    Invalid(String),
}

/// Verifies the signature of `raw` with the key of `jwks` its header names; the header.
pub(crate) fn verify(raw: &str, jwks: &[u8]) -> Result<Header, SignatureError> {
    let (header, key) = key_for(raw, jwks)?;
    let (message, signature) = raw
        .rsplit_once('.')
        .ok_or_else(|| SignatureError::Malformed("not a JWT".into()))?;
    match jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, header.alg) {
        Ok(true) => Ok(header),
        Ok(false) => Err(SignatureError::Invalid(
            "the signature does not verify".into(),
        )),
        Err(e) => Err(SignatureError::Invalid(e.to_string())),
    }
}

/// The token's header and the key of `jwks` that must have signed it: the one with its `kid`
/// (or the only key, when the token names none), meant for signatures, of the header's
/// algorithm when the key names one.
pub(crate) fn key_for(raw: &str, jwks: &[u8]) -> Result<(Header, DecodingKey), SignatureError> {
    let header = decode_header(raw).map_err(|e| SignatureError::Malformed(e.to_string()))?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(SignatureError::Invalid(format!(
            "algorithm {:?} is not accepted",
            header.alg
        )));
    }
    let keys = usable_keys(jwks)?;
    let jwk = match &header.kid {
        Some(kid) => keys
            .iter()
            .find(|k| k.common.key_id.as_deref() == Some(kid.as_str())),
        None if keys.len() == 1 => keys.first(),
        None => None,
    }
    .ok_or(SignatureError::UnknownKey)?;
    if let Some(alg) = jwk.common.key_algorithm
        && format!("{alg:?}") != format!("{:?}", header.alg)
    {
        return Err(SignatureError::Invalid(
            "the key is published for another algorithm".into(),
        ));
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|e| SignatureError::Invalid(e.to_string()))?;
    Ok((header, key))
}

/// The keys of a JWKS meant for signatures; keys the jsonwebtoken crate cannot read are skipped
/// rather than spoiling the set, as RFC 7517 §5 asks.
fn usable_keys(jwks: &[u8]) -> Result<Vec<Jwk>, SignatureError> {
    let set: Value =
        serde_json::from_slice(jwks).map_err(|e| SignatureError::KeySet(e.to_string()))?;
    let keys = set
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| SignatureError::KeySet("no \"keys\" array".into()))?;
    Ok(keys
        .iter()
        .filter(|k| {
            k.get("use")
                .and_then(Value::as_str)
                .is_none_or(|u| u == "sig")
        })
        .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_and_the_claims_verifier_accept_the_same_algorithms() {
        let here: Vec<String> = ALGORITHMS.iter().map(|a| format!("{a:?}")).collect();
        let claims: Vec<String> = crate::id_token::ALGORITHMS
            .iter()
            .filter_map(|a| serde_json::to_value(a).ok())
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        assert_eq!(here, claims);
    }

    #[test]
    fn keys_for_encryption_are_skipped() {
        let set = br#"{"keys":[{"kty":"EC","use":"enc","kid":"e"},
            {"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;
        let keys = usable_keys(set).unwrap();
        let kids: Vec<_> = keys
            .iter()
            .filter_map(|k| k.common.key_id.as_deref())
            .collect();
        assert!(kids.contains(&"k1") && !kids.contains(&"e"), "{kids:?}");
        assert!(matches!(usable_keys(b"{}"), Err(SignatureError::KeySet(_))));
    }
}
