//! Nested groups: from a user's direct groups up through the groups that contain them.
//!
//! The walk is pure: [`GroupWalk`] says which entries to expand next, the caller fetches their
//! parent groups (over LDAP, or from an in-memory [`GroupGraph`]) and hands them back. Each group
//! is visited once, which ends loops (a ⊂ b ⊂ a); a walk that would go past the depth bound is an
//! error rather than a shorter list, since a missing group could skip a deny rule.

use std::collections::{BTreeSet, HashMap, HashSet};

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
