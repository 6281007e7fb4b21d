//! What can go wrong, split by what the caller must do about it: tell the person "wrong username
//! or password" ([`AuthError::InvalidCredentials`]), tell them "directory unavailable, try again"
//! ([`AuthError::Unavailable`]), or refuse input that must never reach a server
//! ([`AuthError::Malformed`]).

use std::fmt;

use serde::Serialize;

use crate::factors::FactorKind;

/// Why a login was refused although the directory answered. The login page shows one and the same
/// message for all of them (so it tells nobody which usernames exist); the reason is for the audit
/// log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// No account has this username (or the account is not one the gateway's user filter admits).
    UnknownUser,
    /// The account exists and the password is not its password.
    WrongPassword,
    /// The password was right but the account is disabled.
    Disabled,
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownUser => "unknown user",
            Self::WrongPassword => "wrong password",
            Self::Disabled => "account disabled",
        })
    }
}

/// Why [`Directory::authenticate`](crate::Directory::authenticate) did not return a user.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The directory answered and refused the login.
    #[error("invalid credentials: {0}")]
    InvalidCredentials(FailureReason),
    /// The directory could not answer (unreachable, timed out, service bind failed, or
    /// misconfigured): the person is told to try again, never that the password is wrong.
    #[error("directory unavailable: {0}")]
    Unavailable(#[from] DirectoryError),
    /// The input was refused before any server saw it (empty password, control characters, too
    /// long): an empty password in particular must never become an LDAP bind, which would succeed
    /// as an unauthenticated bind.
    #[error("malformed login input: {0}")]
    Malformed(#[from] InputError),
}

/// Which input field a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The username typed on the login page or given to a lookup.
    Username,
    /// The password typed on the login page.
    Password,
    /// A second factor's value (named by its kind, never shown).
    Factor(FactorKind),
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Username => f.write_str("username"),
            Self::Password => f.write_str("password"),
            Self::Factor(kind) => write!(f, "{kind} value"),
        }
    }
}

/// Input refused before it reaches a directory; the message never repeats the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// An empty field.
    #[error("the {0} is empty")]
    Empty(Field),
    /// A NUL byte (or, in a username, any control character).
    #[error("the {0} contains a NUL byte or a control character")]
    ControlCharacter(Field),
    /// Longer than any real value; refused so that nobody can make the server work on megabytes.
    #[error("the {field} is longer than {max} bytes")]
    TooLong {
        /// The field.
        field: Field,
        /// The limit in bytes.
        max: usize,
    },
    /// One value too many of a kind that a person may hold only so many of.
    #[error("too many {field}s: at most {max} per person")]
    TooMany {
        /// The field.
        field: Field,
        /// The most values allowed.
        max: usize,
    },
}

/// Why the directory could not answer a lookup, a listing or the password check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// No server could be reached; each one tried is marked down for the retry interval.
    #[error("no directory server reachable (last error: {last_error})")]
    AllServersDown {
        /// The last connection error seen, naming its server.
        last_error: String,
    },
    /// The service account's bind was refused: the gateway's configured credentials are wrong.
    #[error("the service account could not bind to {url}: {message}")]
    ServiceBind {
        /// The server that refused.
        url: String,
        /// The server's answer.
        message: String,
    },
    /// The server answered an operation with an error (a bad base DN or filter, an ACL).
    #[error("directory operation failed on {url}: {message}")]
    Operation {
        /// The server that answered.
        url: String,
        /// The result code and the server's message.
        message: String,
    },
    /// Waiting for a free connection took longer than the operation timeout.
    #[error("timed out waiting for a free directory connection")]
    PoolTimeout,
    /// The username matches more than one entry, so the user filter is too wide.
    #[error("the username matches several directory entries; narrow the user filter")]
    Ambiguous,
    /// A user's entry lacks an attribute the mapping needs.
    #[error("entry {dn} has no usable {attribute} attribute")]
    MissingAttribute {
        /// The entry.
        dn: String,
        /// The mapped attribute.
        attribute: String,
    },
    /// Listing users met more entries than the configured limit or the server's own size limit,
    /// so the list would be partial.
    #[error(
        "the directory holds more users than can be listed (users limit {limit}, or the server's size limit for the service account)"
    )]
    TooManyUsers {
        /// The configured limit.
        limit: usize,
    },
    /// The server's size limit cut an answer short that must be complete.
    #[error(
        "the server's size limit cut the search for {search} short; raise it for the service account"
    )]
    SizeLimit {
        /// What was searched.
        search: &'static str,
    },
    /// A user's groups nest deeper than allowed (a partial list could miss a deny rule's group).
    #[error("groups of {dn} nest deeper than {max_depth} levels; raise the maximum depth")]
    NestingTooDeep {
        /// The user's entry.
        dn: String,
        /// The configured bound.
        max_depth: usize,
    },
    /// The username was refused before reaching the server.
    #[error("invalid lookup: {0}")]
    InvalidInput(#[from] InputError),
    /// No enabled account has this username: second factors are neither kept for unknown nor
    /// for disabled accounts.
    #[error("no enabled account {0:?} in the directory")]
    UnknownAccount(String),
    /// The people file could not be changed: compiled in, unreadable, locked out, or its layout
    /// does not allow the edit.
    #[error("people file {path}: {message}")]
    PeopleFile {
        /// The file (or the label of a compiled-in one).
        path: String,
        /// What failed.
        message: String,
    },
    /// A worker thread (password hashing, a people file write) stopped: the runtime is shutting
    /// down.
    #[error("password verification was interrupted")]
    Interrupted,
}
