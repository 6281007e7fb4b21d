//! Warnings about rules that load but cannot mean what their author meant: rules that never
//! take effect because a deny covers them, and a policy with no rules at all.
//!
//! "Covers" is checked conservatively (see `PathPattern::covers`): a warning is only given
//! when it is certain, never a false alarm.

use std::path::Path;

use crate::error::{Diagnostic, Diagnostics, Position, Severity};
use crate::model::{AppSet, Effect, Rule};

/// Adds the warnings for `rules` (already resolved without error) to `diags`.
pub(crate) fn lint(entry: &Path, rules: &[Rule], app_count: usize, diags: &mut Diagnostics) {
    if rules.is_empty() {
        diags.warnings.push(Diagnostic {
            severity: Severity::Warning,
            file: entry.to_path_buf(),
            position: None,
            message: "the policy has no rules, so every request is denied".into(),
        });
        return;
    }
    // Deny rules by app, so each rule is compared only with denies that could cover it.
    let mut denies_all: Vec<usize> = Vec::new();
    let mut denies_by_app: Vec<Vec<usize>> = vec![Vec::new(); app_count];
    for (i, rule) in rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.effect == Effect::Deny)
    {
        match &rule.apps {
            AppSet::All => denies_all.push(i),
            AppSet::Some(apps) => {
                for &app in apps {
                    if let Some(list) = denies_by_app.get_mut(app) {
                        list.push(i);
                    }
                }
            }
        }
    }
    for (i, rule) in rules.iter().enumerate() {
        // A covering deny names all of this rule's apps, so it is in the first app's list.
        let by_app: &[usize] = match &rule.apps {
            AppSet::All => &[],
            AppSet::Some(apps) => match apps.first() {
                Some(&first) => denies_by_app.get(first).map_or(&[], Vec::as_slice),
                None => continue,
            },
        };
        let coverer = denies_all
            .iter()
            .chain(by_app)
            .copied()
            .filter(|&d| d != i && (rule.effect == Effect::Allow || d < i))
            .filter(|&d| covers(&rules[d], rule))
            .min();
        if let Some(d) = coverer {
            warn_covered(rule, &rules[d], diags);
        }
    }
}

/// Whether deny rule `deny` applies to every request and subject that `rule` applies to.
fn covers(deny: &Rule, rule: &Rule) -> bool {
    if rule.subjects.is_empty() || !deny.except.is_empty() {
        return false;
    }
    deny.apps.covers(&rule.apps)
        && deny.subjects.covers(&rule.subjects)
        && match (&deny.paths, &rule.paths) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(d), Some(r)) => r.iter().all(|p| d.iter().any(|q| q.covers(p))),
        }
        && match (&deny.methods, &rule.methods) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(d), Some(r)) => r.iter().all(|m| d.contains(m)),
        }
        && match (&deny.from, &rule.from) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(d), Some(r)) => r.nets.iter().all(|n| d.nets.iter().any(|m| m.contains(n))),
        }
}

fn warn_covered(rule: &Rule, deny: &Rule, diags: &mut Diagnostics) {
    let message = match rule.effect {
        Effect::Allow => format!(
            "this allow rule never takes effect: the deny rule at {} refuses everything it allows; narrow that deny or remove this rule",
            deny.origin
        ),
        Effect::Deny => format!(
            "this deny rule is redundant: the deny rule at {} already refuses everything it does; remove one of them",
            deny.origin
        ),
    };
    // Rules carry their line, not their offset: point at the line's first column.
    diags.warnings.push(Diagnostic {
        severity: Severity::Warning,
        file: rule.origin.file.clone(),
        position: Some(Position {
            line: rule.origin.line,
            column: 1,
        }),
        message,
    });
}
