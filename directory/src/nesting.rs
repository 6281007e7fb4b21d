//! Nested groups: from a user's direct groups up through the groups that contain them.
//!
//! The walk is pure: [`GroupWalk`] says which entries to expand next, the caller fetches their
//! parent groups (over LDAP, or from an in-memory [`GroupGraph`]) and hands them back. Each group
//! is visited once, which ends loops (a ⊂ b ⊂ a); a walk that would go past the depth bound is an
//! error rather than a shorter list, since a missing group could skip a deny rule.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::group::{Member, MemberKind};

/// A group reached by the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    /// Its DN, as the directory spells it.
    pub(crate) dn: String,
    /// Its short name (the mapped group name attribute).
    pub(crate) name: String,
}

/// How far up to follow groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    /// Direct groups only.
    Direct,
    /// Nested groups up to this many levels (direct groups are level 1).
    Nested(usize),
}

/// The walk was stopped by its depth bound while groups were still being found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooDeep;

/// One user's walk up the group graph.
#[derive(Debug)]
pub(crate) struct GroupWalk {
    depth: Depth,
    level: usize,
    seen: HashSet<String>,
    frontier: Vec<String>,
    names: BTreeSet<String>,
}

impl GroupWalk {
    /// Starts at the user's entry.
    pub(crate) fn new(user_dn: &str, depth: Depth) -> Self {
        Self {
            depth,
            level: 0,
            seen: HashSet::from([normalise_dn(user_dn)]),
            frontier: vec![user_dn.to_owned()],
            names: BTreeSet::new(),
        }
    }

    /// The entries whose parent groups are needed next, or `None` when the walk is over.
    /// With nesting on, one level past the bound is still asked for, to tell "done" from "too deep".
    pub(crate) fn next_batch(&self) -> Option<&[String]> {
        let last = match self.depth {
            Depth::Direct => 1,
            Depth::Nested(max) => max.saturating_add(1),
        };
        (!self.frontier.is_empty() && self.level < last).then_some(self.frontier.as_slice())
    }

    /// Takes the parent groups of the last batch.
    pub(crate) fn record(&mut self, parents: Vec<Found>) -> Result<(), TooDeep> {
        self.level += 1;
        let mut fresh = Vec::new();
        for group in parents {
            if self.seen.insert(normalise_dn(&group.dn)) {
                self.names.insert(group.name);
                fresh.push(group.dn);
            }
        }
        if let Depth::Nested(max) = self.depth
            && self.level > max
            && !fresh.is_empty()
        {
            return Err(TooDeep);
        }
        self.frontier = fresh;
        Ok(())
    }

    /// The group names found, sorted and unique.
    pub(crate) fn into_names(self) -> Vec<String> {
        self.names.into_iter().collect()
    }

    /// The normalised DNs of the groups found (the start left out).
    fn into_reached(mut self, start_dn: &str) -> HashSet<String> {
        self.seen.remove(&normalise_dn(start_dn));
        self.seen
    }
}

/// A user as a candidate member of groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Person {
    /// The user's entry.
    pub(crate) dn: String,
    /// The login name.
    pub(crate) username: String,
    /// Whether the account is disabled.
    pub(crate) disabled: bool,
}

/// DNs compare without regard to ASCII case (attribute types and the usual values are
/// case-insensitive), so `CN=Staff,...` and `cn=staff,...` are one group.
pub(crate) fn normalise_dn(dn: &str) -> String {
    dn.to_ascii_lowercase()
}

/// Every group and its parents, read at once, for listing all users without one search per user.
#[derive(Debug, Default)]
pub(crate) struct GroupGraph {
    parents: HashMap<String, Vec<String>>,
    groups: HashMap<String, Found>,
}

impl GroupGraph {
    /// Records a group with its name.
    pub(crate) fn add_group(&mut self, dn: &str, name: &str) {
        self.groups.insert(
            normalise_dn(dn),
            Found {
                dn: dn.to_owned(),
                name: name.to_owned(),
            },
        );
    }

    /// Records that `child` (a user or a group) is a direct member of `parent`.
    pub(crate) fn add_membership(&mut self, child: &str, parent: &str) {
        self.parents
            .entry(normalise_dn(child))
            .or_default()
            .push(normalise_dn(parent));
    }

