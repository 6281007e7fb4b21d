//! What the admin tool shows of a group: its members, the ones that belong through a nested
//! group marked with the groups they come through. The same shape from both backends.

use serde::Serialize;

/// A group with everyone in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupRecord {
    /// The group's short name, as policies use it.
    pub name: String,
    /// The entry's DN (LDAP only; a people file's groups are names).
    pub dn: Option<String>,
    /// Direct members first, then nested ones; each part sorted by kind and name.
    pub members: Vec<Member>,
}

/// One member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// A user's login name, a group's short name, or the DN of anything else.
    pub name: String,
    /// What the member is.
    pub kind: MemberKind,
    /// Empty for a direct member; else the direct member groups it belongs through.
    pub via: Vec<String>,
    /// A user whose account is disabled (listed, since the membership is still written).
    pub disabled: bool,
}

/// What a member entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberKind {
    /// A nested group.
    Group,
    /// A person.
    User,
    /// A DN that is neither a known user nor a known group (e.g. a service account).
    Other,
}

impl Member {
    /// Whether the member is written into the group itself, not reached through a nested one.
    pub fn is_direct(&self) -> bool {
        self.via.is_empty()
    }
}

impl GroupRecord {
    /// Puts the members in the promised order.
    pub(crate) fn sorted(mut self) -> Self {
        self.members.sort_by(|a, b| {
            (!a.is_direct(), a.kind, &a.name).cmp(&(!b.is_direct(), b.kind, &b.name))
        });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, kind: MemberKind, via: &[&str]) -> Member {
        Member {
            name: name.into(),
            kind,
            via: via.iter().map(|v| (*v).to_owned()).collect(),
            disabled: false,
        }
    }

    #[test]
    fn direct_members_come_first_groups_before_users() {
        let g = GroupRecord {
            name: "staff".into(),
            dn: None,
            members: vec![
                member("carol", MemberKind::User, &["finance"]),
                member("alice", MemberKind::User, &[]),
                member("finance", MemberKind::Group, &[]),
            ],
        }
        .sorted();
        let names: Vec<&str> = g.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["finance", "alice", "carol"]);
    }
}
