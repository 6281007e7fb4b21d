//! Second factors in the people file: `totp = [...]`, `passkeys = [...]` and
//! `recovery_codes = [...]` in the person's `[[user]]` table (all optional).
//!
//! Every change goes through [`PeopleFile::change`]: the folder lock, then the file as it is now
//! (not the gateway's copy in memory), the edit, the check that the result loads, the atomic
//! replace. So two writers, in one process or two, never lose each other's update, and removing
//! or replacing a value is a compare-and-set against the file's current content: of two removals
//! of the same recovery code, the second finds it gone and gets `false`.
//!
//! The gateway's calls ([`FileDirectory`](super::FileDirectory)) act on enabled accounts only,
//! like the LDAP backend; the admin's ([`DirectoryAdmin`](crate::DirectoryAdmin)) on any.

use crate::admin::AdminError;
use crate::factors::{FactorKind, StoredFactors, check_room};

use super::edit;
use super::format::{People, StoredUser};
use super::people::{PeopleFile, find};

/// The enabled account called `username`; a disabled one is as unknown as a missing one.
fn enabled<'p>(people: &'p People, username: &str) -> Result<&'p StoredUser, AdminError> {
    people
        .by_name
        .get(&username.to_lowercase())
        .filter(|u| !u.disabled)
        .ok_or_else(|| AdminError::UnknownUser(username.to_owned()))
}

impl PeopleFile {
    /// The factors of any account, disabled ones included (for admins).
    pub(crate) fn factors(&self, username: &str) -> Result<StoredFactors, AdminError> {
        Ok(find(&self.read()?, username)?.factors.clone())
    }

    /// Removes every factor of any account; returns what it held.
    pub(crate) fn reset_factors(&self, username: &str) -> Result<StoredFactors, AdminError> {
        self.change(|people, doc| {
            let user = find(people, username)?;
            for kind in FactorKind::ALL {
                if !user.factors.of(kind).is_empty() {
                    edit::remove_key(doc, username, kind.file_key()).map_err(|e| self.layout(e))?;
                }
            }
            Ok(user.factors.clone())
        })
    }

    /// Adds `value` to an enabled account (a value held already stays as it is).
    pub(crate) fn add_factor(
        &self,
        username: &str,
        kind: FactorKind,
        value: &str,
    ) -> Result<(), AdminError> {
        self.change(|people, doc| {
            let held = enabled(people, username)?.factors.of(kind);
            if held.iter().any(|v| v == value) {
                return Ok(());
            }
            check_room(kind, held.len()).map_err(crate::DirectoryError::from)?;
            edit::push_value(doc, username, kind.file_key(), value).map_err(|e| self.layout(e))
        })
    }

    /// Takes `value` from an enabled account; `false` when the file no longer holds it.
    pub(crate) fn remove_factor(
        &self,
        username: &str,
        kind: FactorKind,
        value: &str,
    ) -> Result<bool, AdminError> {
        self.change(|people, doc| {
            if !enabled(people, username)?
                .factors
                .of(kind)
                .iter()
                .any(|v| v == value)
            {
                return Ok(false);
            }
            edit::remove_value(doc, username, kind.file_key(), value).map_err(|e| self.layout(e))
        })
    }

    /// Puts `new` in the place of `old` for an enabled account; `false` (nothing written) when
    /// the file no longer holds `old`.
    pub(crate) fn replace_factor(
        &self,
        username: &str,
        kind: FactorKind,
        old: &str,
        new: &str,
    ) -> Result<bool, AdminError> {
        self.change(|people, doc| {
            let held = enabled(people, username)?.factors.of(kind);
            if !held.iter().any(|v| v == old) {
                return Ok(false);
            }
            if old != new && held.iter().any(|v| v == new) {
                return Err(AdminError::Invalid {
                    field: "factor",
                    message: format!("the new {kind} value is held already"),
                });
            }
            edit::replace_value(doc, username, kind.file_key(), old, new)
                .map_err(|e| self.layout(e))
        })
    }
}

#[cfg(test)]
mod tests;