    /// The groups of `user_dn`, walked through this graph.
    pub(crate) fn groups_of(&self, user_dn: &str, depth: Depth) -> Result<Vec<String>, TooDeep> {
        let mut walk = GroupWalk::new(user_dn, depth);
        while let Some(batch) = walk.next_batch() {
            let parents = self.parents_of(batch);
            walk.record(parents)?;
        }
        Ok(walk.into_names())
    }

    /// Every group recorded.
    pub(crate) fn groups(&self) -> impl Iterator<Item = &Found> {
        self.groups.values()
    }

    /// The normalised DNs of the groups that `start_dn` reaches, walked as a login walks them.
    fn reached(&self, start_dn: &str, depth: Depth) -> Result<HashSet<String>, TooDeep> {
        let mut walk = GroupWalk::new(start_dn, depth);
        while let Some(batch) = walk.next_batch() {
            let parents = self.parents_of(batch);
            walk.record(parents)?;
        }
        Ok(walk.into_reached(start_dn))
    }

    /// Everyone in the group `group_dn`: `people` and groups that reach it by the same walk as a
    /// login's (so the list agrees with what the policy sees), the nested ones with the direct
    /// member groups they come through, and direct members that are neither (except the DNs in
    /// `ignore`, such as an empty group's placeholder).
    pub(crate) fn members(
        &self,
        group_dn: &str,
        people: &[Person],
        depth: Depth,
        ignore: &[String],
    ) -> Result<Vec<Member>, TooDeep> {
        let group = normalise_dn(group_dn);
        let mut known: HashSet<String> = HashSet::new();
        let mut members = Vec::new();
        let candidates = people
            .iter()
            .map(|p| {
                (
                    p.dn.as_str(),
                    p.username.as_str(),
                    MemberKind::User,
                    p.disabled,
                )
            })
            .chain(
                self.groups
                    .values()
                    .map(|g| (g.dn.as_str(), g.name.as_str(), MemberKind::Group, false)),
            );
        for (dn, name, kind, disabled) in candidates {
            let key = normalise_dn(dn);
            known.insert(key.clone());
            if key == group || !self.reached(dn, depth)?.contains(&group) {
                continue;
            }
            let direct = self.parents.get(&key).is_some_and(|p| p.contains(&group));
            let via = if direct {
                Vec::new()
            } else {
                self.via(&key, &group, depth)?
            };
            members.push(Member {
                name: name.to_owned(),
                kind,
                via,
                disabled,
            });
        }
        let ignore: HashSet<String> = ignore.iter().map(|dn| normalise_dn(dn)).collect();
        for (child, parents) in &self.parents {
            if parents.contains(&group) && !known.contains(child) && !ignore.contains(child) {
                members.push(Member {
                    name: child.clone(),
                    kind: MemberKind::Other,
                    via: Vec::new(),
                    disabled: false,
                });
            }
        }
        Ok(members)
    }

    /// The names of the direct parents of `child` that reach `group`.
    fn via(&self, child: &str, group: &str, depth: Depth) -> Result<Vec<String>, TooDeep> {
        let mut via = BTreeSet::new();
        for parent in self.parents.get(child).into_iter().flatten() {
            if let Some(found) = self.groups.get(parent)
                && self.reached(&found.dn, depth)?.contains(group)
            {
                via.insert(found.name.clone());
            }
        }
        Ok(via.into_iter().collect())
    }

