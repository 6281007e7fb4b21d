//! Second factors as the login host uses them: a person's factors read from the directory and
//! opened ([`account`]), a typed code checked against them with the replay guard ([`code`],
//! [`replay`]), and new factors sealed and saved ([`enrol`]). The pages that ask for them live
//! in `portal::second_factor` and `portal::security`; the cryptography is `pforte_factors`'.

pub mod account;
pub mod code;
pub mod enrol;
pub mod replay;

use pforte_directory::{Directory, DirectoryError};
use pforte_factors::seal::{SealError, Sealer};
use pforte_session::{SessionStore, StoreError};

/// Where factors are kept and how: the directory (sealed values), the session store (the
/// short-lived state), the sealing key.
#[derive(Clone, Copy)]
pub struct Keeping<'a> {
    /// The session store.
    pub sessions: &'a SessionStore,
    /// The directory.
    pub directory: &'a Directory,
    /// The sealing key.
    pub sealer: &'a Sealer,
}

/// Why a second-factor step could not be done (as opposed to a wrong code, which is an answer).
#[derive(Debug, thiserror::Error)]
pub enum FactorError {
    /// The directory did not answer or refused the change.
    #[error("directory: {0}")]
    Directory(#[from] DirectoryError),
    /// The session store did not answer.
    #[error("session store: {0}")]
    Store(#[from] StoreError),
    /// A value could not be sealed.
    #[error("sealing: {0}")]
    Seal(#[from] SealError),
    /// A new factor could not be made (random source, hashing).
    #[error("{0}")]
    Make(String),
}
