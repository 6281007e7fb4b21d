//! Scopes: the five this provider knows, as a small copyable set.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{ErrorCode, ProtocolError};

/// One scope a client may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Makes the request an OpenID Connect one: an ID token is issued.
    Openid,
    /// `name` and `preferred_username`.
    Profile,
    /// `email` and `email_verified`.
    Email,
    /// `groups`: the person's group names.
    Groups,
    /// A refresh token that outlives the browser session.
    OfflineAccess,
}

impl Scope {
    /// Every scope, in the order they are written out.
    pub const ALL: [Scope; 5] = [
        Self::Openid,
        Self::Profile,
        Self::Email,
        Self::Groups,
        Self::OfflineAccess,
    ];

    /// The scope as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openid => "openid",
            Self::Profile => "profile",
            Self::Email => "email",
            Self::Groups => "groups",
            Self::OfflineAccess => "offline_access",
        }
    }

    /// Parses one scope name; `None` for a name this provider does not know.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    fn bit(self) -> u8 {
        match self {
            Self::Openid => 1,
            Self::Profile => 2,
            Self::Email => 4,
            Self::Groups => 8,
            Self::OfflineAccess => 16,
        }
    }
}

/// A set of scopes; copied by value so requests, codes and tokens carry it freely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Scopes(u8);

/// A scope name this provider does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope \"{0}\"; known scopes are openid, profile, email, groups, offline_access")]
pub struct UnknownScope(pub String);

impl Scopes {
    /// The empty set.
    pub const EMPTY: Scopes = Scopes(0);

    /// Parses a space-separated scope string (RFC 6749 §3.3).
    pub fn parse(text: &str) -> Result<Self, UnknownScope> {
        text.split(' ')
            .filter(|s| !s.is_empty())
            .try_fold(Self::EMPTY, |set, name| {
                Scope::parse(name)
                    .map(|s| set.with(s))
                    .ok_or_else(|| UnknownScope(name.to_owned()))
            })
    }

    /// The scopes a request that logs a person in asks for (the `scope` of an authorization or
    /// a device authorization request): known names, `openid` among them, and none beyond
    /// `allowed`, the client's; each refusal is `invalid_scope`.
    pub fn for_person(requested: Option<&str>, allowed: Scopes) -> Result<Self, ProtocolError> {
        let refuse = |d: &str| ProtocolError::new(ErrorCode::InvalidScope, d);
        let scopes = Self::parse(requested.unwrap_or_default())
            .map_err(|_| refuse("unknown scope requested"))?;
        if !scopes.contains(Scope::Openid) {
            return Err(refuse("scope must include openid"));
        }
        if !scopes.is_subset_of(allowed) {
            return Err(refuse("a requested scope is not allowed for this client"));
        }
        Ok(scopes)
    }

    /// This set plus `scope`.
    #[must_use]
    pub fn with(self, scope: Scope) -> Self {
        Self(self.0 | scope.bit())
    }

    /// Whether `scope` is in the set.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether every scope of `self` is also in `other`.
    pub fn is_subset_of(self, other: Scopes) -> bool {
        self.0 & !other.0 == 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The scopes of the set, in [`Scope::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        iter.into_iter().fold(Self::EMPTY, Self::with)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl Serialize for Scopes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prints_and_compares() {
        let s = Scopes::parse("email  openid").unwrap_or_default();
        assert_eq!(s.to_string(), "openid email");
        assert!(s.contains(Scope::Email));
        assert!(!s.contains(Scope::Groups));
        let all = Scopes::parse("openid profile email groups offline_access").unwrap_or_default();
        assert!(s.is_subset_of(all));
        assert!(!all.is_subset_of(s));
        assert_eq!(
            Scopes::parse("openid admin"),
            Err(UnknownScope("admin".into()))
        );
    }

    #[test]
    fn round_trips_through_serde() {
        let s = Scopes::parse("openid groups").unwrap_or_default();
        let json = serde_json::to_string(&s).unwrap_or_default();
        assert_eq!(json, "\"openid groups\"");
        let back: Scopes = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, s);
    }
}
