//! A provider's key set judged before anyone logs in (`pforte-admin idps test`): an ID token
//! verifies only with a key of the set whose type and algorithm [`crate::id_token`] accepts, so
//! a set without such a key means every login through the provider would be refused.

use serde::Deserialize;

use crate::id_token::ALGORITHMS;

/// Why a key set cannot verify any ID token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeySetError {
    /// Not the JSON of a key set (RFC 7517 §5).
    #[error("the key set is not a JWKS: {0}")]
    Malformed(String),
    /// The set holds no key.
    #[error("the key set holds no keys")]
    Empty,
    /// No key of the set could verify an ID token with an algorithm Pforte accepts.
    #[error(
        "none of the key set's {count} key(s) is a signing key for an algorithm Pforte accepts \
         ({accepted})"
    )]
    NoSigningKey {
        /// How many keys the set holds.
        count: usize,
        /// The accepted algorithms, comma-separated.
        accepted: String,
    },
}

#[derive(Deserialize)]
struct KeySet {
    keys: Vec<Key>,
}

/// The members of a JWK that say what it may verify.
#[derive(Deserialize)]
struct Key {
    kty: String,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    alg: Option<String>,
    crv: Option<String>,
    kid: Option<String>,
}

/// The JWS names (`RS256`, `ES256`, `EdDSA`, ...) of the algorithms an ID token may be signed
/// with: asymmetric ones only.
pub fn accepted_algorithms() -> Vec<String> {
    ALGORITHMS
        .iter()
        .filter_map(|alg| serde_json::to_value(alg).ok())
        .filter_map(|name| name.as_str().map(str::to_owned))
        .collect()
}

/// Whether an ID token signed with the algorithm named `alg` can be accepted.
pub fn is_accepted(alg: &str) -> bool {
    accepted_algorithms().iter().any(|a| a == alg)
}

/// The keys of `jwks` that could verify an ID token, by key id (`#n`, counted from 1, for a
/// key without one); an error when there is none.
pub fn signing_keys(jwks: &[u8]) -> Result<Vec<String>, KeySetError> {
    let set: KeySet =
        serde_json::from_slice(jwks).map_err(|e| KeySetError::Malformed(e.to_string()))?;
    if set.keys.is_empty() {
        return Err(KeySetError::Empty);
    }
    let accepted = accepted_algorithms();
    let usable: Vec<String> = set
        .keys
        .iter()
        .enumerate()
        .filter(|(_, key)| verifies(key, &accepted))
        .map(|(i, key)| key.kid.clone().unwrap_or_else(|| format!("#{}", i + 1)))
        .collect();
    if usable.is_empty() {
        return Err(KeySetError::NoSigningKey {
            count: set.keys.len(),
            accepted: accepted.join(","),
        });
    }
    Ok(usable)
}

/// Whether `key` is meant for signatures and fits an accepted algorithm: RSA for `RS*`/`PS*`,
/// an EC curve for its one `ES*`, Ed25519 for `EdDSA`; never a symmetric (`oct`) key.
fn verifies(key: &Key, accepted: &[String]) -> bool {
    if key.use_.as_deref().is_some_and(|u| u != "sig") {
        return false;
    }
    if key
        .key_ops
        .as_ref()
        .is_some_and(|ops| !ops.iter().any(|op| op == "verify"))
    {
        return false;
    }
    let fits: &[&str] = match (key.kty.as_str(), key.crv.as_deref()) {
        ("RSA", _) => &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
        ("EC", Some("P-256")) => &["ES256"],
        ("EC", Some("P-384")) => &["ES384"],
        ("EC", Some("P-521")) => &["ES512"],
        ("OKP", Some("Ed25519")) => &["EdDSA"],
        _ => &[],
    };
    fits.iter()
        .filter(|alg| accepted.iter().any(|a| a == *alg))
        .any(|alg| key.alg.as_deref().is_none_or(|named| named == *alg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accepted_algorithms_are_the_asymmetric_ones_of_id_tokens() {
        let names = accepted_algorithms();
        assert_eq!(names.len(), ALGORITHMS.len());
        for alg in ["RS256", "PS512", "ES256", "ES384", "EdDSA"] {
            assert!(is_accepted(alg), "{alg}");
        }
        for alg in ["HS256", "none", ""] {
            assert!(!is_accepted(alg), "{alg}");
        }
    }

    #[test]
    fn signing_keys_are_named_by_kid_or_place() {
        let set = br#"{"keys":[
            {"kty":"EC","crv":"P-256","kid":"ec","use":"sig","x":"x","y":"y"},
            {"kty":"RSA","n":"n","e":"AQAB"},
            {"kty":"RSA","kid":"enc","use":"enc","n":"n","e":"AQAB"},
            {"kty":"OKP","crv":"Ed25519","kid":"ed","alg":"EdDSA","x":"x"}]}"#;
        assert_eq!(signing_keys(set).unwrap(), ["ec", "#2", "ed"]);
    }

    #[test]
    fn sets_without_a_usable_key_are_told_apart() {
        assert_eq!(signing_keys(br#"{"keys":[]}"#), Err(KeySetError::Empty));
        assert!(matches!(
            signing_keys(b"[]"),
            Err(KeySetError::Malformed(_))
        ));
        let unusable = br#"{"keys":[
            {"kty":"oct","k":"c2VjcmV0","alg":"HS256"},
            {"kty":"EC","crv":"P-256","alg":"ES384","x":"x","y":"y"},
            {"kty":"RSA","key_ops":["encrypt"],"n":"n","e":"AQAB"},
            {"kty":"OKP","crv":"X25519","x":"x"}]}"#;
        let e = signing_keys(unusable).unwrap_err();
        assert!(
            matches!(e, KeySetError::NoSigningKey { count: 4, .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains("ES256"), "{e}");
    }
}
