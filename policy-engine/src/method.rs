//! How a person proved who they are: the factors of a login, in the order they were used.
//!
//! The vocabulary beside [`crate::LoginStrength`], kept here for the same reason: every crate
//! that speaks of logins (the session store, which keeps them with each session and appends
//! one at a step-up; the OIDC rules, which turn them into `amr`, RFC 8176 values from
//! [`AuthMethod::amr`]) already depends on this one, and none of them on each other. The
//! policy itself decides on the login strength only.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One factor a person used to log in or to step up.
///
/// The stored form (Redis) is the snake-case name, e.g. `"security_key"`: renaming a variant
/// would make stored sessions unreadable, so the names are fixed here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// The directory's password.
    Password,
    /// A time-based one-time code (RFC 6238) from an authenticator app.
    Totp,
    /// One of the person's single-use recovery codes.
    RecoveryCode,
    /// A WebAuthn credential used as a second factor, without user verification.
    SecurityKey,
    /// A WebAuthn passkey with user verification: a whole multi-factor login on its own.
    Passkey,
    /// A login at another administration's OpenID provider that Pforte trusts (federation):
    /// how that provider checked the person is its own business.
    Federated,
}

impl AuthMethod {
    /// The RFC 8176 `amr` value: `pwd`, `otp` (TOTP and recovery codes are both one-time
    /// codes), `hwk` for a security key (proof of a hardware-bound key) and `swk` for a passkey
    /// (which may be synced, so not provably hardware-bound). Whether user verification adds
    /// `user` is the caller's business. A federated login is `fed`: RFC 8176 has no value for
    /// it, and its registry takes new ones.
    pub fn amr(self) -> &'static str {
        match self {
            Self::Password => "pwd",
            Self::Totp | Self::RecoveryCode => "otp",
            Self::SecurityKey => "hwk",
            Self::Passkey => "swk",
            Self::Federated => "fed",
        }
    }

    /// The name shown to admins, the same as the stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Totp => "totp",
            Self::RecoveryCode => "recovery_code",
            Self::SecurityKey => "security_key",
            Self::Passkey => "passkey",
            Self::Federated => "federated",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [AuthMethod; 6] = [
        AuthMethod::Password,
        AuthMethod::Totp,
        AuthMethod::RecoveryCode,
        AuthMethod::SecurityKey,
        AuthMethod::Passkey,
        AuthMethod::Federated,
    ];

    #[test]
    fn amr_values_are_those_of_rfc_8176() {
        let amr: Vec<_> = ALL.iter().map(|m| m.amr()).collect();
        assert_eq!(amr, ["pwd", "otp", "otp", "hwk", "swk", "fed"]);
    }

    #[test]
    fn the_stored_form_is_the_shown_name() {
        for method in ALL {
            let stored = serde_json::to_string(&method).unwrap();
            assert_eq!(stored, format!("\"{method}\""));
            assert_eq!(serde_json::from_str::<AuthMethod>(&stored).unwrap(), method);
        }
        assert!(serde_json::from_str::<AuthMethod>("\"sms\"").is_err());
    }
}
