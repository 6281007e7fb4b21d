//! The people file opened for changes: every command reads the file under a lock, checks the
//! request against what the file holds, edits the text ([`super::edit`]), checks that the result
//! loads with the same parser as the gateway's, and only then replaces the file
//! ([`super::atomic`]). A refused command leaves the file as it was, byte for byte; the
//! gateway picks the new file up by itself.
//!
//! Groups in a people file are names on users, plus `[[group]]` tables for groups nobody is in:
//! `groups add` writes one, and a group that loses its last member gets one, so it still exists.

use std::path::PathBuf;

use argon2::{Argon2, PasswordHasher as _};
use toml_edit::DocumentMut;

use crate::admin::{Account, AdminError, NewUser};
use crate::group::{GroupRecord, Member, MemberKind};
use crate::settings::Secret;

use super::FileSettings;
use super::atomic;
use super::edit::{self, LayoutError, NewEntry};
use super::format::{self, People, StoredUser};

/// A people file, edited in place.
#[derive(Debug, Clone)]
pub struct PeopleFile {
    path: PathBuf,
}

fn account(user: &StoredUser) -> Account {
    Account {
        username: user.record.username.clone(),
        subject: user.record.subject.clone(),
        display_name: user.record.display_name.clone(),
        disabled: user.disabled,
    }
}

pub(super) fn find<'p>(people: &'p People, username: &str) -> Result<&'p StoredUser, AdminError> {
    people
        .by_name
        .get(&username.to_lowercase())
        .ok_or_else(|| AdminError::UnknownUser(username.to_owned()))
}

fn known_group(people: &People, group: &str) -> Result<(), AdminError> {
    if people.group_names().contains(group) {
        Ok(())
    } else {
        Err(AdminError::UnknownGroup(group.to_owned()))
    }
}

/// Whether `group` would vanish with `username`'s membership (no declaration, nobody else).
fn last_of(people: &People, group: &str, username: &str) -> bool {
    let others = people.by_name.values().any(|u| {
        !u.record.username.eq_ignore_ascii_case(username)
            && u.record.groups.iter().any(|g| g == group)
    });
    !others && !people.declared.contains(group)
}

/// An argon2id PHC string of `password`, with argon2's recommended parameters.
fn hash(password: &str) -> Result<String, AdminError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AdminError::Invalid {
            field: "password",
            message: format!("cannot be hashed: {e}"),
        })
}

impl PeopleFile {
    /// The file of `settings`; nothing is read until a command runs.
    pub fn new(settings: &FileSettings) -> Self {
        Self {
            path: settings.path.clone(),
        }
    }

