//! The loaded policy: [`load`] runs the whole pipeline, and [`Policy`] is its immutable result.
//!
//! ```text
//! entry file ─read_all─▶ parsed files ─resolve─▶ rules ─lint─▶ warnings
//!                                                   └─compile─▶ per-app tables ─▶ Policy
//! ```
//!
//! Nothing that failed validation is ever returned: any error makes `load` return
//! [`LoadErrors`] with every error and warning found.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::apps::AppSummary;
use crate::compile::{Tables, compile};
use crate::decide::RuleId;
use crate::error::{Diagnostic, Diagnostics, LoadErrors};
use crate::lint::lint;
use crate::load::read_all;
use crate::model::{Rule, RuleOrigin};
use crate::resolve::resolve;

/// A compiled, validated policy: immutable, cheap to share behind an `Arc`, and swapped
/// whole on reload.
#[derive(Debug)]
pub struct Policy {
    /// Tells subjects interned for this policy from those interned for another.
    pub(crate) stamp: u64,
    pub(crate) apps: Vec<AppSummary>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) tables: Tables,
    pub(crate) files: usize,
}

/// A policy that loaded, with the warnings to show its author.
#[derive(Debug)]
pub struct Loaded {
    /// The policy, ready for decisions.
    pub policy: Policy,
    /// Problems that do not stop it loading (shadowed rules, unknown apps, ...).
    pub warnings: Vec<Diagnostic>,
}

/// Reads, validates and compiles the policy starting at `entry`, for `apps` (whose
/// positions become the app indexes of [`AccessRequest`](crate::AccessRequest)).
///
/// Reads only the policy files; everything else is pure, so it can run off the request
/// path and its result be swapped in atomically.
pub fn load(entry: &Path, apps: &[AppSummary]) -> Result<Loaded, LoadErrors> {
    let mut diags = Diagnostics::default();
    let files = read_all(entry, &mut diags);
    let rules = resolve(&files, apps, &mut diags);
    if diags.errors.is_empty() {
        lint(entry, &rules, apps.len(), &mut diags);
    }
    let warnings = diags.finish()?;
    let tables = compile(&rules, apps.len());
    static NEXT_STAMP: AtomicU64 = AtomicU64::new(1);
    let policy = Policy {
        stamp: NEXT_STAMP.fetch_add(1, Ordering::Relaxed),
        apps: apps.to_vec(),
        rules,
        tables,
        files: files.len(),
    };
    Ok(Loaded { policy, warnings })
}

impl Policy {
    /// Where a rule was written, for logs (`None` for a rule id of another policy).
    pub fn rule_origin(&self, rule: RuleId) -> Option<&RuleOrigin> {
        self.rules.get(rule.index()).map(|r| &r.origin)
    }

    /// The apps this policy was compiled for, in app-index order.
    pub fn apps(&self) -> &[AppSummary] {
        &self.apps
    }

    /// Whether `other` makes every decision this policy makes: the same apps (names and entry
    /// paths, in order) and the same rules in the same order, wherever they are written. A
    /// reload compares with it, so a comment or a moved line is no change to audit.
    pub fn decides_like(&self, other: &Policy) -> bool {
        let same_apps = self.apps.len() == other.apps.len()
            && self
                .apps
                .iter()
                .zip(&other.apps)
                .all(|(a, b)| a.name == b.name && a.entry_path() == b.entry_path());
        same_apps
            && self.rules.len() == other.rules.len()
            && self
                .rules
                .iter()
                .zip(&other.rules)
                .all(|(a, b)| a.same_conditions(b))
    }

    /// How many rules the policy has.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// How many files it was read from.
    pub fn file_count(&self) -> usize {
        self.files
    }
}
