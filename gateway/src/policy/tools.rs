//! The policy tools behind `pforte-admin policy check|explain|diff|who-can`: each finds a policy
//! and its apps file on disk and asks the engine, so the answers are the very decisions the
//! gateway makes.
//!
//! A policy is named by its folder (`DIR/policy.toml` compiled against `DIR/apps.toml`, the
//! layout of `policies/`) or by its entry file (with `apps.toml` beside it); `--apps` names
//! another apps file.

use std::path::{Path, PathBuf};

use pforte_policy::{
    AppSummary, CheckReport, DiffOptions, DiffReport, ExplainError, ExplainQuery, Explanation,
    LoadErrors, Policy, UserGroups,
};

use super::{engine, summaries};
use crate::config::{ConfigErrors, apps};

/// The entry file the tools look for in a policy folder.
pub const ENTRY_FILE: &str = "policy.toml";
/// The apps file the tools look for beside the entry file.
pub const APPS_FILE: &str = "apps.toml";

/// Why a tool could not answer.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The apps file is missing or invalid.
    #[error(transparent)]
    Apps(#[from] ConfigErrors),
    /// The policy does not load.
    #[error(transparent)]
    Policy(LoadErrors),
    /// The users file for `diff` does not load.
    #[error(transparent)]
    Users(LoadErrors),
    /// The question for `explain` cannot be answered (no app at the URL, bad path).
    #[error(transparent)]
    Explain(#[from] ExplainError),
}

/// A policy on disk: its entry file and the apps file it is compiled against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySource {
    /// The entry file.
    pub entry: PathBuf,
    /// The apps file.
    pub apps_file: PathBuf,
}

impl PolicySource {
    /// Finds the policy at `path` (a folder or an entry file); `apps_file` overrides the apps
    /// file beside the entry.
    pub fn locate(path: &Path, apps_file: Option<&Path>) -> Self {
        let entry = if path.is_dir() {
            path.join(ENTRY_FILE)
        } else {
            path.to_path_buf()
        };
        let apps_file = apps_file.map_or_else(
            || entry.parent().unwrap_or(Path::new(".")).join(APPS_FILE),
            Path::to_path_buf,
        );
        Self { entry, apps_file }
    }

    /// The apps, as the policy sees them.
    pub fn apps(&self) -> Result<Vec<AppSummary>, ConfigErrors> {
        Ok(summaries(&apps::load(&self.apps_file)?))
    }

    /// The compiled policy (its warnings are for `check`; the other tools leave them out).
    pub fn load(&self) -> Result<Policy, ToolError> {
        let apps = self.apps()?;
        engine::load(&self.entry, &apps)
            .map(|loaded| loaded.policy)
            .map_err(ToolError::Policy)
    }
}

/// `check`: every error and warning of the policy.
pub fn check(source: &PolicySource) -> Result<CheckReport, ConfigErrors> {
    Ok(engine::check(&source.entry, &source.apps()?))
}

/// `explain`: the decision for one request and the rule (file:line) that made it.
pub fn explain(source: &PolicySource, query: &ExplainQuery) -> Result<Explanation, ToolError> {
    Ok(engine::explain(&source.load()?, query)?)
}

/// `diff`: which of the users in `users_file` gain or lose which app from `old` to `new`.
pub fn diff(
    old: &PolicySource,
    new: &PolicySource,
    users_file: &Path,
    options: &DiffOptions,
) -> Result<DiffReport, ToolError> {
    let users = engine::load_users_file(users_file).map_err(ToolError::Users)?;
    diff_users(old, new, &users, options)
}

/// `diff` for users from anywhere (the admin CLI reads them from the live directory).
pub fn diff_users(
    old: &PolicySource,
    new: &PolicySource,
    users: &[UserGroups],
    options: &DiffOptions,
) -> Result<DiffReport, ToolError> {
    Ok(engine::diff(&old.load()?, &new.load()?, users, options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn demo() -> PolicySource {
        PolicySource::locate(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies"),
            None,
        )
    }

    #[test]
    fn a_folder_names_its_entry_and_apps_file() {
        let source = demo();
        assert!(source.entry.ends_with("policies/policy.toml"));
        assert!(source.apps_file.ends_with("policies/apps.toml"));
        let other = PolicySource::locate(&source.entry, Some(Path::new("/x/apps.toml")));
        assert_eq!(other.apps_file, Path::new("/x/apps.toml"));
    }

    #[test]
    fn explain_names_the_deciding_rule_file_and_line() {
        let query = ExplainQuery {
            user: Some("bob".into()),
            groups: vec!["partners".into()],
            login: engine::LoginStrength::Password,
            source: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            url: "https://video.localhost/room/1".into(),
            method: "GET".into(),
        };
        let explanation = explain(&demo(), &query).unwrap();
        assert!(matches!(
            explanation.decision,
            engine::Decision::Allow { .. }
        ));
        let origin = explanation.decided_by.unwrap();
        assert!(origin.file.ends_with("partners.toml"), "{origin}");
    }

    #[test]
    fn a_missing_apps_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(ENTRY_FILE), "").unwrap();
        let err = check(&PolicySource::locate(dir.path(), None)).unwrap_err();
        assert!(err.to_string().contains("apps.toml"), "{err}");
    }
}
