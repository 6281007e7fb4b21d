//! Secrets (tokens, passwords, keys) are referenced, never written inline: a file (mounted from a
//! secret store) or an environment variable. That keeps them out of Git and out of config dumps.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum SecretSource {
    /// A file whose whole content (without a trailing newline) is the secret.
    File(PathBuf),
    /// An environment variable of the gateway process.
    Env(String),
}

/// A partner provider's client secret (`idps.toml`) is read by the same rule as the gateway's
/// own secrets; its file is already resolved against the providers file's folder.
impl From<&pforte_federation::SecretRef> for SecretSource {
    fn from(secret: &pforte_federation::SecretRef) -> Self {
        match secret {
            pforte_federation::SecretRef::File(path) => Self::File(path.clone()),
            pforte_federation::SecretRef::Env(name) => Self::Env(name.clone()),
        }
    }
}

/// A secret value; its `Debug` never shows the value, so it cannot leak into a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value, for the one place that compares or uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Why a secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The file could not be read.
    #[error("cannot read secret file {path}: {source}")]
    File {
        /// The file named in the config.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file does not exist (yet: on a machine being set up, it may come later).
    #[error("secret file {0} not found")]
    Missing(PathBuf),
    /// The variable is not set (or not UTF-8).
    #[error("environment variable {0} is not set")]
    Env(String),
    /// The secret is empty, which is never what an operator meant.
    #[error("the secret from {0} is empty")]
    Empty(String),
}

impl SecretSource {
    /// Reads the secret; a relative file is taken relative to `base` (the config file's folder).
    pub fn read(&self, base: &Path) -> Result<Secret, SecretError> {
        let (value, origin) = match self {
            Self::File(path) => {
                let path = base.join(path);
                let text = std::fs::read_to_string(&path).map_err(|source| {
                    if source.kind() == std::io::ErrorKind::NotFound {
                        SecretError::Missing(path.clone())
                    } else {
                        SecretError::File {
                            path: path.clone(),
                            source,
                        }
                    }
                })?;
                (
                    text.trim_end_matches(['\r', '\n']).to_string(),
                    path.display().to_string(),
                )
            }
            Self::Env(name) => {
                let value = std::env::var(name).map_err(|_| SecretError::Env(name.clone()))?;
                (value, format!("${name}"))
            }
        };
        if value.is_empty() {
            return Err(SecretError::Empty(origin));
        }
        Ok(Secret(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_secret_drops_trailing_newline_and_hides_in_debug() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "s3cret\n").unwrap();
        let secret = SecretSource::File("token".into()).read(dir.path()).unwrap();
        assert_eq!(secret.expose(), "s3cret");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
    }

    #[test]
    fn missing_and_empty_secrets_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(SecretSource::File("nope".into()).read(dir.path()).is_err());
        std::fs::write(dir.path().join("empty"), "\n").unwrap();
        assert!(matches!(
            SecretSource::File("empty".into()).read(dir.path()),
            Err(SecretError::Empty(_))
        ));
        assert!(
            SecretSource::Env("PFORTE_SURELY_UNSET_VARIABLE".into())
                .read(dir.path())
                .is_err()
        );
    }
}
