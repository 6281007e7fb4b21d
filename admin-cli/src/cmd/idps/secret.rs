//! Where a provider's client secret comes from and whether it can be read, by the gateway's own
//! secret rule ([`SecretSource::read`]); the value itself is dropped at once and never shown.
//!
//! The check runs as the admin, in the admin's environment: a file the gateway's user cannot
//! read may read here, and a variable set only in the gateway's service is unset here, which
//! is why an unset variable is told apart ([`SecretInfo::unset_here`]).

use std::path::Path;

use pforte::config::secret::{SecretError, SecretSource};
use pforte_federation::SecretRef;
use serde::Serialize;

/// Where a secret comes from and whether it could be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretInfo {
    /// `file` or `env`.
    pub source: &'static str,
    /// The file's path or the variable's name.
    pub name: String,
    /// Whether it was read (and is not empty).
    pub readable: bool,
    /// Why not.
    pub problem: Option<String>,
    /// An environment variable not set for this command: the gateway's own environment may
    /// still hold it.
    #[serde(skip)]
    pub unset_here: bool,
}

/// Reads the secret `secret` names, keeping only whether that worked.
pub fn inspect(secret: &SecretRef) -> SecretInfo {
    let (source, name) = match secret {
        SecretRef::File(path) => ("file", path.display().to_string()),
        SecretRef::Env(var) => ("env", var.clone()),
    };
    // The file path is already resolved against the providers file's folder.
    let outcome = SecretSource::from(secret).read(Path::new("")).map(drop);
    SecretInfo {
        source,
        name,
        readable: outcome.is_ok(),
        unset_here: matches!(outcome, Err(SecretError::Env(_))),
        problem: outcome.err().map(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_told_readable_or_why_not_without_its_value() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("partner");
        std::fs::write(&file, "s3cret\n").unwrap();
        let ok = inspect(&SecretRef::File(file.clone()));
        assert!(ok.readable && ok.problem.is_none(), "{ok:?}");
        assert_eq!(ok.source, "file");
        assert!(!serde_json::to_string(&ok).unwrap().contains("s3cret"));
        let missing = inspect(&SecretRef::File(dir.path().join("absent")));
        assert!(!missing.readable && !missing.unset_here);
        assert!(
            missing.problem.as_deref().unwrap().contains("not found"),
            "{missing:?}"
        );
        std::fs::write(&file, "").unwrap();
        assert!(!inspect(&SecretRef::File(file)).readable, "an empty secret");
        let unset = inspect(&SecretRef::Env("PFORTE_TEST_SURELY_UNSET_SECRET".into()));
        assert!(!unset.readable && unset.unset_here, "{unset:?}");
        assert_eq!(unset.source, "env");
    }
}
