//! The file end of the chain: seals each event onto the chain and appends its line with one
//! `write`, so a crash of the process loses nothing the gateway recorded; syncs to disk every
//! sync interval (or, with `every_event`, at once), so a crash of the machine loses at most that
//! much and at most cuts the last line, which the next start records; keeps the head file; and
//! follows the file when it is rotated away.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use pforte_audit::checkpoint::Checkpoint;
use pforte_audit::keys::SigningKey;
use pforte_audit::{AuditError, Encoded, Link, Sealed, seal};
use serde_json::{Map, Value};

use super::head::{Head, HeadFiles};

/// Why an event could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The event cannot be sealed.
    #[error(transparent)]
    Seal(#[from] AuditError),
    /// The file refused it.
    #[error("{path}: {source}")]
    Io {
        /// The log.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The open log and the chain's state.
pub struct Writer {
    path: PathBuf,
    file: File,
    line: Vec<u8>,
    identity: (u64, u64),
    next: Link,
    every_event: bool,
    head: HeadFiles,
    synced_seq: u64,
    checkpointed_seq: u64,
    last_event_seq: u64,
}

/// A sync taken out of the writer: the file's events up to a sequence number to disk, then the
/// head file.
pub struct PendingSync {
    file: File,
    path: PathBuf,
    head: HeadFiles,
    record: Head,
}

impl PendingSync {
    /// Flushes to disk and records the head; the sequence number now on disk.
    pub fn run(self) -> Result<u64, WriteError> {
        let io = |source| WriteError::Io {
            path: self.path.clone(),
            source,
        };
        self.file.sync_data().map_err(io)?;
        self.head.write(&self.record).map_err(io)?;
        Ok(self.record.seq)
    }
}

impl Writer {
    /// Opens (creating, mode 0640) `path` for appending, going on at `next`.
    pub fn open(
        path: &Path,
        next: Link,
        every_event: bool,
        head: HeadFiles,
    ) -> Result<Writer, WriteError> {
        let file = open_append(path)?;
        let identity = identity(&file, path)?;
        let synced_seq = next.seq - 1;
        Ok(Writer {
            path: path.to_path_buf(),
            file,
            line: Vec::with_capacity(1024),
            identity,
            next,
            every_event,
            head,
            synced_seq,
            checkpointed_seq: synced_seq,
            last_event_seq: synced_seq,
        })
    }

    /// Ends a line a crash cut short, so the next event starts on its own line.
    pub fn end_line(&mut self) -> Result<(), WriteError> {
        self.file.write_all(b"\n").map_err(self.io())
    }

    /// Seals `fields` as the next event and appends it (the rare events: the log's own).
    pub fn append(&mut self, fields: Map<String, Value>) -> Result<Sealed, WriteError> {
        let sealed = seal(fields, &self.next)?;
        self.put(sealed, true)
    }

    /// Seals already encoded members as the next event and appends it (every request's events).
    pub fn append_encoded(&mut self, members: &mut Encoded) -> Result<Sealed, WriteError> {
        let sealed = members.seal(&self.next);
        self.put(sealed, true)
    }

    /// Appends a sealed line. The chain moves on only when the line was taken whole; otherwise
    /// the event is lost (and the error says so) but the chain is not.
    fn put(&mut self, sealed: Sealed, event: bool) -> Result<Sealed, WriteError> {
        self.line.clear();
        self.line.extend_from_slice(sealed.line.as_bytes());
        self.line.push(b'\n');
        self.file.write_all(&self.line).map_err(self.io())?;
        if self.every_event {
            self.file.sync_data().map_err(self.io())?;
        }
        self.next.seq += 1;
        self.next.prev = sealed.hash;
        if event {
            self.last_event_seq = self.last_seq();
        }
        if self.every_event {
            self.synced_seq = self.last_seq();
        }
        Ok(sealed)
    }

    /// The sequence number of the last event written, 0 before any.
    pub fn last_seq(&self) -> u64 {
        self.next.seq - 1
    }

    /// Syncs the file when events were written since the last sync, then records the head, all
    /// while the caller holds the writer (at start and at shutdown, when nobody waits for it).
    pub fn sync(&mut self) -> Result<(), WriteError> {
        if let Some(pending) = self.begin_sync()? {
            let seq = pending.run()?;
            self.synced(seq);
        }
        Ok(())
    }

    /// What a sync of the events written so far needs, to run without the writer: a flush to
    /// disk takes milliseconds, and requests must not wait for it. `None` when nothing new was
    /// written since the last sync.
    pub fn begin_sync(&mut self) -> Result<Option<PendingSync>, WriteError> {
        let last = self.last_seq();
        if last == 0 || last == self.synced_seq {
            return Ok(None);
        }
        Ok(Some(PendingSync {
            file: self.file.try_clone().map_err(self.io())?,
            path: self.path.clone(),
            head: self.head.clone(),
            record: Head {
                replica: self.next.replica.clone(),
                seq: last,
                hash: self.next.prev.to_string(),
            },
        }))
    }

    /// Notes that the events up to `seq` are on disk.
    pub fn synced(&mut self, seq: u64) {
        self.synced_seq = self.synced_seq.max(seq);
    }

    /// The chain's head: the last event's sequence number and hash.
    pub fn head(&self) -> (u64, pforte_audit::Hash) {
        (self.last_seq(), self.next.prev)
    }

    /// Whether events other than checkpoints were written after the last checkpoint's head.
    pub fn has_unchecked(&self) -> bool {
        self.last_event_seq > self.checkpointed_seq
    }

    /// Signs `covered` (a head whose events are on disk: a checkpoint never vouches for events a
    /// crash could still take away) with `key` and appends the checkpoint.
    pub fn checkpoint(
        &mut self,
        key: &SigningKey,
        time: String,
        covered: (u64, pforte_audit::Hash),
    ) -> Result<Sealed, WriteError> {
        let checkpoint = Checkpoint {
            replica: self.next.replica.clone(),
            seq: covered.0,
            head: covered.1.to_string(),
            time: time.clone(),
            key: key.kid().to_string(),
        };
        let mut fields = checkpoint.signed_fields(key)?;
        fields.insert("timestamp".into(), Value::String(time));
        fields.insert("level".into(), Value::String("INFO".into()));
        fields.insert(
            "target".into(),
            Value::String(crate::telemetry::audit::TARGET.into()),
        );
        fields.insert(
            "message".into(),
            Value::String("signed checkpoint of the chain's head".into()),
        );
        let sealed = seal(fields, &self.next)?;
        let sealed = self.put(sealed, false)?;
        self.checkpointed_seq = covered.0;
        Ok(sealed)
    }

    /// Opens the path again when the file there is not the one written to (rotated away or
    /// deleted): the chain goes on in the new file.
    pub fn follow_rotation(&mut self) -> Result<bool, WriteError> {
        let current = std::fs::metadata(&self.path).map(|m| (m.dev(), m.ino()));
        if current.as_ref().is_ok_and(|id| *id == self.identity) {
            return Ok(false);
        }
        self.file.sync_data().map_err(self.io())?;
        self.file = open_append(&self.path)?;
        self.identity = identity(&self.file, &self.path)?;
        Ok(true)
    }

    fn io(&self) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
        |source| WriteError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

/// Whether `path` can be opened for appending (made when missing), without writing to it.
pub fn check_writable(path: &Path) -> Result<(), WriteError> {
    open_append(path).map(drop)
}

fn open_append(path: &Path) -> Result<File, WriteError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .open(path)
        .map_err(|source| WriteError::Io {
            path: path.to_path_buf(),
            source,
        })
}

fn identity(file: &File, path: &Path) -> Result<(u64, u64), WriteError> {
    let meta = file.metadata().map_err(|source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((meta.dev(), meta.ino()))
}
