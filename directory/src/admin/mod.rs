//! Changing the directory, for `pforte-admin`: add, disable, enable and delete people, set their
//! passwords, add groups and memberships. One enum over the two backends, like [`Directory`]
//! for reading:
//!
//! ```text
//! DirectoryAdmin::Ldap(LdapAdmin)   bound as the configured admin DN; the server hashes passwords
//! DirectoryAdmin::File(PeopleFile)  edits the people file: toml_edit, checked, atomic replace
//!      │
//!      ├─ account / add_user / set_password / set_disabled / delete_user
//!      ├─ add_group / add_member / remove_member
//!      └─ factors / reset_factors       (second factors, for a person who lost a device)
//! ```
//!
//! Every command checks what it can before it writes (the user exists, the groups exist, the
//! membership is not there yet), so a refused command changes nothing. Reading groups needs no
//! admin rights: [`Directory::groups`].
//!
//! [`Directory`]: crate::Directory
//! [`Directory::groups`]: crate::Directory::groups

mod error;
mod input;

pub use error::{AdminError, ErrorClass};
pub(crate) use input::{check_group_name, check_new_user};

use serde::Serialize;

use crate::factors::StoredFactors;
use crate::file::PeopleFile;
use crate::ldap::LdapAdmin;
use crate::settings::Secret;

/// A person to add.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The login name.
    pub username: String,
    /// The display name (LDAP `cn`; `sn` is its last word).
    pub display_name: String,
    /// The mail address.
    pub email: Option<String>,
    /// Groups to put them in; every one must exist.
    pub groups: Vec<String>,
    /// The first password; without one nobody can log in until it is set.
    pub password: Option<Secret>,
}

/// An account as the admin commands see it: disabled ones included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// The login name as the directory spells it.
    pub username: String,
    /// The stable subject sessions and tokens carry.
    pub subject: String,
    /// The display name.
    pub display_name: String,
    /// Whether the gateway refuses the account.
    pub disabled: bool,
}

/// The directory, opened for changes.
#[derive(Debug)]
pub enum DirectoryAdmin {
    /// LDAP, bound as the admin account.
    Ldap(Box<LdapAdmin>),
    /// A people file.
    File(PeopleFile),
}

impl DirectoryAdmin {
    /// The account called `username`, disabled or not.
    pub async fn account(&self, username: &str) -> Result<Account, AdminError> {
        match self {
            Self::Ldap(d) => d.account(username).await,
            Self::File(d) => d.account(username),
        }
    }

    /// Adds a person after checking that the name is free and every group exists.
    pub async fn add_user(&self, user: &NewUser) -> Result<Account, AdminError> {
        check_new_user(user)?;
        match self {
            Self::Ldap(d) => d.add_user(user).await,
            Self::File(d) => d.add_user(user),
        }
    }

    /// Sets a password: LDAP servers hash it themselves (Password Modify, or `unicodePwd` on
    /// Active Directory); the people file stores an argon2id hash.
    pub async fn set_password(
        &self,
        username: &str,
        password: &Secret,
    ) -> Result<Account, AdminError> {
        input::check_new_password(password)?;
        match self {
            Self::Ldap(d) => d.set_password(username, password).await,
            Self::File(d) => d.set_password(username, password),
        }
    }

    /// Disables (`true`) or enables (`false`) an account so that the gateway refuses or admits
    /// it; asking for the state it is in is an error.
    pub async fn set_disabled(
        &self,
        username: &str,
        disabled: bool,
    ) -> Result<Account, AdminError> {
        match self {
            Self::Ldap(d) => d.set_disabled(username, disabled).await,
            Self::File(d) => d.set_disabled(username, disabled),
        }
    }

    /// Deletes an account and its group memberships; returns what it was, so that the caller
    /// can end its sessions.
    pub async fn delete_user(&self, username: &str) -> Result<Account, AdminError> {
        match self {
            Self::Ldap(d) => d.delete_user(username).await,
            Self::File(d) => d.delete_user(username),
        }
    }

    /// Adds an empty group.
    pub async fn add_group(&self, name: &str) -> Result<(), AdminError> {
        check_group_name(name)?;
        match self {
            Self::Ldap(d) => d.add_group(name).await,
            Self::File(d) => d.add_group(name),
        }
    }

    /// Puts a user into a group.
    pub async fn add_member(&self, group: &str, username: &str) -> Result<(), AdminError> {
        check_group_name(group)?;
        match self {
            Self::Ldap(d) => d.add_member(group, username).await,
            Self::File(d) => d.add_member(group, username),
        }
    }

    /// The second factors of `username`, disabled or not. The values are sealed; callers show
    /// only [`StoredFactors::counts`].
    pub async fn factors(&self, username: &str) -> Result<StoredFactors, AdminError> {
        match self {
            Self::Ldap(d) => d.factors(username).await,
            Self::File(d) => d.factors(username),
        }
    }

    /// Removes every second factor of `username` in one change (a person who lost their
    /// device enrols again) and returns what was removed; nothing is written when there was
    /// none.
    pub async fn reset_factors(&self, username: &str) -> Result<StoredFactors, AdminError> {
        match self {
            Self::Ldap(d) => d.reset_factors(username).await,
            Self::File(d) => d.reset_factors(username),
        }
    }

    /// Takes a user out of a group (a direct membership; nested ones are removed where written).
    pub async fn remove_member(&self, group: &str, username: &str) -> Result<(), AdminError> {
        check_group_name(group)?;
        match self {
            Self::Ldap(d) => d.remove_member(group, username).await,
            Self::File(d) => d.remove_member(group, username),
        }
    }
}
