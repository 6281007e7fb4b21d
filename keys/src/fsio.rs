//! File-system primitives of the key directory: atomic writes, the directory
//! lock and kid names.
//!
//! Every file is written to a temporary file in the same directory, synced,
//! renamed over its final name and the directory synced, so a reader sees the
//! old or the new file, never half of one, even after a crash. A rotation
//! changes several files, so writers hold an exclusive lock on `.lock` for the
//! whole change and readers a shared one: a reader sees the directory before
//! or after a rotation, never between. A read-only mount without `.lock` (a
//! Kubernetes Secret, which the kubelet swaps atomically) is read unlocked.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::KeyError;

const LOCK_FILE: &str = ".lock";
const TEMP_PREFIX: &str = ".tmp-";
const KID_BYTES: usize = 16;
const KID_MAX_LEN: usize = 64;

/// Wraps an `io::Error` with the path it concerns.
pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A held lock on the key directory, released on drop.
pub(crate) struct DirLock {
    _file: Option<File>,
}

impl DirLock {
    /// Takes the writers' lock, creating the lock file if needed.
    pub fn exclusive(dir: &Path) -> Result<DirLock, KeyError> {
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        file.lock().map_err(io_err(&path))?;
        Ok(DirLock { _file: Some(file) })
    }

    /// Takes the readers' lock, or none when no writer ever made a lock file.
    pub fn shared(dir: &Path) -> Result<DirLock, KeyError> {
        let path = dir.join(LOCK_FILE);
        match File::open(&path) {
            Ok(file) => {
                file.lock_shared().map_err(io_err(&path))?;
                Ok(DirLock { _file: Some(file) })
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(DirLock { _file: None }),
            Err(e) => Err(io_err(&path)(e)),
        }
    }
}

/// Replaces `dir/name` with `bytes` atomically and durably; new files are private (0600).
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), KeyError> {
    let path = dir.join(name);
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .map_err(io_err(dir))?;
    tmp.write_all(bytes).map_err(io_err(tmp.path()))?;
    tmp.as_file().sync_all().map_err(io_err(tmp.path()))?;
    tmp.persist(&path).map_err(|e| io_err(&path)(e.error))?;
    sync_dir(dir)
}

/// Removes `dir/name` durably; a file already gone is not an error.
pub(crate) fn remove(dir: &Path, name: &str) -> Result<(), KeyError> {
    let path = dir.join(name);
    match std::fs::remove_file(&path) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(&path)(e)),
    }
}

fn sync_dir(dir: &Path) -> Result<(), KeyError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// A fresh random kid: 128 bits, URL-safe base64, so kids never collide or need escaping.
pub(crate) fn new_kid() -> Result<String, KeyError> {
    let mut bytes = [0u8; KID_BYTES];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| KeyError::Generate("no randomness for the kid".to_owned()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether `kid` is safe as a file name stem and a JWKS kid (URL-safe base64 alphabet).
pub(crate) fn is_valid_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= KID_MAX_LEN
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn kids_are_random_and_url_safe() {
        let a = new_kid().unwrap();
        let b = new_kid().unwrap();
        assert_ne!(a, b);
        assert!(is_valid_kid(&a), "{a}");
    }

    #[test]
    fn path_like_kids_are_refused() {
        for kid in ["", "../etc/passwd", "a/b", ".lock", "a.b", &"x".repeat(65)] {
            assert!(!is_valid_kid(kid), "{kid}");
        }
    }
}
