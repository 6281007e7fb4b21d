//! Who gains and who loses which app when a reload replaces the policy, the apps or the OpenID
//! Connect clients: the reload's impact, computed from the people the directory has. Pure: the
//! caller reads the directory (bounded in time) and writes the audit event.
//!
//! "May use an app" is the diff's definition (`pforte-admin policy diff`,
//! [`engine::openable`]): a `GET` of the app's entry path is allowed, with the strongest login
//! (`mfa`, so a rule that only asks for a second factor is no loss), from an address. Rules can
//! depend on where people come from, so each person is asked twice: from [`INSIDE`] (the diff's
//! default, an internal address) and from [`OUTSIDE`] (in no private range); the outside
//! answer is reported only for an app where it differs from the inside one, so a rule that
//! newly keeps an app to the office network shows as a loss from outside.
//!
//! A client's tokens follow its app's rules, so a client that kept its app is covered by the
//! app's line; a client that was added, removed or moved to another app gets a line of its own.
//!
//! ```text
//! people ──for each, before and after, inside and outside──▶ engine::openable ──▶ gains, losses
//!   (at most Limits::people)                                    per app and per moved client,
//!                                                               at most Limits::listed names each
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;

use super::engine::{
    self, ANONYMOUS, Decision, DiffOptions, LoginStrength, Policy, Subject, UserGroups,
};

/// The address people are assumed to come from first: the diff's default (`10.0.0.1`).
pub const INSIDE: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
/// The address people are assumed to come from second: `192.0.2.1` (TEST-NET-1, RFC 5737),
/// outside every private range, as someone at home or travelling.
pub const OUTSIDE: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

/// The login people are assumed to have: the strongest, as the diff assumes.
const LOGIN: LoginStrength = LoginStrength::Mfa;

/// How much of a large directory is looked at and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// At most this many people (in the directory's order) are checked; the rest are counted.
    pub people: usize,
    /// At most this many names are listed per app and direction; all are counted.
    pub listed: usize,
    /// At most this many rules are named per app and direction.
    pub rules: usize,
}

impl Default for Limits {
    /// 100,000 people take about a second on one core; 50 names keep an audit line readable.
    fn default() -> Self {
        Self {
            people: 100_000,
            listed: 50,
            rules: 10,
        }
    }
}

/// One load's side of the comparison.
pub struct Side<'a> {
    /// The policy, compiled for the load's apps.
    pub policy: &'a Policy,
    /// Each OpenID Connect client's app, by client id (empty without `[oidc]`).
    pub clients: BTreeMap<String, String>,
}

/// People who gained or lost one app (or one client's tokens) in one direction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct People {
    /// How many.
    pub count: usize,
    /// The first [`Limits::listed`] of them, in the directory's order ([`ANONYMOUS`] first).
    pub listed: Vec<String>,
    /// The rules that made the difference (`file:line`), at most [`Limits::rules`]: for a
    /// gain the allow rule now in force; for a loss the deny rule now in force, or the allow
    /// rule that no longer lets them in.
    pub rules: Vec<String>,
}

impl People {
    fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn add(&mut self, name: &str, rule: Option<String>, limits: &Limits) {
        self.count += 1;
        if self.listed.len() < limits.listed {
            self.listed.push(name.to_owned());
        }
        if let Some(rule) = rule
            && self.rules.len() < limits.rules
            && !self.rules.contains(&rule)
        {
            self.rules.push(rule);
        }
    }
}

/// What changed for one app, or one client, from one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The app's name, or the client's id.
    pub name: String,
    /// For a client: its app before (`None`: it was added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_before: Option<String>,
    /// For a client: its app after (`None`: it was removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_after: Option<String>,
    /// The address the people were assumed to come from ([`INSIDE`] or [`OUTSIDE`]).
    pub from: IpAddr,
    /// Who may use it now and could not before.
    pub gained: People,
    /// Who could use it before and may not now.
    pub lost: People,
}

/// A reload's effect on the people of the directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Impact {
    /// How many people of the directory were checked (someone not logged in is checked too
    /// and not counted here).
    pub people_checked: usize,
    /// How many were not, because the directory has more than [`Limits::people`]: non-zero
    /// means the lists are cut short.
    pub people_not_checked: usize,
    /// Apps someone gained or lost, in the new apps' order (apps removed last).
    pub apps: Vec<Change>,
    /// Clients added, removed or moved to another app that someone gained or lost.
    pub clients: Vec<Change>,
}

impl Impact {
    /// Whether nobody gains or loses anything.
    pub fn is_empty(&self) -> bool {
        self.apps.is_empty() && self.clients.is_empty()
    }
}

