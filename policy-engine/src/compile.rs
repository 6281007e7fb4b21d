//! Turning checked rules into per-app tables that `decide` scans without allocating.
//!
//! Each app gets its deny rules and its allow rules in two arrays, in rule order, with
//! `apps = ["*"]` rules copied into every app. Group and user names become small integer
//! ids (interned once here, and once per session in [`Policy::subject`](crate::Policy::subject)).

use std::collections::HashMap;

use ipnet::IpNet;

use crate::decide::RuleId;
use crate::model::{AppSet, Effect, LoginStrength, Rule, Subjects};
use crate::pattern::PathPattern;

/// Names mapped to dense ids, and back.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    /// The id of `name`, if any rule mentions it.
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// The name of an id handed out by this interner.
    pub(crate) fn name(&self, id: u32) -> &str {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.names.get(i))
            .map_or("", |n| n)
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.ids.insert(name.into(), id);
        self.names.push(name.into());
        id
    }
}

/// A subject list with names interned.
#[derive(Debug, Clone, Default)]
pub(crate) struct SubjectIds {
    pub(crate) everyone: bool,
    pub(crate) authenticated: bool,
    pub(crate) groups: Box<[u32]>,
    pub(crate) users: Box<[u32]>,
}

impl SubjectIds {
    fn new(subjects: &Subjects, groups: &mut Interner, users: &mut Interner) -> Self {
        Self {
            everyone: subjects.everyone,
            authenticated: subjects.authenticated,
            groups: subjects.groups.iter().map(|g| groups.intern(g)).collect(),
            users: subjects.users.iter().map(|u| users.intern(u)).collect(),
        }
    }

    /// Whether the list names someone who is logged in.
    pub(crate) fn names_someone_logged_in(&self) -> bool {
        self.authenticated || !self.users.is_empty() || !self.groups.is_empty()
    }
}

/// One rule as `decide` reads it. Empty condition arrays hold for every request
/// (the file format forbids writing an empty list, so empty always means "absent").
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub(crate) id: RuleId,
    pub(crate) subjects: SubjectIds,
    pub(crate) except: SubjectIds,
    pub(crate) methods: Box<[Box<str>]>,
    pub(crate) nets: Box<[IpNet]>,
    pub(crate) paths: Box<[PathPattern]>,
    pub(crate) login: Option<LoginStrength>,
}

/// The rules of one app.
#[derive(Debug, Default)]
pub(crate) struct AppTable {
    pub(crate) deny: Box<[Compiled]>,
    pub(crate) allow: Box<[Compiled]>,
}

/// The compiled form of a rule set.
#[derive(Debug)]
pub(crate) struct Tables {
    pub(crate) apps: Vec<AppTable>,
    pub(crate) groups: Interner,
    pub(crate) users: Interner,
}

/// Compiles `rules` (numbered by position) for `app_count` apps.
pub(crate) fn compile(rules: &[Rule], app_count: usize) -> Tables {
    let mut groups = Interner::default();
    let mut users = Interner::default();
    let mut deny: Vec<Vec<Compiled>> = vec![Vec::new(); app_count];
    let mut allow: Vec<Vec<Compiled>> = vec![Vec::new(); app_count];
    for (index, rule) in rules.iter().enumerate() {
        let compiled = Compiled {
            id: RuleId::from_index(index),
            subjects: SubjectIds::new(&rule.subjects, &mut groups, &mut users),
            except: SubjectIds::new(&rule.except, &mut groups, &mut users),
            methods: rule
                .methods
                .iter()
                .flatten()
                .map(|m| m.as_str().into())
                .collect(),
            nets: rule
                .from
                .iter()
                .flat_map(|f| f.nets.iter().copied())
                .collect(),
            paths: rule.paths.iter().flatten().cloned().collect(),
            login: rule.login,
        };
        let lists = match rule.effect {
            Effect::Deny => &mut deny,
            Effect::Allow => &mut allow,
        };
        match &rule.apps {
            AppSet::All => lists
                .iter_mut()
                .for_each(|list| list.push(compiled.clone())),
            AppSet::Some(indexes) => {
                for &app in indexes {
                    if let Some(list) = lists.get_mut(app) {
                        list.push(compiled.clone());
                    }
                }
            }
        }
    }
    let apps = deny
        .into_iter()
        .zip(allow)
        .map(|(d, a)| AppTable {
            deny: d.into_boxed_slice(),
            allow: a.into_boxed_slice(),
        })
        .collect();
    Tables {
        apps,
        groups,
        users,
    }
}
