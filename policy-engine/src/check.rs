//! `pforte-admin policy check`: load a policy and report, without keeping it.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::apps::AppSummary;
use crate::error::Diagnostic;
use crate::policy::load;

/// The result of checking a policy: every error and warning, and its size when it loaded.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The entry file checked.
    pub entry: PathBuf,
    /// Errors: the policy would not load.
    pub errors: Vec<Diagnostic>,
    /// Warnings: it would load, but maybe not mean what was meant.
    pub warnings: Vec<Diagnostic>,
    /// Number of rules (0 when it did not load).
    pub rules: usize,
    /// Number of files read (0 when it did not load).
    pub files: usize,
}

/// Checks the policy starting at `entry` against `apps`.
pub fn check(entry: &Path, apps: &[AppSummary]) -> CheckReport {
    let (errors, warnings, rules, files) = match load(entry, apps) {
        Ok(loaded) => (
            Vec::new(),
            loaded.warnings,
            loaded.policy.rule_count(),
            loaded.policy.file_count(),
        ),
        Err(e) => (e.errors, e.warnings, 0, 0),
    };
    CheckReport {
        entry: entry.to_path_buf(),
        errors,
        warnings,
        rules,
        files,
    }
}

impl CheckReport {
    /// The process exit code: 0 good, 1 errors, 2 warnings only and `strict` (CI's mode).
    pub fn exit_code(&self, strict: bool) -> u8 {
        if !self.errors.is_empty() {
            1
        } else if strict && !self.warnings.is_empty() {
            2
        } else {
            0
        }
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.errors.iter().chain(&self.warnings) {
            writeln!(f, "{d}")?;
        }
        let counts = format!(
            "{} error{}, {} warning{}",
            self.errors.len(),
            plural(self.errors.len()),
            self.warnings.len(),
            plural(self.warnings.len())
        );
        if self.errors.is_empty() {
            write!(
                f,
                "{}: ok, {} rule{} in {} file{}; {counts}",
                self.entry.display(),
                self.rules,
                plural(self.rules),
                self.files,
                plural(self.files)
            )
        } else {
            write!(f, "{}: not loadable; {counts}", self.entry.display())
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
