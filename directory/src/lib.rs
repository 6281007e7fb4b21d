//! Pforte's directory: who is this, is the password right, which groups are they in. The login
//! page, the OIDC provider and the admin CLI ask it; it knows nothing of HTTP or sessions.
//!
//! ```text
//! Directory::Ldap(LdapDirectory)   one or more LDAP servers (OpenLDAP, Active Directory)
//! Directory::File(FileDirectory)   a TOML people file with argon2id hashes (the demo's default)
//!      │
//!      ├─ authenticate(username, password) ─▶ UserRecord | AuthError
//!      ├─ lookup(username)                 ─▶ Option<UserRecord>
//!      ├─ find_by_subject(subject)         ─▶ Option<UserRecord>, past every cache (a passkey's
//!      │                                      user handle, a session's identity refresh)
//!      ├─ find_by_mail(mail)               ─▶ Option<UserRecord> (a federated login's first link)
//!      ├─ users()                          ─▶ every user with groups (policy who-can / diff)
//!      ├─ groups()                         ─▶ every group with direct and nested members
//!      ├─ factors(username)                ─▶ Option<StoredFactors> (sealed second factors)
//!      ├─ add_factor / remove_factor / replace_factor   one atomic change each (compare-and-set)
//!      └─ health()                         ─▶ per server: up, down, last error
//! ```
//!
//! Changes (add, disable, delete people; groups and memberships) go through [`DirectoryAdmin`],
//! opened by `pforte-admin` with the admin account or on the people file.
//!
//! Two backends, so an enum rather than a trait object: each call is a plain match.
//! Settings ([`LdapSettings`], [`FileSettings`]) are plain runtime values filled by the gateway's
//! config layer and checked by their `validate()`.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]
// The directory's own timers (how long a lookup stays cached, how long a failed LDAP server is
// skipped) read monotonic time here and hand it to functions that take `now`, which is what
// their tests give; they are not yet moved by the gateway's clock.
#![allow(clippy::disallowed_methods)]

mod admin;
mod cache;
mod error;
mod factors;
mod file;
mod group;
mod health;
mod input;
mod ldap;
mod nesting;
mod observe;
mod record;
mod settings;
pub mod slow_hash;

pub use admin::{Account, AdminError, DirectoryAdmin, ErrorClass, NewUser};
pub use error::{AuthError, DirectoryError, FailureReason, Field, InputError};
pub use factors::{
    FactorCounts, FactorKind, MAX_FACTOR_VALUE_BYTES, MAX_FACTORS_PER_KIND, StoredFactors,
};
pub use file::{DEMO_PEOPLE, FileDirectory, FileError, FileProblem, FileSettings, PeopleFile};
pub use group::{GroupRecord, Member, MemberKind};
pub use health::{Health, ServerHealth, ServerStatus};
pub use input::{MAX_PASSWORD_BYTES, MAX_USERNAME_BYTES};
pub use ldap::{
    AttributeMap, DisableMark, GroupLookup, GroupSettings, LdapAdmin, LdapAdminSettings,
    LdapDirectory, LdapSettings, ServerKind, SetupError, TlsError,
};
pub use observe::{Observer, Outcome};
pub use record::UserRecord;
pub use settings::{Secret, SettingsErrors, SettingsProblem};

/// The configured directory backend.
#[derive(Debug)]
pub enum Directory {
    /// LDAP servers.
    Ldap(LdapDirectory),
    /// A people file.
    File(FileDirectory),
}

impl Directory {
    /// Checks a login. Every failure the person can cause is
    /// [`AuthError::InvalidCredentials`], whatever the reason; a directory that cannot answer is
    /// [`AuthError::Unavailable`].
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<UserRecord, AuthError> {
        match self {
            Self::Ldap(d) => d.authenticate(username, password).await,
            Self::File(d) => d.authenticate(username, password).await,
        }
    }

    /// The user and their groups, without a password (token refresh, admin CLI); `None` for an
    /// unknown or disabled account.
    pub async fn lookup(&self, username: &str) -> Result<Option<UserRecord>, DirectoryError> {
        match self {
            Self::Ldap(d) => d.lookup(username).await,
            Self::File(d) => d.lookup(username),
        }
    }

