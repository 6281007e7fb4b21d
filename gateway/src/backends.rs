//! The two backends that hold state outside the snapshot: the directory (who people are) and
//! the session store (who is logged in). Both are opened once at start from the config; their
//! connections live as long as the process. A change to `[directory]` or `[sessions]` needs a
//! restart (a reload says so); the file directory's people file is re-read on every reload.

use pforte_directory::{Directory, FileDirectory, FileError, LdapDirectory, Observer, SetupError};
use pforte_session::{Clock, SessionStore, StoreError};

use std::sync::Arc;

use crate::config::{Config, DirectoryConfig};

/// Why a backend could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The people file is missing or invalid.
    #[error(transparent)]
    PeopleFile(#[from] FileError),
    /// The LDAP settings are unusable (CA file, TLS setup).
    #[error("directory.ldap: {0}")]
    Ldap(#[from] SetupError),
    /// The session store does not answer.
    #[error("sessions: {0}")]
    Sessions(#[from] StoreError),
}

/// The directory the config names, checked but not contacted (an LDAP server that is down at
/// start is tried again at the first login), or `None` when there is none. With an `observer`
/// (the gateway's metrics; not the admin CLI), it is told of every exchange with an LDAP server.
pub fn open_directory(
    config: &Config,
    observer: Option<Arc<dyn Observer>>,
) -> Result<Option<Directory>, BackendError> {
    Ok(match &config.directory {
        None => None,
        Some(DirectoryConfig::File(settings)) => {
            Some(Directory::File(FileDirectory::load(settings)?))
        }
        Some(DirectoryConfig::Ldap(settings)) => {
            let settings = (**settings).clone();
            Some(Directory::Ldap(match observer {
                Some(observer) => LdapDirectory::observed(settings, observer)?,
                None => LdapDirectory::new(settings)?,
            }))
        }
    })
}

/// The session store the config names; Redis must answer. It keeps time by `clock`, the one
/// the gateway (or the admin CLI) judges time by.
pub async fn open_sessions(config: &Config, clock: Clock) -> Result<SessionStore, BackendError> {
    Ok(SessionStore::open(&config.sessions, clock).await?)
}

/// Re-reads a file directory's people file after a reload; a broken file keeps the last good
/// people and is logged with its place.
pub fn reload_people(directory: Option<&Directory>) {
    if let Some(Directory::File(file)) = directory {
        match file.reload() {
            Ok(count) => tracing::info!(people = count, "people file reloaded"),
            Err(e) => {
                tracing::error!(error = %e, "people file refused; the last good one stays in use")
            }
        }
    }
}
