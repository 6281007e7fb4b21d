//! Whom a reload affects: after a reload that changed the policy, the apps or the OpenID
//! Connect clients is in force, a background task reads the live directory (bounded in time),
//! asks [`policy::impact`](crate::policy::impact) who gains and who loses which app, and writes
//! one `policy_impact` audit event. The reload never waits for it: a slow or unreachable
//! directory delays only the event, which then says the directory could not be read.
//!
//! ```text
//! reload in force ─▶ changes(old, new) ─ none ─▶ nothing
//!                        └─ some ─▶ spawn: directory.users() (≤ read_timeout)
//!                                   ─▶ policy::impact::compute (blocking pool) ─▶ audit
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::policy::engine::UserGroups;
use crate::policy::impact::{self, Impact, Limits, Side};
use crate::state::{Shared, Snapshot};
use crate::telemetry::audit::{self, AuditContext, AuditEvent};

/// How long the directory may take to list its people, and how much of it is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImpactSettings {
    /// The bound on reading every person from the directory.
    pub read_timeout: Duration,
    /// The bounds on people checked and names listed.
    pub limits: Limits,
}

impl Default for ImpactSettings {
    /// Ten seconds: a healthy directory lists tens of thousands of people in well under that.
    fn default() -> Self {
        Self {
            read_timeout: Duration::from_secs(10),
            limits: Limits::default(),
        }
    }
}

/// What changed from `old` to `new` that decides who may use what: `apps` (the apps' names or
/// entry paths; the rules may have changed too), `policy` (the rules, wherever written; a
/// comment or a moved line is no change), `clients` (a client added, removed or given another
/// app). Empty when a reload changed nothing of that.
pub fn changes(old: &Snapshot, new: &Snapshot) -> Vec<&'static str> {
    let mut changed = Vec::new();
    let entries = |s: &Snapshot| -> Vec<(String, String)> {
        s.policy
            .apps()
            .iter()
            .map(|a| (a.name.clone(), a.entry_path().to_owned()))
            .collect()
    };
    let same_apps = entries(old) == entries(new);
    if !same_apps {
        changed.push("apps");
    } else if !new.policy.decides_like(&old.policy) {
        changed.push("policy");
    }
    if clients(old) != clients(new) {
        changed.push("clients");
    }
    changed
}

/// Each OpenID Connect client's app, by client id.
fn clients(snapshot: &Snapshot) -> BTreeMap<String, String> {
    snapshot
        .oidc
        .as_ref()
        .map(|provider| {
            provider
                .clients
                .iter()
                .map(|c| (c.id.clone(), c.app.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Starts the task that audits whom the change from `old` to `new` affects, when it changed
/// something that decides who may use what; `None` when it did not. The task ends on shutdown.
pub fn audit_in_background(
    shared: &Arc<Shared>,
    old: Arc<Snapshot>,
    new: Arc<Snapshot>,
    trigger: &str,
    settings: ImpactSettings,
) -> Option<tokio::task::JoinHandle<()>> {
    let changed = changes(&old, &new);
    if changed.is_empty() {
        return None;
    }
    let shared = shared.clone();
    let trigger = trigger.to_owned();
    let changed = changed.join(",");
    Some(tokio::spawn(async move {
        let shutdown = shared.shutdown.clone();
        tokio::select! {
            () = audit_impact(&shared, old, new, &changed, &trigger, settings) => {}
            () = shutdown.cancelled() => {}
        }
    }))
}

/// Reads the directory, computes and audits.
async fn audit_impact(
    shared: &Shared,
    old: Arc<Snapshot>,
    new: Arc<Snapshot>,
    changed: &str,
    trigger: &str,
    settings: ImpactSettings,
) {
    let started = shared.clock.instant();
    let (people, directory) = read_people(shared, settings.read_timeout).await;
    let limits = settings.limits;
    let computed = tokio::task::spawn_blocking(move || {
        let before = Side {
            clients: clients(&old),
            policy: &old.policy,
        };
        let after = Side {
            clients: clients(&new),
            policy: &new.policy,
        };
        impact::compute(&before, &after, &people, &limits)
    })
    .await;
    let found = match computed {
        Ok(found) => found,
        Err(join) => {
            tracing::error!(error = %join, "the reload's impact could not be computed");
            return;
        }
    };
    let (gains, losses) = totals(&found);
    let apps = as_json(&found.apps);
    let clients = as_json(&found.clients);
    audit::record(
        AuditContext {
            request_id: "",
            source: None,
        },
        AuditEvent::PolicyImpact {
            changed,
            trigger,
            directory: &directory,
            people_checked: found.people_checked,
            people_not_checked: found.people_not_checked,
            gains,
            losses,
            apps: &apps,
            clients: &clients,
        },
    );
    let elapsed = shared.clock.instant().saturating_duration_since(started);
    let elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    tracing::info!(
        changed,
        directory,
        people_checked = found.people_checked,
        people_not_checked = found.people_not_checked,
        gains,
        losses,
        elapsed_ms,
        "reload impact audited"
    );
}

/// Every enabled person with their groups, and what to say about the read: `read`, `not
/// configured`, or why it failed. A failed read gives nobody, so only someone not logged in
/// is checked.
async fn read_people(shared: &Shared, bound: Duration) -> (Vec<UserGroups>, String) {
    let Some(directory) = &shared.directory else {
        return (Vec::new(), "not configured".to_owned());
    };
    match tokio::time::timeout(bound, directory.users()).await {
        Ok(Ok(users)) => (
            users
                .into_iter()
                .map(|user| UserGroups {
                    name: user.username,
                    groups: user.groups,
                })
                .collect(),
            "read".to_owned(),
        ),
        Ok(Err(e)) => (Vec::new(), format!("unavailable: {e}")),
        Err(_) => (
            Vec::new(),
            format!("unavailable: no answer within {}s", bound.as_secs()),
        ),
    }
}

/// Gains and losses over every app and client line.
fn totals(found: &Impact) -> (usize, usize) {
    found
        .apps
        .iter()
        .chain(&found.clients)
        .fold((0, 0), |(g, l), c| (g + c.gained.count, l + c.lost.count))
}

/// The changes as a JSON array for the audit line (`[]` if it cannot be written, which the
/// plain data here never causes).
fn as_json(changes: &[impact::Change]) -> String {
    serde_json::to_string(changes).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot write the reload's impact as JSON");
        "[]".to_owned()
    })
}