/// Compares what `people` (and someone not logged in) may use under `old` and `new`.
pub fn compute(old: &Side<'_>, new: &Side<'_>, people: &[UserGroups], limits: &Limits) -> Impact {
    let checked = people.len().min(limits.people);
    let apps = app_order(old.policy, new.policy);
    let moved = moved_clients(old, new);
    let mut impact = Impact {
        people_checked: checked,
        people_not_checked: people.len() - checked,
        ..Impact::default()
    };
    for from in [INSIDE, OUTSIDE] {
        let mut by_app: Vec<Change> = apps.iter().map(|app| change(app, None, from)).collect();
        let mut by_client: Vec<Change> = moved
            .iter()
            .map(|(id, before, after)| change(id, Some((before, after)), from))
            .collect();
        let everyone = std::iter::once(None).chain(people.iter().take(checked).map(Some));
        for person in everyone {
            let options = DiffOptions {
                source: from,
                login: LOGIN,
            };
            let before = engine::openable(old.policy, person, &options);
            let after = engine::openable(new.policy, person, &options);
            let name = person.map_or(ANONYMOUS, |p| p.name.as_str());
            if before != after {
                for (app, entry) in apps.iter().zip(&mut by_app) {
                    let why = || Why::new(old, new, person, app, from);
                    match (before.contains(app), after.contains(app)) {
                        (false, true) => entry.gained.add(name, why().gain(), limits),
                        (true, false) => entry.lost.add(name, why().loss(), limits),
                        _ => {}
                    }
                }
            }
            for ((_, was, is), entry) in moved.iter().zip(&mut by_client) {
                let could = was.as_ref().is_some_and(|app| before.contains(app));
                let can = is.as_ref().is_some_and(|app| after.contains(app));
                match (could, can) {
                    (false, true) => entry.gained.add(name, None, limits),
                    (true, false) => entry.lost.add(name, None, limits),
                    _ => {}
                }
            }
        }
        keep_changes(&mut impact.apps, by_app, from);
        keep_changes(&mut impact.clients, by_client, from);
    }
    impact
}

fn change(name: &str, client: Option<(&Option<String>, &Option<String>)>, from: IpAddr) -> Change {
    Change {
        name: name.to_owned(),
        app_before: client.and_then(|(before, _)| before.clone()),
        app_after: client.and_then(|(_, after)| after.clone()),
        from,
        gained: People::default(),
        lost: People::default(),
    }
}

/// Keeps the changes from `from` that someone is in; from [`OUTSIDE`], only those that differ
/// from the same line from [`INSIDE`].
fn keep_changes(kept: &mut Vec<Change>, found: Vec<Change>, from: IpAddr) {
    for change in found {
        if change.gained.is_empty() && change.lost.is_empty() {
            continue;
        }
        let same_inside = from != INSIDE
            && kept.iter().any(|inside| {
                inside.name == change.name
                    && inside.gained == change.gained
                    && inside.lost == change.lost
            });
        if !same_inside {
            kept.push(change);
        }
    }
}

/// Every app name of the new load in order, then those only the old one had.
fn app_order(old: &Policy, new: &Policy) -> Vec<String> {
    let mut names: Vec<String> = new.apps().iter().map(|a| a.name.clone()).collect();
    for app in old.apps() {
        if !names.contains(&app.name) {
            names.push(app.name.clone());
        }
    }
    names
}

/// Clients whose app differs between the loads: (id, app before, app after).
fn moved_clients(old: &Side<'_>, new: &Side<'_>) -> Vec<(String, Option<String>, Option<String>)> {
    let ids: BTreeSet<&String> = old.clients.keys().chain(new.clients.keys()).collect();
    ids.into_iter()
        .filter_map(|id| {
            let before = old.clients.get(id).cloned();
            let after = new.clients.get(id).cloned();
            (before != after).then(|| (id.clone(), before, after))
        })
        .collect()
}

/// The two decisions for one person and app, to name the rule behind a gain or a loss.
struct Why {
    before: Option<(Decision, String)>,
    after: Option<(Decision, String)>,
}

impl Why {
    fn new(
        old: &Side<'_>,
        new: &Side<'_>,
        person: Option<&UserGroups>,
        app: &str,
        from: IpAddr,
    ) -> Self {
        let decide = |policy: &Policy| {
            let index = policy.apps().iter().position(|a| a.name == app)?;
            let subject = match person {
                Some(p) => policy.subject(&p.name, &p.groups, LOGIN),
                None => Subject::anonymous(),
            };
            let decision = policy.entry_decision(&subject, index, from);
            let rule = match decision {
                Decision::Allow { rule } | Decision::Deny { rule: Some(rule) } => policy
                    .rule_origin(rule)
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                _ => String::new(),
            };
            Some((decision, rule))
        };
        Self {
            before: decide(old.policy),
            after: decide(new.policy),
        }
    }

    /// The allow rule that lets them in now.
    fn gain(self) -> Option<String> {
        match self.after {
            Some((Decision::Allow { .. }, rule)) => Some(format!("allow {rule}")),
            _ => None,
        }
    }

    /// The deny rule that keeps them out now, or the allow rule that let them in before.
    fn loss(self) -> Option<String> {
        match (self.after, self.before) {
            (Some((Decision::Deny { rule: Some(_) }, rule)), _) => Some(format!("deny {rule}")),
            (None, _) => Some("the app was removed".to_owned()),
            (_, Some((Decision::Allow { .. }, rule))) => {
                Some(format!("no longer allowed by {rule}"))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
