//! The file backend: people in a TOML file with argon2id password hashes. The embedded default
//! of `pforte demo`, and a choice for small sites without LDAP.
//!
//! The users live behind an atomic pointer: [`FileDirectory::reload`] builds a new set off to
//! the side and swaps it in only when the whole file is valid, so a broken edit keeps the last
//! good users.

mod atomic;
mod edit;
mod factors;
mod format;
mod people;
mod verify;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;

use crate::admin::AdminError;
use crate::error::{AuthError, DirectoryError, FailureReason};
use crate::factors::{FactorKind, StoredFactors, check_value};
use crate::group::GroupRecord;
use crate::health::{Health, ServerHealth, ServerStatus};
use crate::input::{check_password, check_username};
use crate::record::UserRecord;
use crate::settings::{Problems, SettingsErrors};

use format::People;

pub use format::{FileError, FileProblem};
pub use people::PeopleFile;

/// The demo's people (alice, bob, carol, dave (disabled), erin; passwords `<name>pw`), the same
/// as the demo LDAP directory with nested groups flattened.
pub const DEMO_PEOPLE: &str = include_str!("../../demo-people.toml");

/// Where the people file is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileSettings {
    /// The TOML file (format: `demo-people.toml` in this crate).
    pub path: PathBuf,
}

impl FileSettings {
    /// Every problem at once, naming its field under `directory.`.
    pub fn validate(&self) -> Result<(), SettingsErrors> {
        let mut p = Problems::default();
        if self.path.as_os_str().is_empty() {
            p.add("directory.path", "give the people file's path");
        }
        p.finish()
    }
}

/// Where the users come from.
#[derive(Debug)]
enum Source {
    File(PathBuf),
    Embedded {
        label: &'static str,
        text: &'static str,
    },
}

/// The users of one people file, swapped atomically on reload.
#[derive(Debug)]
pub struct FileDirectory {
    source: Source,
    people: ArcSwap<Loaded>,
    last_error: Mutex<Option<String>>,
}

/// A loaded file: the users and the hash that unknown usernames are verified against.
#[derive(Debug)]
struct Loaded {
    people: People,
    dummy: String,
}

impl Loaded {
    fn new(people: People) -> Self {
        let like = people.by_name.values().next().map(|u| u.hash.as_str());
        let dummy = verify::dummy_hash(like);
        Self { people, dummy }
    }
}

impl FileDirectory {
    /// Reads and checks the people file.
    pub fn load(settings: &FileSettings) -> Result<Self, FileError> {
        let source = Source::File(settings.path.clone());
        let loaded = read(&source)?;
        Ok(Self::with(source, loaded))
    }

    /// The demo's people from [`DEMO_PEOPLE`].
    pub fn demo() -> Result<Self, FileError> {
        Self::embedded("demo-people.toml", DEMO_PEOPLE)
    }

    /// People from a text compiled into the binary; `label` names it in errors.
    pub fn embedded(label: &'static str, text: &'static str) -> Result<Self, FileError> {
        let source = Source::Embedded { label, text };
        let loaded = read(&source)?;
        Ok(Self::with(source, loaded))
    }

    fn with(source: Source, loaded: Loaded) -> Self {
        Self {
            source,
            people: ArcSwap::from_pointee(loaded),
            last_error: Mutex::new(None),
        }
    }

    /// Reads the file again: on success the new users replace the old ones and their number is
    /// returned; on error the last good users stay and the error is returned (and shown in
    /// [`Self::health`] until a reload succeeds).
    pub fn reload(&self) -> Result<usize, FileError> {
        let result = read(&self.source);
        let mut last_error = self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match result {
            Ok(loaded) => {
                let count = loaded.people.by_name.len();
                self.people.store(Arc::new(loaded));
                *last_error = None;
                Ok(count)
            }
            Err(error) => {
                *last_error = Some(error.to_string());
                Err(error)
            }
        }
    }