    /// The enabled user whose stable subject is `subject`, with their groups, read fresh: past
    /// the LDAP lookup caches, from the people file as last loaded. A passwordless passkey login
    /// names its person by it, and a session's periodic identity refresh asks it, so a person
    /// disabled or moved between groups seconds ago is seen so. `None` when unknown or
    /// disabled; an error when the directory cannot answer (never `None` for an outage).
    pub async fn find_by_subject(
        &self,
        subject: &str,
    ) -> Result<Option<UserRecord>, DirectoryError> {
        match self {
            Self::Ldap(d) => d.find_by_subject(subject).await,
            Self::File(d) => Ok(d.find_by_subject(subject)),
        }
    }

    /// The enabled user whose mail address is `mail`, read fresh: how a login through a
    /// partner's provider finds the directory person it links to, once, by a verified address.
    /// `None` when unknown or disabled; [`DirectoryError::Ambiguous`] when two people have it
    /// (a link must name one person).
    pub async fn find_by_mail(&self, mail: &str) -> Result<Option<UserRecord>, DirectoryError> {
        match self {
            Self::Ldap(d) => d.find_by_mail(mail).await,
            Self::File(d) => d.find_by_mail(mail),
        }
    }

    /// Every enabled user with their groups, sorted by username.
    pub async fn users(&self) -> Result<Vec<UserRecord>, DirectoryError> {
        match self {
            Self::Ldap(d) => d.users().await,
            Self::File(d) => Ok(d.users()),
        }
    }

    /// Every group with its direct and nested members (disabled members marked), sorted by
    /// name; read with the gateway's own account, no admin rights needed.
    pub async fn groups(&self) -> Result<Vec<GroupRecord>, DirectoryError> {
        match self {
            Self::Ldap(d) => d.groups().await,
            Self::File(d) => Ok(d.groups()),
        }
    }

    /// The second factors kept with the person, each value as the gateway sealed it; `None` for
    /// an unknown or disabled account. Read fresh from LDAP (never cached).
    pub async fn factors(&self, username: &str) -> Result<Option<StoredFactors>, DirectoryError> {
        match self {
            Self::Ldap(d) => d.factors(username).await,
            Self::File(d) => d.factors(username),
        }
    }

    /// Adds a second factor's value (opaque, sealed by the caller; never logged). A value held
    /// already is left as it is. Refused: an unknown or disabled account
    /// ([`DirectoryError::UnknownAccount`]), an empty, control-character or over-long value, or
    /// more than [`MAX_FACTORS_PER_KIND`] of a kind ([`DirectoryError::InvalidInput`]).
    pub async fn add_factor(
        &self,
        username: &str,
        kind: FactorKind,
        value: &str,
    ) -> Result<(), DirectoryError> {
        match self {
            Self::Ldap(d) => d.add_factor(username, kind, value).await,
            Self::File(d) => d.add_factor(username, kind, value).await,
        }
    }

    /// Removes exactly `value`, atomically: `false` when it was not there, so of two replicas
    /// consuming the same recovery code only one gets `true`.
    pub async fn remove_factor(
        &self,
        username: &str,
        kind: FactorKind,
        value: &str,
    ) -> Result<bool, DirectoryError> {
        match self {
            Self::Ldap(d) => d.remove_factor(username, kind, value).await,
            Self::File(d) => d.remove_factor(username, kind, value).await,
        }
    }

    /// Replaces `old` by `new` as one compare-and-set (a passkey's counter, a re-sealed secret):
    /// `false`, and nothing changed, when `old` is gone.
    pub async fn replace_factor(
        &self,
        username: &str,
        kind: FactorKind,
        old: &str,
        new: &str,
    ) -> Result<bool, DirectoryError> {
        match self {
            Self::Ldap(d) => d.replace_factor(username, kind, old, new).await,
            Self::File(d) => d.replace_factor(username, kind, old, new).await,
        }
    }

    /// The backend's servers (or file) and whether they answer.
    pub async fn health(&self) -> Health {
        match self {
            Self::Ldap(d) => d.health().await,
            Self::File(d) => d.health(),
        }
    }
}
