//! PKCE (RFC 7636) with S256 only: `plain` would hand the verifier to anyone who sees the
//! authorization request, so it is refused (RFC 9700 §2.1.1).

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::error::{ErrorCode, ProtocolError};

/// A `code_challenge` sent with `code_challenge_method=S256`, checked for shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CodeChallenge(String);

/// Whether `text` is 43 to 128 characters of the RFC 7636 alphabet (`[A-Za-z0-9-._~]`).
fn is_pkce_string(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl CodeChallenge {
    /// Validates the `code_challenge` and `code_challenge_method` of an authorization
    /// request. `Ok(None)` when neither was sent; the caller decides if PKCE is required.
    pub fn from_request(
        challenge: Option<&str>,
        method: Option<&str>,
    ) -> Result<Option<Self>, ProtocolError> {
        let invalid = |d: &str| Err(ProtocolError::new(ErrorCode::InvalidRequest, d));
        match (challenge, method) {
            (None, None) => Ok(None),
            (None, Some(_)) => invalid("code_challenge_method without code_challenge"),
            (Some(_), None) | (Some(_), Some("plain")) => {
                invalid("PKCE method plain is not supported; use code_challenge_method=S256")
            }
            (Some(_), Some(m)) if m != "S256" => invalid("unknown code_challenge_method; use S256"),
            (Some(c), Some(_)) if c.len() != 43 || !is_pkce_string(c) => {
                invalid("code_challenge must be the 43-character base64url SHA-256 of the verifier")
            }
            (Some(c), Some(_)) => Ok(Some(Self(c.to_owned()))),
        }
    }

    /// Whether `verifier` is the one this challenge was made from: a well-formed verifier
    /// whose base64url SHA-256 equals the challenge, compared in constant time.
    pub fn is_satisfied_by(&self, verifier: &str) -> bool {
        if !is_pkce_string(verifier) {
            return false;
        }
        let computed = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()));
        computed.as_bytes().ct_eq(self.0.as_bytes()).into()
    }

    /// The challenge as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_example_verifies() {
        let c = CodeChallenge::from_request(Some(CHALLENGE), Some("S256"))
            .unwrap()
            .unwrap();
        assert!(c.is_satisfied_by(VERIFIER));
    }

    #[test]
    fn wrong_or_malformed_verifier_fails() {
        let c = CodeChallenge::from_request(Some(CHALLENGE), Some("S256"))
            .unwrap()
            .unwrap();
        assert!(!c.is_satisfied_by("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj"));
        assert!(!c.is_satisfied_by(CHALLENGE));
        assert!(!c.is_satisfied_by("short"));
        assert!(!c.is_satisfied_by(""));
    }

    #[test]
    fn plain_and_missing_method_are_refused() {
        for (challenge, method) in [
            (Some(VERIFIER), Some("plain")),
            (Some(VERIFIER), None),
            (Some(CHALLENGE), Some("S512")),
            (None, Some("S256")),
            (Some("too-short"), Some("S256")),
            (
                Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"),
                Some("S256"),
            ),
        ] {
            let err = CodeChallenge::from_request(challenge, method).unwrap_err();
            assert_eq!(
                err.code,
                ErrorCode::InvalidRequest,
                "{challenge:?} {method:?}"
            );
        }
        assert_eq!(CodeChallenge::from_request(None, None), Ok(None));
    }
}
