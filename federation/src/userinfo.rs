//! Claims the provider gives at its userinfo endpoint rather than in the ID token (OIDC Core
//! §5.3; panva's oidc-provider, for one, puts profile, e-mail and group claims only there in the
//! code flow by default). The answer is read with the access token of the same exchange; its
//! `sub` must be the ID token's (§5.3.2, or the answer could be another person's), and it only
//! adds claims: what the verified ID token says stands.

use serde_json::{Map, Value};

use crate::id_token::UpstreamClaims;

/// Claims that describe the token, not the person: never taken from userinfo.
const TOKEN_CLAIMS: [&str; 9] = [
    "iss",
    "aud",
    "azp",
    "exp",
    "iat",
    "nbf",
    "nonce",
    "auth_time",
    "sid",
];

/// Why a userinfo answer is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserinfoError {
    /// Not a JSON object (a signed or encrypted answer is not supported).
    #[error("the userinfo answer is not a JSON object: {0}")]
    Malformed(String),
    /// Its `sub` is missing or another person's.
    #[error("the userinfo answer names another subject")]
    Subject,
}

/// Adds the claims of a userinfo answer `body` that `claims` (from the verified ID token) lacks.
pub fn merge(claims: &mut UpstreamClaims, body: &[u8]) -> Result<(), UserinfoError> {
    let answer: Map<String, Value> =
        serde_json::from_slice(body).map_err(|e| UserinfoError::Malformed(e.to_string()))?;
    if answer.get("sub").and_then(Value::as_str) != Some(claims.sub.as_str()) {
        return Err(UserinfoError::Subject);
    }
    for (name, value) in answer {
        if TOKEN_CLAIMS.contains(&name.as_str()) {
            continue;
        }
        claims.all.entry(name).or_insert(value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn from_id_token() -> UpstreamClaims {
        let Value::Object(all) = json!({"sub": "u-1", "iss": "https://idp", "email": "id@x"})
        else {
            unreachable!()
        };
        UpstreamClaims {
            sub: "u-1".into(),
            sid: None,
            all,
        }
    }

    #[test]
    fn userinfo_adds_what_the_id_token_lacks_and_changes_nothing_it_says() {
        let mut claims = from_id_token();
        merge(
            &mut claims,
            br#"{"sub":"u-1","email":"other@x","groups":["g"],"iss":"https://evil"}"#,
        )
        .unwrap();
        assert_eq!(claims.all["groups"], json!(["g"]));
        assert_eq!(claims.all["email"], "id@x");
        assert_eq!(claims.all["iss"], "https://idp");
    }

    #[test]
    fn another_subject_or_a_non_object_is_refused() {
        let mut claims = from_id_token();
        assert_eq!(
            merge(&mut claims, br#"{"sub":"u-2","groups":["admins"]}"#),
            Err(UserinfoError::Subject)
        );
        assert_eq!(
            merge(&mut claims, br#"{"groups":["admins"]}"#),
            Err(UserinfoError::Subject)
        );
        assert!(matches!(
            merge(&mut claims, b"eyJhbGciOiJSUzI1NiJ9.e30.c2ln"),
            Err(UserinfoError::Malformed(_))
        ));
        assert!(!claims.all.contains_key("groups"));
    }
}
