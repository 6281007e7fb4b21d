//! The public keys of a client that authenticates with `private_key_jwt` (RFC 7523, OIDC Core
//! §9): inline in `clients.toml` or at a URL the client publishes, checked when the file loads.

use jsonwebtoken::jwk::AlgorithmParameters;
/// A JSON Web Key Set (RFC 7517), as the gateway caches fetched ones.
pub use jsonwebtoken::jwk::JwkSet;
use url::Url;

/// Where a client's public keys are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientKeys {
    /// The keys written in `clients.toml` (`jwks`): no fetch, and a rotation is a file edit.
    Inline(JwkSet),
    /// An `https` URL the client serves its JWKS at (`jwks_uri`): fetched when needed and again
    /// when an assertion names a key it does not hold, so the client rotates on its own.
    Remote(String),
}

/// Parses and checks an inline JWKS (a JSON object with `keys`); the error says what to fix.
pub fn parse_jwks(json: &str) -> Result<JwkSet, String> {
    let raw: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("jwks is not JSON: {e}"))?;
    check_public_only(&raw)?;
    let set: JwkSet = serde_json::from_value(raw)
        .map_err(|e| format!("jwks is not a JSON Web Key Set (RFC 7517): {e}"))?;
    check_keys(&set)?;
    Ok(set)
}

/// Checks a JWKS URL: `https`, with a host, without credentials or fragment.
pub fn check_jwks_uri(uri: &str) -> Result<(), String> {
    let url = Url::parse(uri).map_err(|e| format!("jwks_uri \"{uri}\" is not a URL: {e}"))?;
    if url.scheme() != "https" || url.host().is_none() {
        return Err(format!("jwks_uri \"{uri}\" must be an https URL"));
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(format!(
            "jwks_uri \"{uri}\" must not contain credentials or a fragment"
        ));
    }
    Ok(())
}

/// A key set as fetched from a client's `jwks_uri`: the same checks as an inline one.
pub fn parse_fetched_jwks(body: &[u8]) -> Result<JwkSet, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the JWKS is not UTF-8".to_owned())?;
    parse_jwks(text)
}

/// A JWKS meant to verify a client's signatures holds public keys only: a private part (`d`,
/// RSA's primes) means the client's secret key was pasted by mistake, and a symmetric key
/// (`oct`) would be a shared secret, which `private_key_jwt` exists to avoid.
fn check_public_only(raw: &serde_json::Value) -> Result<(), String> {
    let keys = raw
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| "jwks must be an object with a \"keys\" array".to_owned())?;
    for (index, key) in keys.iter().enumerate() {
        let private = ["d", "p", "q", "dp", "dq", "qi", "k"]
            .iter()
            .any(|member| key.get(member).is_some());
        if private {
            return Err(format!(
                "jwks key {index} holds a private or secret part; give only the public key"
            ));
        }
    }
    Ok(())
}

fn check_keys(set: &JwkSet) -> Result<(), String> {
    if set.keys.is_empty() {
        return Err("jwks has no keys".to_owned());
    }
    for (index, key) in set.keys.iter().enumerate() {
        if matches!(
            key.algorithm,
            AlgorithmParameters::OctetKey(_) | AlgorithmParameters::Other(_)
        ) {
            return Err(format!(
                "jwks key {index} is not an RSA, EC or Ed25519 public key"
            ));
        }
        if set.keys.len() > 1 && key.common.key_id.is_none() {
            return Err(format!(
                "jwks key {index} has no \"kid\"; with several keys each needs one"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EC: &str = r#"{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;

    #[test]
    fn a_public_key_set_loads() {
        let set = parse_jwks(&format!(r#"{{"keys":[{EC}]}}"#)).unwrap();
        assert!(set.find("k1").is_some());
    }

    #[test]
    fn private_symmetric_empty_and_unnamed_keys_are_refused() {
        let private = EC.replace(
            "\"kid\"",
            "\"d\":\"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI\",\"kid\"",
        );
        for (jwks, expected) in [
            (format!(r#"{{"keys":[{private}]}}"#), "private"),
            (
                r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#.to_owned(),
                "private",
            ),
            (r#"{"keys":[]}"#.to_owned(), "no keys"),
            (
                format!(r#"{{"keys":[{EC},{}]}}"#, EC.replace(",\"kid\":\"k1\"", "")),
                "no \"kid\"",
            ),
            ("[]".to_owned(), "\"keys\" array"),
            ("{".to_owned(), "not JSON"),
        ] {
            let error = parse_jwks(&jwks).unwrap_err();
            assert!(error.contains(expected), "{jwks}: {error}");
        }
    }

    #[test]
    fn a_jwks_uri_is_https() {
        assert!(check_jwks_uri("https://app.example.org/jwks.json").is_ok());
        for uri in [
            "http://app.example.org/jwks.json",
            "https://u:p@app.example.org/jwks.json",
            "https://app.example.org/jwks.json#x",
            "jwks.json",
        ] {
            assert!(check_jwks_uri(uri).is_err(), "{uri}");
        }
    }
}