    /// The known groups that directly contain any of `children`.
    fn parents_of(&self, children: &[String]) -> Vec<Found> {
        children
            .iter()
            .filter_map(|child| self.parents.get(&normalise_dn(child)))
            .flatten()
            .filter_map(|parent| self.groups.get(parent).cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo directory: carol ∈ finance ⊂ staff, alice ∈ staff and admins.
    fn demo() -> GroupGraph {
        let mut g = GroupGraph::default();
        for name in ["staff", "admins", "finance", "it"] {
            g.add_group(&format!("cn={name},ou=groups"), name);
        }
        g.add_membership("uid=alice,ou=people", "cn=staff,ou=groups");
        g.add_membership("uid=alice,ou=people", "cn=admins,ou=groups");
        g.add_membership("uid=carol,ou=people", "cn=finance,ou=groups");
        g.add_membership("cn=finance,ou=groups", "CN=Staff,ou=groups");
        g
    }

    #[test]
    fn nested_groups_are_followed() {
        let g = demo();
        assert_eq!(
            g.groups_of("uid=carol,ou=people", Depth::Nested(8)),
            Ok(vec!["finance".to_owned(), "staff".to_owned()])
        );
        assert_eq!(
            g.groups_of("uid=alice,ou=people", Depth::Nested(8)),
            Ok(vec!["admins".to_owned(), "staff".to_owned()])
        );
        assert_eq!(g.groups_of("uid=nobody", Depth::Nested(8)), Ok(Vec::new()));
    }

    fn person(name: &str, disabled: bool) -> Person {
        Person {
            dn: format!("uid={name},ou=people"),
            username: name.into(),
            disabled,
        }
    }

    #[test]
    fn members_include_nested_ones_with_the_group_they_come_through() {
        let mut g = demo();
        g.add_membership("cn=it,ou=groups", "cn=staff,ou=groups");
        g.add_membership("uid=dave,ou=people", "cn=it,ou=groups");
        g.add_membership("cn=admin,dc=org", "cn=staff,ou=groups");
        g.add_membership("", "cn=staff,ou=groups");
        let people = [
            person("alice", false),
            person("carol", false),
            person("dave", true),
        ];
        let members = g
            .members(
                "CN=staff,ou=groups",
                &people,
                Depth::Nested(8),
                &[String::new()],
            )
            .unwrap();
        let mut got: Vec<(String, MemberKind, Vec<String>, bool)> = members
            .into_iter()
            .map(|m| (m.name, m.kind, m.via, m.disabled))
            .collect();
        got.sort();
        let s = |v: &str| v.to_owned();
        assert_eq!(
            got,
            [
                (s("alice"), MemberKind::User, vec![], false),
                (s("carol"), MemberKind::User, vec![s("finance")], false),
                (s("cn=admin,dc=org"), MemberKind::Other, vec![], false),
                (s("dave"), MemberKind::User, vec![s("it")], true),
                (s("finance"), MemberKind::Group, vec![], false),
                (s("it"), MemberKind::Group, vec![], false),
            ]
        );
        let direct = g
            .members(
                "cn=staff,ou=groups",
                &people,
                Depth::Direct,
                &[String::new()],
            )
            .unwrap();
        assert!(direct.iter().all(|m| m.via.is_empty()));
        assert!(!direct.iter().any(|m| m.name == "carol"));
    }

    #[test]
    fn direct_depth_stops_at_the_first_level() {
        let g = demo();
        assert_eq!(
            g.groups_of("uid=carol,ou=people", Depth::Direct),
            Ok(vec!["finance".to_owned()])
        );
    }

    #[test]
    fn loops_end_the_walk() {
        let mut g = GroupGraph::default();
        g.add_group("cn=a", "a");
        g.add_group("cn=b", "b");
        g.add_membership("uid=u", "cn=a");
        g.add_membership("cn=a", "cn=b");
        g.add_membership("cn=b", "cn=a");
        g.add_membership("cn=a", "cn=a");
        assert_eq!(
            g.groups_of("uid=u", Depth::Nested(8)),
            Ok(vec!["a".to_owned(), "b".to_owned()])
        );
    }

    #[test]
    fn a_chain_longer_than_the_bound_is_an_error() {
        let mut g = GroupGraph::default();
        let mut child = "uid=u".to_owned();
        for i in 0..5 {
            let dn = format!("cn=g{i}");
            g.add_group(&dn, &format!("g{i}"));
            g.add_membership(&child, &dn);
            child = dn;
        }
        assert_eq!(
            g.groups_of("uid=u", Depth::Nested(5)).map(|v| v.len()),
            Ok(5)
        );
        assert_eq!(g.groups_of("uid=u", Depth::Nested(4)), Err(TooDeep));
    }

    #[test]
    fn a_loop_at_the_bound_is_not_too_deep() {
        let mut g = GroupGraph::default();
        g.add_group("cn=a", "a");
        g.add_group("cn=b", "b");
        g.add_membership("uid=u", "cn=a");
        g.add_membership("cn=a", "cn=b");
        g.add_membership("cn=b", "cn=a");
        assert_eq!(
            g.groups_of("uid=u", Depth::Nested(2)).map(|v| v.len()),
            Ok(2)
        );
    }
}
