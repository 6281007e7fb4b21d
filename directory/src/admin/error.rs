//! Why a change to the directory was not made, split by what the admin must do: ask differently
//! ([`ErrorClass::BadInput`]), find out why the directory said no ([`ErrorClass::Refused`]), or
//! wait for it to answer ([`ErrorClass::Unavailable`]). Every refusal happens before anything is
//! written, or after what was written has been taken back, unless the message says otherwise.

use std::path::PathBuf;

use crate::error::DirectoryError;
use crate::file::FileError;

/// What the admin should do about an [`AdminError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The request does not fit the directory (unknown or duplicate names, bad values, missing
    /// settings): change the command or the config.
    BadInput,
    /// The directory or the file system refused the change.
    Refused,
    /// The directory did not answer.
    Unavailable,
}

/// Why a change was not made.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No user of that name (the gateway's user filter admits none).
    #[error("no user {0:?} in the directory")]
    UnknownUser(String),
    /// No group of that name.
    #[error("no group {0:?} in the directory")]
    UnknownGroup(String),
    /// Several groups have that name, so the command cannot tell which is meant.
    #[error("several groups are named {0:?}; rename one in the directory")]
    AmbiguousGroup(String),
    /// The user name is taken.
    #[error("a user {0:?} already exists")]
    UserExists(String),
    /// The group name is taken.
    #[error("a group {0:?} already exists")]
    GroupExists(String),
    /// The membership to add is there already.
    #[error("{user:?} is already a member of {group:?}")]
    AlreadyMember {
        /// The group.
        group: String,
        /// The user.
        user: String,
    },
    /// The membership to remove is not written in the group.
    #[error("{user:?} is not a direct member of {group:?}{}", nested_hint(.through))]
    NotMember {
        /// The group.
        group: String,
        /// The user.
        user: String,
        /// The nested groups the user belongs through, if any.
        through: Vec<String>,
    },
    /// The account is in the asked state already.
    #[error("{user:?} is already {state}")]
    AlreadyInState {
        /// The user.
        user: String,
        /// `disabled` or `enabled`.
        state: &'static str,
    },
    /// A value given on the command line is not usable.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// Which value.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The config lacks what the command needs.
    #[error("{0}")]
    NotConfigured(String),
    /// The admin account's bind was refused.
    #[error("the admin account {dn} could not bind to {url}: {message}")]
    Bind {
        /// The server.
        url: String,
        /// The admin DN.
        dn: String,
        /// The server's answer.
        message: String,
    },
    /// The directory answered the change with an error (access rights, schema, password policy).
    #[error("the directory refused to {action}: {message}")]
    Refused {
        /// What was attempted.
        action: String,
        /// The server's answer.
        message: String,
    },
    /// The change was made but did not have the effect the gateway needs, and was taken back.
    #[error("{0}; nothing changed")]
    NoEffect(String),
    /// The directory could not be read.
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    /// The people file does not load (before or after the edit).
    #[error(transparent)]
    File(#[from] FileError),
    /// The people file could not be read, locked, edited in its layout or replaced.
    #[error("people file {}: {message}", path.display())]
    PeopleFile {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

fn nested_hint(groups: &[String]) -> String {
    if groups.is_empty() {
        String::new()
    } else {
        format!(" (only through {}; remove it there)", groups.join(", "))
    }
}

impl AdminError {
    /// What the admin should do about it.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::UnknownUser(_)
            | Self::UnknownGroup(_)
            | Self::AmbiguousGroup(_)
            | Self::UserExists(_)
            | Self::GroupExists(_)
            | Self::AlreadyMember { .. }
            | Self::NotMember { .. }
            | Self::AlreadyInState { .. }
            | Self::Invalid { .. }
            | Self::NotConfigured(_)
            | Self::File(_) => ErrorClass::BadInput,
            Self::Directory(
                DirectoryError::AllServersDown { .. } | DirectoryError::PoolTimeout,
            ) => ErrorClass::Unavailable,
            Self::Bind { .. }
            | Self::Refused { .. }
            | Self::NoEffect(_)
            | Self::Directory(_)
            | Self::PeopleFile { .. } => ErrorClass::Refused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_member_is_told_where_the_membership_is() {
        let e = AdminError::NotMember {
            group: "staff".into(),
            user: "carol".into(),
            through: vec!["finance".into()],
        };
        assert_eq!(
            e.to_string(),
            "\"carol\" is not a direct member of \"staff\" (only through finance; remove it there)"
        );
        assert_eq!(e.class(), ErrorClass::BadInput);
        let down = AdminError::Directory(DirectoryError::PoolTimeout);
        assert_eq!(down.class(), ErrorClass::Unavailable);
    }
}
