//! Why a command did not do its work, and the exit code each reason gives, so scripts can tell
//! "you asked wrongly" (2) from "it failed or was refused" (1) and "a backend is down" (3).

use pforte::backends::BackendError;
use pforte::config::ConfigErrors;
use pforte::policy::tools::ToolError;
use pforte::telemetry::audit_log::OpenError;
use pforte_directory::DirectoryError;
use pforte_keys::KeyError;
use pforte_session::{IdError, StoreError};

use crate::listener::ListenerError;

/// The command's outcome as a process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit(pub u8);

impl Exit {
    /// Done; or for a question: yes, allowed, nothing changes.
    pub const OK: Exit = Exit(0);
    /// Failed, refused, or for a question: no, not allowed, something changes.
    pub const NO: Exit = Exit(1);
    /// Bad input or config.
    pub const BAD_INPUT: Exit = Exit(2);
    /// The directory or the session store does not answer.
    pub const UNHEALTHY: Exit = Exit(3);
}

/// Why a command stopped.
#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    /// The config file named by `--config` or `$PFORTE_CONFIG` is unreadable or invalid.
    #[error("{0}")]
    Config(#[from] ConfigErrors),
    /// No config was named, the command needs one, and the default is unreadable or invalid.
    #[error(
        "{0}\nthis command needs the gateway config: name it with --config FILE or PFORTE_CONFIG \
         (`policy check DIR` and `keys --dir DIR` need none)"
    )]
    DefaultConfig(ConfigErrors),
    /// The audit log named by the config cannot be opened.
    #[error(transparent)]
    AuditFile(#[from] OpenError),
    /// A policy tool could not answer (policy, apps or users file broken; bad URL).
    #[error(transparent)]
    Policy(#[from] ToolError),
    /// The config names no directory.
    #[error("{0} has no [directory]: this command needs the people directory")]
    NoDirectory(String),
    /// The config names no key directory.
    #[error("{0} has no [keys] dir; name the key folder with --dir")]
    NoKeys(String),
    /// The running gateway's admin listener gave no usable answer (for `status`, and for the
    /// sessions and locks of the memory store, which live inside the gateway process).
    #[error(transparent)]
    Listener(#[from] ListenerError),
    /// The directory change was made, but the person's sessions could not be ended.
    #[error("{user}'s directory change is done, but their sessions were NOT ended: {source}")]
    SessionsNotEnded {
        /// The person.
        user: String,
        /// Why the sessions were not ended.
        source: Box<CmdError>,
    },
    /// The directory or session store could not be opened.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The directory did not answer.
    #[error("directory: {0}")]
    Directory(#[from] DirectoryError),
    /// The session store did not answer.
    #[error("sessions: {0}")]
    Store(#[from] StoreError),
    /// A key operation failed.
    #[error("keys: {0}")]
    Keys(#[from] KeyError),
    /// No such user in the directory.
    #[error("no user {0:?} in the directory (or the account is disabled)")]
    UnknownUser(String),
    /// No such app in the apps file.
    #[error("no app {0:?} in the apps file")]
    UnknownApp(String),
    /// The session id is malformed.
    #[error(
        "{text:?} is not a session id (16 lowercase hex characters, as `sessions list` shows): {source}"
    )]
    BadSid {
        /// What was typed.
        text: String,
        /// Why it is not a sid.
        source: IdError,
    },
    /// No live session has that id or belongs to that person.
    #[error("no live session {0}")]
    NoSuchSession(String),
    /// A destructive command without a terminal to ask on and without `--yes`.
    #[error("{0}: refusing without confirmation; run it in a terminal or add --yes")]
    NoTerminal(String),
    /// The admin answered no.
    #[error("not confirmed; nothing changed")]
    NotConfirmed,
    /// Reading the answer or writing the output failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// JSON output could not be written.
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A clients command was refused or failed (its own exit code).
    #[error(transparent)]
    Clients(#[from] crate::cmd::clients::ClientsCmdError),
    /// An idps command could not read the providers (its own exit code).
    #[error(transparent)]
    Idps(#[from] crate::cmd::idps::IdpsCmdError),
    /// An audit command could not read what it was given (exit 2; a break is exit 1).
    #[error(transparent)]
    Audit(#[from] crate::cmd::audit::AuditCmdError),
    /// A change to the people or groups was refused (its class gives the exit code).
    #[error("{0}")]
    People(#[from] pforte_directory::AdminError),
    /// A new password (or the directory admin's) could not be read.
    #[error("{0}")]
    Password(String),
}

impl CmdError {
    /// The exit code this reason gives.
    pub fn exit(&self) -> Exit {
        match self {
            Self::Clients(e) => e.exit(),
            Self::Idps(e) => e.exit(),
            Self::Audit(e) => e.exit(),
            Self::People(e) => match e.class() {
                pforte_directory::ErrorClass::BadInput => Exit::BAD_INPUT,
                pforte_directory::ErrorClass::Refused => Exit::NO,
                pforte_directory::ErrorClass::Unavailable => Exit::UNHEALTHY,
            },
            Self::Password(_) => Exit::BAD_INPUT,
            Self::Listener(e) => match e {
                ListenerError::Connect { .. } | ListenerError::Timeout { .. } => Exit::UNHEALTHY,
                e if e.status() == Some(http::StatusCode::SERVICE_UNAVAILABLE) => Exit::UNHEALTHY,
                e if e.status() == Some(http::StatusCode::BAD_REQUEST) => Exit::BAD_INPUT,
                ListenerError::Refused { .. }
                | ListenerError::Failed { .. }
                | ListenerError::Unexpected { .. } => Exit::NO,
            },
            Self::SessionsNotEnded { source, .. } => source.exit(),
            Self::Config(_)
            | Self::DefaultConfig(_)
            | Self::AuditFile(_)
            | Self::Policy(_)
            | Self::NoDirectory(_)
            | Self::NoKeys(_)
            | Self::UnknownUser(_)
            | Self::UnknownApp(_)
            | Self::BadSid { .. }
            | Self::NoTerminal(_) => Exit::BAD_INPUT,
            Self::Backend(BackendError::Sessions(StoreError::Unavailable(_)))
            | Self::Directory(
                DirectoryError::AllServersDown { .. } | DirectoryError::PoolTimeout,
            )
            | Self::Store(StoreError::Unavailable(_)) => Exit::UNHEALTHY,
            Self::Backend(_)
            | Self::Store(_)
            | Self::Directory(_)
            | Self::Keys(_)
            | Self::NoSuchSession(_)
            | Self::NotConfirmed
            | Self::Io(_)
            | Self::Json(_) => Exit::NO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pforte::admin::api::Problem;

    #[test]
    fn the_gateway_absent_refusing_or_asked_wrongly_exit_3_1_2() {
        let failed = |status| {
            CmdError::Listener(ListenerError::Failed {
                addr: "x".into(),
                status,
                problem: Problem {
                    error: "e".into(),
                    field: None,
                },
            })
        };
        assert_eq!(
            failed(http::StatusCode::SERVICE_UNAVAILABLE).exit(),
            Exit::UNHEALTHY
        );
        assert_eq!(
            failed(http::StatusCode::BAD_REQUEST).exit(),
            Exit::BAD_INPUT
        );
        assert_eq!(failed(http::StatusCode::NOT_FOUND).exit(), Exit::NO);
        let refused = CmdError::Listener(ListenerError::Refused { addr: "x".into() });
        assert_eq!(refused.exit(), Exit::NO);
        let down = ListenerError::Connect {
            addr: "x".into(),
            reason: "refused".into(),
        };
        assert_eq!(CmdError::Listener(down).exit(), Exit::UNHEALTHY);
        let after_change = CmdError::SessionsNotEnded {
            user: "bob".into(),
            source: Box::new(CmdError::Listener(ListenerError::Timeout {
                addr: "x".into(),
            })),
        };
        assert_eq!(after_change.exit(), Exit::UNHEALTHY);
        assert!(
            after_change.to_string().contains("NOT ended"),
            "{after_change}"
        );
    }
}
