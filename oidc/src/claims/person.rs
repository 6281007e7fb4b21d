//! What the directory says about a person, and what each scope lets a client see of it.

use serde::Serialize;

use crate::scope::{Scope, Scopes};

/// A person as the directory describes them, looked up by the gateway at token time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Person {
    /// Login name (`preferred_username`).
    pub username: String,
    /// Display name (`name`).
    pub name: Option<String>,
    /// Mail address.
    pub email: Option<String>,
    /// Whether the directory vouches for the address (it is managed by the organisation).
    pub email_verified: bool,
    /// Group names.
    pub groups: Vec<String>,
}

/// The person's claims a client's scopes allow; absent ones are left out of the JSON.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ProfileClaims {
    /// `profile`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `profile`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// `email`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `email`, when there is an address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// `groups`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

impl ProfileClaims {
    /// The claims of `person` that `scopes` allow.
    pub fn new(person: &Person, scopes: Scopes) -> Self {
        let profile = scopes.contains(Scope::Profile);
        let email = scopes.contains(Scope::Email) && person.email.is_some();
        Self {
            name: person.name.clone().filter(|_| profile),
            preferred_username: profile.then(|| person.username.clone()),
            email: person.email.clone().filter(|_| email),
            email_verified: email.then_some(person.email_verified),
            groups: scopes
                .contains(Scope::Groups)
                .then(|| person.groups.clone()),
        }
    }
}

/// The userinfo response (OIDC Core §5.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserinfoClaims {
    /// The same `sub` as in the client's ID token.
    pub sub: String,
    /// The person's claims the scopes allow.
    #[serde(flatten)]
    pub profile: ProfileClaims,
}

/// The userinfo response for an access token's `sub` and `scope`.
pub fn userinfo_claims(sub: &str, person: &Person, scopes: Scopes) -> UserinfoClaims {
    UserinfoClaims {
        sub: sub.to_owned(),
        profile: ProfileClaims::new(person, scopes),
    }
}