    pub(super) fn layout(&self, e: LayoutError) -> AdminError {
        AdminError::PeopleFile {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// Reads and checks the file without a lock (for questions that change nothing).
    pub(super) fn read(&self) -> Result<People, AdminError> {
        let text = std::fs::read_to_string(&self.path).map_err(|e| AdminError::PeopleFile {
            path: self.path.clone(),
            message: format!("cannot read it: {e}"),
        })?;
        Ok(format::parse(&self.path, &text)?)
    }

    /// Runs one edit under the lock and replaces the file when the result loads and differs
    /// (an edit that changes nothing writes nothing).
    pub(super) fn change<T>(
        &self,
        edit: impl FnOnce(&People, &mut DocumentMut) -> Result<T, AdminError>,
    ) -> Result<T, AdminError> {
        let locked = atomic::lock(&self.path)?;
        let people = format::parse(&self.path, &locked.text)?;
        let mut doc: DocumentMut = locked.text.parse().map_err(|e| AdminError::PeopleFile {
            path: self.path.clone(),
            message: format!("{e}"),
        })?;
        let out = edit(&people, &mut doc)?;
        let new = doc.to_string();
        if new == locked.text {
            return Ok(out);
        }
        format::parse(&self.path, &new)
            .map_err(|e| AdminError::NoEffect(format!("the edited file would not load ({e})")))?;
        locked.replace(&new)?;
        Ok(out)
    }

    pub(crate) fn account(&self, username: &str) -> Result<Account, AdminError> {
        Ok(account(find(&self.read()?, username)?))
    }

    pub(crate) fn add_user(&self, user: &NewUser) -> Result<Account, AdminError> {
        self.change(|people, doc| {
            if people.by_name.contains_key(&user.username.to_lowercase()) {
                return Err(AdminError::UserExists(user.username.clone()));
            }
            let mut groups: Vec<String> = Vec::new();
            for group in &user.groups {
                if !groups.contains(group) {
                    groups.push(group.clone());
                }
            }
            for group in &groups {
                known_group(people, group)?;
            }
            let id = uuid::Uuid::new_v4().hyphenated().to_string();
            // Without a password, a hash of a random one that nobody knows: no login until set.
            let password = match &user.password {
                Some(p) => hash(p.expose())?,
                None => hash(&uuid::Uuid::new_v4().simple().to_string())?,
            };
            let entry = NewEntry {
                username: &user.username,
                id: &id,
                name: &user.display_name,
                email: user.email.as_deref(),
                password: &password,
                groups: &groups,
            };
            edit::add_user(doc, &entry).map_err(|e| self.layout(e))?;
            Ok(Account {
                username: user.username.clone(),
                subject: id,
                display_name: user.display_name.clone(),
                disabled: false,
            })
        })
    }

    pub(crate) fn set_password(
        &self,
        username: &str,
        password: &Secret,
    ) -> Result<Account, AdminError> {
        self.change(|people, doc| {
            let user = find(people, username)?;
            let hashed = hash(password.expose())?;
            edit::set_password(doc, username, &hashed).map_err(|e| self.layout(e))?;
            Ok(account(user))
        })
    }

    pub(crate) fn set_disabled(
        &self,
        username: &str,
        disabled: bool,
    ) -> Result<Account, AdminError> {
        self.change(|people, doc| {
            let user = find(people, username)?;
            if user.disabled == disabled {
                return Err(AdminError::AlreadyInState {
                    user: username.to_owned(),
                    state: if disabled { "disabled" } else { "enabled" },
                });
            }
            edit::set_disabled(doc, username, disabled).map_err(|e| self.layout(e))?;
            Ok(Account {
                disabled,
                ..account(user)
            })
        })
    }

    pub(crate) fn delete_user(&self, username: &str) -> Result<Account, AdminError> {
        self.change(|people, doc| {
            let user = find(people, username)?;
            for group in &user.record.groups {
                if last_of(people, group, username) {
                    edit::declare_group(doc, group).map_err(|e| self.layout(e))?;
                }
            }
            edit::remove_user(doc, username).map_err(|e| self.layout(e))?;
            Ok(account(user))
        })
    }

    pub(crate) fn add_group(&self, name: &str) -> Result<(), AdminError> {
        self.change(|people, doc| {
            if people.group_names().contains(name) {
                return Err(AdminError::GroupExists(name.to_owned()));
            }
            edit::declare_group(doc, name).map_err(|e| self.layout(e))
        })
    }

    pub(crate) fn add_member(&self, group: &str, username: &str) -> Result<(), AdminError> {
        self.change(|people, doc| {
            known_group(people, group)?;
            let user = find(people, username)?;
            if user.record.groups.iter().any(|g| g == group) {
                return Err(AdminError::AlreadyMember {
                    group: group.to_owned(),
                    user: username.to_owned(),
                });
            }
            edit::join(doc, username, group).map_err(|e| self.layout(e))
        })
    }

    pub(crate) fn remove_member(&self, group: &str, username: &str) -> Result<(), AdminError> {
        self.change(|people, doc| {
            known_group(people, group)?;
            let user = find(people, username)?;
            if !user.record.groups.iter().any(|g| g == group) {
                return Err(AdminError::NotMember {
                    group: group.to_owned(),
                    user: username.to_owned(),
                    through: Vec::new(),
                });
            }
            if last_of(people, group, username) {
                edit::declare_group(doc, group).map_err(|e| self.layout(e))?;
            }
            edit::leave(doc, username, group).map_err(|e| self.layout(e))
        })
    }
}

/// Every group of a people file with its members (all direct: the file has no nesting).
pub(crate) fn group_records(people: &People) -> Vec<GroupRecord> {
    people
        .group_names()
        .into_iter()
        .map(|name| {
            let members = people
                .by_name
                .values()
                .filter(|u| u.record.groups.contains(&name))
                .map(|u| Member {
                    name: u.record.username.clone(),
                    kind: MemberKind::User,
                    via: Vec::new(),
                    disabled: u.disabled,
                })
                .collect();
            GroupRecord {
                name,
                dn: None,
                members,
            }
            .sorted()
        })
        .collect()
}

#[cfg(test)]
mod tests;
