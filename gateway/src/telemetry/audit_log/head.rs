//! The head file: the chain's last synced event (sequence number and hash), kept beside the log
//! as `.<log name>.<replica>.head` and replaced atomically at every sync. It tells a restarting
//! writer where its chain stood when the log no longer does (rotated away, emptied, replaced),
//! so the chain goes on and the gap is recorded instead of a new chain silently starting. Like
//! the log, anyone who can write the folder can change it: only checkpoints kept elsewhere prove
//! anything. The lock file `.<log name>.<replica>.lock` keeps a second process from writing the
//! same chain.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use pforte_audit::Hash;
use serde::{Deserialize, Serialize};

/// What the head file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    /// The chain.
    pub replica: String,
    /// Its last synced event.
    pub seq: u64,
    /// That event's hash, hex.
    pub hash: String,
}

/// The paths of a chain's head and lock files.
#[derive(Debug, Clone)]
pub struct HeadFiles {
    head: PathBuf,
    lock: PathBuf,
}

impl HeadFiles {
    /// The files of `replica`'s chain in `log`.
    pub fn new(log: &Path, replica: &str) -> HeadFiles {
        let dir = log.parent().unwrap_or(Path::new("."));
        let name = log
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        HeadFiles {
            head: dir.join(format!(".{name}.{replica}.head")),
            lock: dir.join(format!(".{name}.{replica}.lock")),
        }
    }

    /// Takes the chain's lock: without waiting (a gateway: a second one writing the same chain
    /// is a configuration error) or waiting for it (`pforte-admin`, which may run twice at once).
    pub fn lock(&self, wait: bool) -> std::io::Result<Option<File>> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock)?;
        if wait {
            file.lock()?;
            return Ok(Some(file));
        }
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }

    /// The lock file's path, for messages.
    pub fn lock_path(&self) -> &Path {
        &self.lock
    }

    /// The head, `None` when there is none or it cannot be read (a damaged head file is no
    /// worse than none: the log's own tail still counts).
    pub fn read(&self) -> Option<(u64, Hash)> {
        let text = std::fs::read_to_string(&self.head).ok()?;
        let head: Head = serde_json::from_str(&text).ok()?;
        Some((head.seq, Hash::from_hex(&head.hash)?))
    }

    /// Replaces the head: a temporary file, synced, renamed over it.
    pub fn write(&self, head: &Head) -> std::io::Result<()> {
        let temp = self.head.with_extension("head.tmp");
        let mut file = File::create(&temp)?;
        file.write_all(serde_json::to_string(head).unwrap_or_default().as_bytes())?;
        file.sync_data()?;
        std::fs::rename(&temp, &self.head)
    }
}
