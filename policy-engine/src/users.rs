//! The users file for `pforte-admin policy diff --users`: people and their groups, as the
//! directory would say, so a policy change can be tried on them before it is loaded.
//!
//! ```toml
//! [[user]]
//! name = "alice"
//! groups = ["staff", "admins"]
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{Diagnostics, LoadErrors, Source};

/// One person and their directory groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserGroups {
    /// The user name.
    pub name: String,
    /// The group names, as the directory returns them.
    pub groups: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    #[serde(default)]
    user: Vec<UserEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    name: Spanned<String>,
    #[serde(default)]
    groups: Vec<String>,
}

/// Reads a users file; every problem is reported with file, line and column.
pub fn load_users_file(path: &Path) -> Result<Vec<UserGroups>, LoadErrors> {
    let mut diags = Diagnostics::default();
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            diags.file_error(path, format!("cannot read the users file: {e}"));
            return Err(LoadErrors {
                errors: diags.errors,
                warnings: diags.warnings,
            });
        }
    };
    let source = Source {
        path: path.to_path_buf(),
        text,
    };
    let mut users = Vec::new();
    match toml::from_str::<UsersFile>(&source.text) {
        Err(e) => {
            let message = format!(
                r#"{}; a users file holds [[user]] tables with name = "..." and groups = [...]"#,
                e.message().trim_end()
            );
            diags.error(&source, e.span().map(|s| s.start), message);
        }
        Ok(file) => {
            let mut seen: BTreeMap<String, usize> = BTreeMap::new();
            for entry in file.user {
                let offset = entry.name.span().start;
                let name = entry.name.into_inner();
                if name.trim().is_empty() {
                    diags.error(
                        &source,
                        Some(offset),
                        "the user name is empty; write name = \"alice\"",
                    );
                } else if let Some(first) = seen.get(&name) {
                    let line = source.position(*first).line;
                    let message = format!(
                        r#"user "{name}" is already listed at line {line}; list each user once"#
                    );
                    diags.error(&source, Some(offset), message);
                } else {
                    seen.insert(name.clone(), offset);
                    users.push(UserGroups {
                        name,
                        groups: entry.groups,
                    });
                }
            }
        }
    }
    diags.finish()?;
    Ok(users)
}