    /// Checks a password against the user's argon2id hash; an unknown username is verified
    /// against a dummy hash, so it takes as long as a wrong password. A disabled account is
    /// refused as disabled whatever the password, as with LDAP.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<UserRecord, AuthError> {
        check_username(username)?;
        check_password(password)?;
        let loaded = self.people.load_full();
        let user = loaded.people.by_name.get(&username.to_lowercase());
        let hash = user.map_or(&loaded.dummy, |u| &u.hash).clone();
        let password_ok = verify::verify_blocking(password, hash).await?;
        match user {
            None => Err(AuthError::InvalidCredentials(FailureReason::UnknownUser)),
            Some(u) if u.disabled => Err(AuthError::InvalidCredentials(FailureReason::Disabled)),
            Some(_) if !password_ok => {
                Err(AuthError::InvalidCredentials(FailureReason::WrongPassword))
            }
            Some(u) => Ok(u.record.clone()),
        }
    }

    /// The user called `username` (without regard to ASCII case); `None` when unknown or disabled.
    pub fn lookup(&self, username: &str) -> Result<Option<UserRecord>, DirectoryError> {
        check_username(username)?;
        let loaded = self.people.load();
        Ok(loaded
            .people
            .by_name
            .get(&username.to_lowercase())
            .filter(|u| !u.disabled)
            .map(|u| u.record.clone()))
    }

    /// The enabled user whose subject is `subject`; `None` when unknown or disabled. A scan of
    /// the loaded file (people files are small).
    pub fn find_by_subject(&self, subject: &str) -> Option<UserRecord> {
        let loaded = self.people.load();
        loaded
            .people
            .by_name
            .values()
            .find(|u| !u.disabled && u.record.subject == subject)
            .map(|u| u.record.clone())
    }

    /// The enabled user whose mail address is `mail`, compared without case; `None` when
    /// unknown or disabled, [`DirectoryError::Ambiguous`] when two people have it.
    pub fn find_by_mail(&self, mail: &str) -> Result<Option<UserRecord>, DirectoryError> {
        let loaded = self.people.load();
        let mut found = loaded.people.by_name.values().filter(|u| {
            !u.disabled
                && u.record
                    .email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(mail))
        });
        let first = found.next().map(|u| u.record.clone());
        if found.next().is_some() {
            return Err(DirectoryError::Ambiguous);
        }
        Ok(first)
    }

    /// The second factors of `username` as last loaded (this process's own changes are loaded
    /// at once, other writers' at the next reload); `None` when unknown or disabled.
    pub fn factors(&self, username: &str) -> Result<Option<StoredFactors>, DirectoryError> {
        check_username(username)?;
        let loaded = self.people.load();
        Ok(loaded
            .people
            .by_name
            .get(&username.to_lowercase())
            .filter(|u| !u.disabled)
            .map(|u| u.factors.clone()))
    }

    /// Adds a second factor's value to the file (see [`Self::write`]).
    pub async fn add_factor(
        &self,
        username: &str,
        kind: FactorKind,
        value: &str,
    ) -> Result<(), DirectoryError> {
        check_username(username)?;
        check_value(kind, value)?;
        let (username, value) = (username.to_owned(), value.to_owned());
        self.write(move |file| file.add_factor(&username, kind, &value))
            .await
    }

    /// Removes exactly `value`, compared with the file as it is under the lock; `false` when it
    /// is not there.
    pub async fn remove_factor(
        &self,
        username: &str,
        kind: FactorKind,
        value: &str,
    ) -> Result<bool, DirectoryError> {
        check_username(username)?;
        check_value(kind, value)?;
        let (username, value) = (username.to_owned(), value.to_owned());
        self.write(move |file| file.remove_factor(&username, kind, &value))
            .await
    }

    /// Replaces `old` by `new`, compared with the file as it is under the lock; `false` when
    /// `old` is gone.
    pub async fn replace_factor(
        &self,
        username: &str,
        kind: FactorKind,
        old: &str,
        new: &str,
    ) -> Result<bool, DirectoryError> {
        check_username(username)?;
        check_value(kind, old)?;
        check_value(kind, new)?;
        let (username, old, new) = (username.to_owned(), old.to_owned(), new.to_owned());
        self.write(move |file| file.replace_factor(&username, kind, &old, &new))
            .await
    }

    /// Runs one change of the file on tokio's blocking pool (it waits for the folder lock and
    /// syncs to disk), then loads the result, so this process sees its own change at once. A
    /// compiled-in people file cannot be changed.
    async fn write<T: Send + 'static>(
        &self,
        change: impl FnOnce(&PeopleFile) -> Result<T, AdminError> + Send + 'static,
    ) -> Result<T, DirectoryError> {
        let path = match &self.source {
            Source::File(path) => path.clone(),
            Source::Embedded { label, .. } => {
                return Err(DirectoryError::PeopleFile {
                    path: (*label).to_owned(),
                    message: "compiled in, so second factors cannot be kept in it; configure a                               people file"
                        .into(),
                });
            }
        };
        let file = PeopleFile::new(&FileSettings { path: path.clone() });
        let out = tokio::task::spawn_blocking(move || change(&file))
            .await
            .map_err(|_| DirectoryError::Interrupted)?
            .map_err(|e| write_error(&path, e))?;
        if let Err(error) = self.reload() {
            tracing::warn!(%error, "the people file was changed but does not load");
        }
        Ok(out)
    }

    /// Every enabled user, sorted by username.
    pub fn users(&self) -> Vec<UserRecord> {
        let loaded = self.people.load();
        let mut users: Vec<UserRecord> = loaded
            .people
            .by_name
            .values()
            .filter(|u| !u.disabled)
            .map(|u| u.record.clone())
            .collect();
        users.sort_by(|a, b| a.username.cmp(&b.username));
        users
    }

    /// Every group (declared, or named by a user) with its members, sorted by name.
    pub fn groups(&self) -> Vec<GroupRecord> {
        people::group_records(&self.people.load().people)
    }

    /// The file, always up (its users are in memory), with the last failed reload's error.
    pub fn health(&self) -> Health {
        let last_error = self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        Health {
            servers: vec![ServerHealth {
                url: self.source.name().display().to_string(),
                status: ServerStatus::Up,
                last_error,
            }],
        }
    }
}

impl Source {
    fn name(&self) -> &Path {
        match self {
            Self::File(path) => path,
            Self::Embedded { label, .. } => Path::new(label),
        }
    }
}

/// A refused change of the people file as the directory's error.
fn write_error(path: &Path, error: AdminError) -> DirectoryError {
    match error {
        AdminError::Directory(e) => e,
        AdminError::UnknownUser(name) => DirectoryError::UnknownAccount(name),
        AdminError::PeopleFile { message, .. } => DirectoryError::PeopleFile {
            path: path.display().to_string(),
            message,
        },
        other => DirectoryError::PeopleFile {
            path: path.display().to_string(),
            message: other.to_string(),
        },
    }
}

fn read(source: &Source) -> Result<Loaded, FileError> {
    let people = match source {
        Source::File(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| FileError::Read {
                path: path.clone(),
                source: e,
            })?;
            format::parse(path, &text)?
        }
        Source::Embedded { label, text } => format::parse(Path::new(label), text)?,
    };
    Ok(Loaded::new(people))
}

#[cfg(test)]
mod tests;
