//! Linking a login through a provider to a person of the local directory.
//!
//! The first login finds the person by one claim, and only when the provider says that claim
//! is verified (an unverified e-mail address is anyone's to type). From then on the link
//! (issuer, `sub`) alone names the person; the gateway keeps it.

use serde_json::{Map, Value};

/// How the claim's value finds the directory person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// The directory's mail attribute.
    Mail,
    /// The directory's login name.
    Username,
}

impl Match {
    /// The name in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mail => "mail",
            Self::Username => "username",
        }
    }
}

/// A link provider's rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRule {
    /// The claim naming the person.
    pub claim: String,
    /// The claim that must be true for `claim` to be trusted.
    pub verified_claim: String,
    /// What the claim's value is compared with.
    pub match_by: Match,
}

/// Why a login cannot be linked by its claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefusal {
    /// The claim is missing or not a string.
    #[error("the provider sent no {0} claim")]
    Missing(String),
    /// The provider does not say the claim is verified.
    #[error("the provider does not vouch for the {0} claim ({1} is not true)")]
    Unverified(String, String),
}

impl LinkRule {
    /// The verified value that names the person. The verified claim must be JSON `true`: a
    /// boolean, as OpenID Connect Core §5.1 defines `email_verified`; anything else (a string
    /// `"true"` included) does not vouch.
    pub fn value<'c>(&self, claims: &'c Map<String, Value>) -> Result<&'c str, LinkRefusal> {
        let value = claims
            .get(&self.claim)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| LinkRefusal::Missing(self.claim.clone()))?;
        let verified = claims.get(&self.verified_claim) == Some(&Value::Bool(true));
        if verified {
            Ok(value)
        } else {
            Err(LinkRefusal::Unverified(
                self.claim.clone(),
                self.verified_claim.clone(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rule() -> LinkRule {
        LinkRule {
            claim: "email".into(),
            verified_claim: "email_verified".into(),
            match_by: Match::Mail,
        }
    }

    fn claims(value: Value) -> Map<String, Value> {
        let Value::Object(map) = value else {
            unreachable!()
        };
        map
    }

    #[test]
    fn only_a_verified_claim_links() {
        let ok = claims(json!({"email": "a@b.example", "email_verified": true}));
        assert_eq!(rule().value(&ok).unwrap(), "a@b.example");
        for unverified in [
            json!({"email": "a@b.example", "email_verified": "true"}),
            json!({"email": "a@b.example", "email_verified": false}),
            json!({"email": "a@b.example"}),
            json!({"email": "a@b.example", "email_verified": "yes"}),
            json!({"email": "a@b.example", "email_verified": 1}),
        ] {
            assert!(matches!(
                rule().value(&claims(unverified)),
                Err(LinkRefusal::Unverified(..))
            ));
        }
        assert!(matches!(
            rule().value(&claims(json!({"email_verified": true}))),
            Err(LinkRefusal::Missing(_))
        ));
    }
}
