//! The clients file on disk: read it whole, and replace it atomically. The new text goes to a
//! temporary file in the same folder with the old file's mode and owner, is synced, and is
//! renamed over the old one (then the folder is synced), so a gateway reloading at any moment
//! reads the old file or the new one, and a crash leaves one of them. A symlink (a Kubernetes
//! ConfigMap, a file kept elsewhere) is followed: its target is replaced, the link stays.

use std::fs::{self, File};
use std::io::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use super::ClientsCmdError;

/// The clients file as read before an edit.
pub struct ClientsText {
    /// The path the config names.
    pub path: PathBuf,
    /// Its content.
    pub text: String,
}

/// Reads the clients file.
pub fn read(path: &Path) -> Result<ClientsText, ClientsCmdError> {
    let text = fs::read_to_string(path).map_err(|source| ClientsCmdError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(ClientsText {
        path: path.to_path_buf(),
        text,
    })
}

/// Replaces the file read as `before` with `text`; refused when the file no longer holds what
/// was read (another admin's change would otherwise be lost).
pub fn replace(before: &ClientsText, text: &str) -> Result<(), ClientsCmdError> {
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ClientsCmdError::Write { path, source }
    };
    let target = fs::canonicalize(&before.path).map_err(write_err(&before.path))?;
    let now = fs::read_to_string(&target).map_err(write_err(&target))?;
    if now != before.text {
        return Err(ClientsCmdError::Changed(before.path.clone()));
    }
    let dir = target.parent().unwrap_or(Path::new("/"));
    let meta = fs::metadata(&target).map_err(write_err(&target))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".pforte-clients-")
        .tempfile_in(dir)
        .map_err(write_err(dir))?;
    tmp.write_all(text.as_bytes())
        .map_err(write_err(tmp.path()))?;
    keep_owner(tmp.as_file(), &meta).map_err(write_err(&target))?;
    fs::set_permissions(tmp.path(), meta.permissions()).map_err(write_err(tmp.path()))?;
    tmp.as_file().sync_all().map_err(write_err(tmp.path()))?;
    tmp.persist(&target)
        .map_err(|e| write_err(&target)(e.error))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(write_err(dir))
}

/// Gives the new file the old one's owner and group, so a gateway running as another user still
/// reads it. Skipped when they already match (no privilege needed then).
fn keep_owner(file: &File, old: &fs::Metadata) -> std::io::Result<()> {
    let new = file.metadata()?;
    if new.uid() == old.uid() && new.gid() == old.gid() {
        return Ok(());
    }
    std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn the_file_is_replaced_with_its_mode_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clients.toml");
        fs::write(&path, "# old\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let before = read(&path).unwrap();
        replace(&before, "# new\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "# new\n");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn a_symlink_is_followed_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.toml");
        let link = dir.path().join("clients.toml");
        fs::write(&real, "# old\n").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        replace(&read(&link).unwrap(), "# new\n").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "# new\n");
    }

    #[test]
    fn a_change_by_someone_else_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clients.toml");
        fs::write(&path, "# old\n").unwrap();
        let before = read(&path).unwrap();
        fs::write(&path, "# theirs\n").unwrap();
        assert!(matches!(
            replace(&before, "# mine\n"),
            Err(ClientsCmdError::Changed(_))
        ));
        assert_eq!(fs::read_to_string(&path).unwrap(), "# theirs\n");
    }
}
