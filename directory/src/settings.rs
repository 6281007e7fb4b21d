//! What settings share: the secret newtype and the list of problems `validate()` returns.
//!
//! Settings here are plain, already-read Rust values; the gateway's config layer reads
//! `gateway.toml` and secret files, fills them, and calls `validate()` to report every problem
//! at once, each naming its field.

use std::fmt;

/// A password or other secret: its `Debug` prints `***`, so it never reaches a log by accident.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret read from a file or the environment.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that sends it to the server.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// One problem with a setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsProblem {
    /// The field, as the config file names it (`ldap.urls[1]`).
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for SettingsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem found in a settings struct; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.0))]
pub struct SettingsErrors(pub Vec<SettingsProblem>);

fn render(problems: &[SettingsProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Collects problems while settings are checked.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<SettingsProblem>);

impl Problems {
    /// Records a problem with `field`.
    pub(crate) fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(SettingsProblem {
            field: field.into(),
            message: message.into(),
        });
    }

    /// `Ok` when nothing was recorded.
    pub(crate) fn finish(self) -> Result<(), SettingsErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(SettingsErrors(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        let s = Secret::new("pfortepw");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(s.expose(), "pfortepw");
    }
}
