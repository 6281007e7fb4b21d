//! Second factors kept with the person: TOTP secrets, WebAuthn credentials and recovery-code
//! hashes, as opaque text values. The gateway seals each value before it gets here (so a dump of
//! the directory yields no working secret); this crate stores, lists and removes them and never
//! looks inside, and never logs one.
//!
//! ```text
//! FactorKind   LDAP attribute (pforteAccount)   people file key
//! Totp         pforteTotp                       totp
//! Passkey      pforteWebAuthn                   passkeys
//! RecoveryCode pforteRecoveryCode               recovery_codes
//! ```
//!
//! Removal and replacement are compare-and-set: they name the exact value, and only one of two
//! writers racing for the same value succeeds (a recovery code used on two replicas at once
//! counts once).

use std::fmt;

use serde::Serialize;

use crate::error::{Field, InputError};

/// Longest factor value accepted, in bytes: a sealed WebAuthn credential is well under it.
pub const MAX_FACTOR_VALUE_BYTES: usize = 16 * 1024;

/// Most values of one kind a person may hold: ten recovery codes and a few keys fit, a script
/// filling the entry does not.
pub const MAX_FACTORS_PER_KIND: usize = 20;

/// A kind of second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorKind {
    /// A TOTP secret (RFC 6238), sealed.
    Totp,
    /// A WebAuthn credential (passkey or security key), sealed.
    Passkey,
    /// A recovery code's slow hash, sealed.
    RecoveryCode,
}

impl FactorKind {
    /// Every kind, in the order they are listed.
    pub const ALL: [Self; 3] = [Self::Totp, Self::Passkey, Self::RecoveryCode];

    /// The LDAP attribute of the `pforteAccount` object class that holds this kind.
    pub fn ldap_attribute(self) -> &'static str {
        match self {
            Self::Totp => "pforteTotp",
            Self::Passkey => "pforteWebAuthn",
            Self::RecoveryCode => "pforteRecoveryCode",
        }
    }

    /// The key of a `[[user]]` table in the people file that holds this kind.
    pub fn file_key(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Passkey => "passkeys",
            Self::RecoveryCode => "recovery_codes",
        }
    }
}

impl fmt::Display for FactorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_key())
    }
}

/// A person's second factors, each value as it was stored. `Debug` shows only how many there
/// are, so a value never reaches a log by accident.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StoredFactors {
    /// Sealed TOTP secrets.
    pub totp: Vec<String>,
    /// Sealed WebAuthn credentials.
    pub passkeys: Vec<String>,
    /// Sealed recovery-code hashes.
    pub recovery_codes: Vec<String>,
}

impl StoredFactors {
    /// The values of one kind.
    pub fn of(&self, kind: FactorKind) -> &[String] {
        match kind {
            FactorKind::Totp => &self.totp,
            FactorKind::Passkey => &self.passkeys,
            FactorKind::RecoveryCode => &self.recovery_codes,
        }
    }

    /// The values of one kind, to fill in.
    pub(crate) fn of_mut(&mut self, kind: FactorKind) -> &mut Vec<String> {
        match kind {
            FactorKind::Totp => &mut self.totp,
            FactorKind::Passkey => &mut self.passkeys,
            FactorKind::RecoveryCode => &mut self.recovery_codes,
        }
    }

    /// Whether the person has no second factor at all.
    pub fn is_empty(&self) -> bool {
        FactorKind::ALL.iter().all(|k| self.of(*k).is_empty())
    }

    /// How many values of each kind: what admins and logs may see.
    pub fn counts(&self) -> FactorCounts {
        FactorCounts {
            totp: self.totp.len(),
            passkeys: self.passkeys.len(),
            recovery_codes: self.recovery_codes.len(),
        }
    }
}

impl fmt::Debug for StoredFactors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StoredFactors")
            .field(&self.counts())
            .finish()
    }
}

/// How many second factors of each kind a person has, without the values (for `pforte-admin`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FactorCounts {
    /// TOTP secrets.
    pub totp: usize,
    /// WebAuthn credentials.
    pub passkeys: usize,
    /// Recovery codes left.
    pub recovery_codes: usize,
}

impl FactorCounts {
    /// The count of one kind.
    pub fn of(&self, kind: FactorKind) -> usize {
        match kind {
            FactorKind::Totp => self.totp,
            FactorKind::Passkey => self.passkeys,
            FactorKind::RecoveryCode => self.recovery_codes,
        }
    }
}

/// Refuses a value no backend should store: empty, with a control character (it would break an
/// LDIF dump or the people file's lines), or longer than [`MAX_FACTOR_VALUE_BYTES`]. The error
/// names the kind, never the value.
pub(crate) fn check_value(kind: FactorKind, value: &str) -> Result<(), InputError> {
    let field = Field::Factor(kind);
    if value.is_empty() {
        return Err(InputError::Empty(field));
    }
    if value.len() > MAX_FACTOR_VALUE_BYTES {
        return Err(InputError::TooLong {
            field,
            max: MAX_FACTOR_VALUE_BYTES,
        });
    }
    if value.chars().any(char::is_control) {
        return Err(InputError::ControlCharacter(field));
    }
    Ok(())
}

/// Refuses one more value when the person holds [`MAX_FACTORS_PER_KIND`] of that kind already.
pub(crate) fn check_room(kind: FactorKind, held: usize) -> Result<(), InputError> {
    if held >= MAX_FACTORS_PER_KIND {
        return Err(InputError::TooMany {
            field: Field::Factor(kind),
            max: MAX_FACTORS_PER_KIND,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_naming_the_kind_never_the_value() {
        assert_eq!(check_value(FactorKind::Totp, "sealed.v1.abc+/="), Ok(()));
        assert_eq!(
            check_value(FactorKind::Passkey, ""),
            Err(InputError::Empty(Field::Factor(FactorKind::Passkey)))
        );
        let long = "x".repeat(MAX_FACTOR_VALUE_BYTES + 1);
        let err = check_value(FactorKind::RecoveryCode, &long).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the recovery_codes value is longer than 16384 bytes"
        );
        assert!(check_value(FactorKind::Totp, &long[1..]).is_ok());
        let err = check_value(FactorKind::Totp, "secret\nline").unwrap_err();
        assert_eq!(
            err,
            InputError::ControlCharacter(Field::Factor(FactorKind::Totp))
        );
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn room_for_twenty_of_a_kind() {
        assert_eq!(check_room(FactorKind::Totp, 19), Ok(()));
        assert_eq!(
            check_room(FactorKind::Totp, 20).unwrap_err().to_string(),
            "too many totp values: at most 20 per person"
        );
    }

    #[test]
    fn debug_shows_counts_not_values() {
        let f = StoredFactors {
            totp: vec!["sealed-seed".into()],
            passkeys: Vec::new(),
            recovery_codes: vec!["a".into(), "b".into()],
        };
        let shown = format!("{f:?}");
        assert!(!shown.contains("sealed-seed"), "{shown}");
        assert!(shown.contains("recovery_codes: 2"), "{shown}");
        assert_eq!(f.counts().of(FactorKind::RecoveryCode), 2);
        assert!(!f.is_empty() && StoredFactors::default().is_empty());
    }
}
