//! Second factors on LDAP: values of the `pforteAccount` attributes (deploy/ldap/) of the
//! person's own entry, read and written by the gateway's service account on its pool. The
//! person is found by the same search as a login's (escaped filter, disabled filter), and a
//! disabled account has no factors to use or change.
//!
//! Every change is one modify operation, so the server makes it atomic:
//!
//! ```text
//! add      [add objectClass pforteAccount (when missing), add value]
//! remove   [delete value]                    gone already: noSuchAttribute ─▶ false
//! replace  [delete old value, add new value] old gone: noSuchAttribute ─▶ false, nothing added
//! ```
//!
//! Deleting an exact value fails when it is not there, so of two replicas consuming the same
//! recovery code at once exactly one succeeds.

use std::collections::HashSet;

use ldap3::{Ldap, LdapError, LdapResult, Mod};

use crate::error::{DirectoryError, Field, InputError};
use crate::factors::{FactorKind, MAX_FACTORS_PER_KIND, StoredFactors, check_room};

use super::entry::Entry;
use super::search::OpError;
use super::settings::LdapSettings;
use super::user;

/// The auxiliary object class that allows the factor attributes.
const OBJECT_CLASS: &str = "pforteAccount";

/// LDAP result code noSuchAttribute: a deleted value was not there.
const NO_SUCH_ATTRIBUTE: u32 = 16;

/// LDAP result code attributeOrValueExists: an added value was there already.
const ATTRIBUTE_OR_VALUE_EXISTS: u32 = 20;

/// How often an add reads the entry again when a concurrent writer changed it in between.
const ADD_ATTEMPTS: usize = 3;

/// What the factor operations read besides the user attributes.
pub(crate) const ATTRIBUTES: [&str; 4] = [
    "objectClass",
    "pforteTotp",
    "pforteWebAuthn",
    "pforteRecoveryCode",
];

/// How a modify ended, for the codes that are answers rather than failures.
enum Outcome {
    Done,
    NoSuchValue(LdapResult),
    AlreadyThere(LdapResult),
}

/// The factors held by an entry read with [`ATTRIBUTES`].
pub(crate) fn stored(entry: &Entry) -> StoredFactors {
    let mut factors = StoredFactors::default();
    for kind in FactorKind::ALL {
        *factors.of_mut(kind) = values(entry, kind);
    }
    factors
}

fn values(entry: &Entry, kind: FactorKind) -> Vec<String> {
    entry
        .texts(kind.ldap_attribute())
        .map(str::to_owned)
        .collect()
}

fn has_class(entry: &Entry) -> bool {
    entry
        .texts("objectClass")
        .any(|c| c.eq_ignore_ascii_case(OBJECT_CLASS))
}

/// The enabled person's entry with its factors; `None` for an unknown or disabled account.
async fn enabled(s: &LdapSettings, ldap: Ldap, username: &str) -> Result<Option<Entry>, OpError> {
    Ok(user::find_with(s, ldap, username, &ATTRIBUTES)
        .await?
        .filter(|u| !u.disabled)
        .map(|u| u.entry))
}

async fn entry(s: &LdapSettings, ldap: Ldap, username: &str) -> Result<Entry, OpError> {
    enabled(s, ldap, username)
        .await?
        .ok_or_else(|| DirectoryError::UnknownAccount(username.to_owned()).into())
}

/// One modify of `dn`.
async fn modify(
    s: &LdapSettings,
    ldap: Ldap,
    dn: &str,
    mods: Vec<Mod<&str>>,
) -> Result<Outcome, OpError> {
    let mut ldap = ldap;
    let result = ldap
        .with_timeout(s.operation_timeout)
        .modify(dn, mods)
        .await?;
    match result.rc {
        0 => Ok(Outcome::Done),
        NO_SUCH_ATTRIBUTE => Ok(Outcome::NoSuchValue(result)),
        ATTRIBUTE_OR_VALUE_EXISTS => Ok(Outcome::AlreadyThere(result)),
        _ => Err(LdapError::from(result).into()),
    }
}

fn one(value: &str) -> HashSet<&str> {
    HashSet::from([value])
}

/// The factors of `username`; `None` when unknown or disabled.
pub(crate) async fn factors(
    s: &LdapSettings,
    ldap: Ldap,
    username: &str,
) -> Result<Option<StoredFactors>, OpError> {
    Ok(enabled(s, ldap, username).await?.as_ref().map(stored))
}

