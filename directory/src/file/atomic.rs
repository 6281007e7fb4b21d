//! Replacing the people file so that the gateway, which re-reads it whenever it changes, only
//! ever sees the old file or the whole new one:
//!
//! ```text
//! lock the folder ─▶ read ─▶ (edit, check) ─▶ still the text we read? ─▶ temp file in the same
//! folder, same mode and owner ─▶ write + fsync ─▶ rename over the file ─▶ fsync the folder
//! ```
//!
//! The lock (flock on the folder, so it survives the rename) keeps two `pforte-admin` runs from
//! losing each other's change; the comparison before the rename catches an editor that saved in
//! between. A symlinked file is replaced at its target, so the link stays.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use crate::admin::AdminError;

/// The people file, locked against other `pforte-admin` runs until dropped.
#[derive(Debug)]
pub(crate) struct Locked {
    /// The file's real path (symlinks resolved).
    pub(crate) path: PathBuf,
    /// The text as read under the lock.
    pub(crate) text: String,
    _folder: File,
}

fn failed(path: &Path, what: &str, error: impl std::fmt::Display) -> AdminError {
    AdminError::PeopleFile {
        path: path.to_owned(),
        message: format!("{what}: {error}"),
    }
}

/// Locks the folder of `path` (waiting for another run to finish) and reads the file.
pub(crate) fn lock(path: &Path) -> Result<Locked, AdminError> {
    let real = fs::canonicalize(path).map_err(|e| failed(path, "cannot find it", e))?;
    let folder_path = real.parent().unwrap_or(Path::new("/"));
    let folder = File::open(folder_path).map_err(|e| failed(path, "cannot open its folder", e))?;
    folder
        .lock()
        .map_err(|e| failed(path, "cannot lock its folder", e))?;
    let text = fs::read_to_string(&real).map_err(|e| failed(path, "cannot read it", e))?;
    Ok(Locked {
        path: real,
        text,
        _folder: folder,
    })
}

/// Removes the temporary file unless it was renamed into place.
struct Temp<'a>(Option<&'a Path>);

impl Drop for Temp<'_> {
    fn drop(&mut self) {
        if let Some(path) = self.0 {
            let _ = fs::remove_file(path);
        }
    }
}

impl Locked {
    /// Replaces the file with `new`, keeping its mode, owner and group; refuses when the file no
    /// longer holds the text read under the lock.
    pub(crate) fn replace(&self, new: &str) -> Result<(), AdminError> {
        let path = &self.path;
        let now = fs::read_to_string(path).map_err(|e| failed(path, "cannot read it", e))?;
        if now != self.text {
            return Err(failed(
                path,
                "changed by someone else meanwhile",
                "nothing written; run the command again",
            ));
        }
        let meta = fs::metadata(path).map_err(|e| failed(path, "cannot read its mode", e))?;
        let folder = path.parent().unwrap_or(Path::new("/"));
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("people");
        let tmp = folder.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let mode = meta.permissions().mode() & 0o7777;
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
            .map_err(|e| failed(path, "cannot create a file beside it", e))?;
        let mut guard = Temp(Some(&tmp));
        file.write_all(new.as_bytes())
            .map_err(|e| failed(path, "cannot write the new file", e))?;
        let written = file
            .metadata()
            .map_err(|e| failed(path, "cannot read the new file", e))?;
        if written.uid() != meta.uid() || written.gid() != meta.gid() {
            std::os::unix::fs::fchown(&file, Some(meta.uid()), Some(meta.gid()))
                .map_err(|e| failed(path, "cannot give the new file the owner of the old", e))?;
        }
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| failed(path, "cannot set the new file's mode", e))?;
        file.sync_all()
            .map_err(|e| failed(path, "cannot flush the new file", e))?;
        fs::rename(&tmp, path).map_err(|e| failed(path, "cannot replace it", e))?;
        guard.0 = None;
        File::open(folder)
            .and_then(|f| f.sync_all())
            .map_err(|e| failed(path, "replaced, but cannot flush its folder", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_replaced_with_its_mode_through_its_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("people.toml");
        fs::write(&real, "old\n").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let locked = lock(&link).unwrap();
        assert_eq!(locked.text, "old\n");
        locked.replace("new\n").unwrap();
        assert_eq!(fs::read_to_string(&link).unwrap(), "new\n");
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 2, "no temporary file left");
    }

    #[test]
    fn a_file_changed_meanwhile_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("people.toml");
        fs::write(&path, "old\n").unwrap();
        let locked = lock(&path).unwrap();
        fs::write(&path, "edited by hand\n").unwrap();
        let err = locked.replace("new\n").unwrap_err();
        assert!(err.to_string().contains("changed by someone else"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "edited by hand\n");
    }
}