/// Adds `value` (a value held already is left as it is), with the object class when the entry
/// lacks it. A concurrent writer that adds the class or the same value first makes the modify
/// fail as a whole; the entry is read again and the add retried. A concurrent add that took the
/// last room makes this one take its value back and refuse.
pub(crate) async fn add(
    s: &LdapSettings,
    ldap: Ldap,
    username: &str,
    kind: FactorKind,
    value: &str,
) -> Result<(), OpError> {
    let attribute = kind.ldap_attribute();
    let mut last = None;
    for _ in 0..ADD_ATTEMPTS {
        let entry = entry(s, ldap.clone(), username).await?;
        let held = values(&entry, kind);
        if held.iter().any(|v| v == value) {
            return Ok(());
        }
        check_room(kind, held.len()).map_err(DirectoryError::from)?;
        let mut mods = Vec::with_capacity(2);
        if !has_class(&entry) {
            mods.push(Mod::Add("objectClass", one(OBJECT_CLASS)));
        }
        mods.push(Mod::Add(attribute, one(value)));
        match modify(s, ldap.clone(), &entry.dn, mods).await? {
            Outcome::Done => return within_bound(s, ldap, username, &entry.dn, kind, value).await,
            Outcome::AlreadyThere(result) => last = Some(result),
            Outcome::NoSuchValue(result) => return Err(LdapError::from(result).into()),
        }
    }
    Err(match last {
        Some(result) => LdapError::from(result).into(),
        None => DirectoryError::UnknownAccount(username.to_owned()).into(),
    })
}

/// After an add: when concurrent adds took the person past the bound, this one's value goes.
async fn within_bound(
    s: &LdapSettings,
    ldap: Ldap,
    username: &str,
    dn: &str,
    kind: FactorKind,
    value: &str,
) -> Result<(), OpError> {
    let held = match enabled(s, ldap.clone(), username).await? {
        Some(entry) => values(&entry, kind).len(),
        None => 0,
    };
    if held <= MAX_FACTORS_PER_KIND {
        return Ok(());
    }
    let undo = vec![Mod::Delete(kind.ldap_attribute(), one(value))];
    modify(s, ldap, dn, undo).await?;
    Err(DirectoryError::from(InputError::TooMany {
        field: Field::Factor(kind),
        max: MAX_FACTORS_PER_KIND,
    })
    .into())
}

/// Deletes exactly `value`; `false` when it was not there (used or removed meanwhile).
pub(crate) async fn remove(
    s: &LdapSettings,
    ldap: Ldap,
    username: &str,
    kind: FactorKind,
    value: &str,
) -> Result<bool, OpError> {
    let entry = entry(s, ldap.clone(), username).await?;
    let mods = vec![Mod::Delete(kind.ldap_attribute(), one(value))];
    match modify(s, ldap, &entry.dn, mods).await? {
        Outcome::Done => Ok(true),
        Outcome::NoSuchValue(_) => Ok(false),
        Outcome::AlreadyThere(result) => Err(LdapError::from(result).into()),
    }
}

/// Replaces `old` by `new` in one modify; `false` (and nothing added) when `old` is gone. A
/// `new` held already is refused by the server, and nothing changes.
pub(crate) async fn replace(
    s: &LdapSettings,
    ldap: Ldap,
    username: &str,
    kind: FactorKind,
    old: &str,
    new: &str,
) -> Result<bool, OpError> {
    let entry = entry(s, ldap.clone(), username).await?;
    let attribute = kind.ldap_attribute();
    let mods = vec![
        Mod::Delete(attribute, one(old)),
        Mod::Add(attribute, one(new)),
    ];
    match modify(s, ldap, &entry.dn, mods).await? {
        Outcome::Done => Ok(true),
        Outcome::NoSuchValue(_) => Ok(false),
        Outcome::AlreadyThere(result) => Err(LdapError::from(result).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_gives_its_factors_by_kind() {
        let entry = Entry::new(
            "uid=alice,ou=people",
            &[
                ("objectClass", &[b"inetOrgPerson", b"PforteAccount"]),
                ("pforteTotp", &[b"t1"]),
                ("pforteRecoveryCode", &[b"r1", b"r2"]),
            ],
        );
        let f = stored(&entry);
        assert_eq!(f.totp, ["t1"]);
        assert!(f.passkeys.is_empty());
        assert_eq!(f.recovery_codes, ["r1", "r2"]);
        assert!(has_class(&entry), "object class names are case-insensitive");
        assert!(!has_class(&Entry::new("uid=x", &[])));
    }

    #[test]
    fn the_attributes_read_are_the_kinds_attributes() {
        for kind in FactorKind::ALL {
            assert!(ATTRIBUTES.contains(&kind.ldap_attribute()));
        }
    }
}
