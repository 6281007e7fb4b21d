//! Who is asking: a [`Subject`] is interned against a policy once per session, so that a
//! decision compares small integers instead of strings.

use crate::model::LoginStrength;
use crate::policy::Policy;

/// A person (or nobody, for [`Subject::anonymous`]) as the policy sees them.
///
/// Made by [`Policy::subject`] once per session. It keeps the names too, so that a subject
/// interned for an older policy still gets right answers after a reload (through a slower
/// path that compares names); re-intern it when convenient, see [`Subject::is_interned_for`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub(crate) identity: Option<Identity>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) user: Box<str>,
    pub(crate) groups: Box<[Box<str>]>,
    pub(crate) login: LoginStrength,
    /// The policy the ids below belong to.
    pub(crate) stamp: u64,
    pub(crate) user_id: Option<u32>,
    /// Sorted ids of the groups that some rule mentions.
    pub(crate) group_ids: Box<[u32]>,
}

impl Subject {
    /// Someone who has not logged in: matched only by `everyone`.
    pub fn anonymous() -> Self {
        Self { identity: None }
    }

    /// Whether this subject was interned for `policy` (and so takes the fast path).
    /// Anonymous subjects need no interning.
    pub fn is_interned_for(&self, policy: &Policy) -> bool {
        self.identity
            .as_ref()
            .is_none_or(|i| i.stamp == policy.stamp)
    }

    /// The user name, `None` when anonymous.
    pub fn user(&self) -> Option<&str> {
        self.identity.as_ref().map(|i| &*i.user)
    }
}

impl Policy {
    /// Interns a logged-in person: their user name, their directory groups (exact,
    /// case-sensitive names) and how they logged in. Call once per session, not per request.
    pub fn subject(&self, user: &str, groups: &[String], login: LoginStrength) -> Subject {
        let mut group_ids: Vec<u32> = groups
            .iter()
            .filter_map(|g| self.tables.groups.get(g))
            .collect();
        group_ids.sort_unstable();
        group_ids.dedup();
        Subject {
            identity: Some(Identity {
                user: user.into(),
                groups: groups.iter().map(|g| g.as_str().into()).collect(),
                login,
                stamp: self.stamp,
                user_id: self.tables.users.get(user),
                group_ids: group_ids.into_boxed_slice(),
            }),
        }
    }
}

/// How `decide` asks about a subject: by id when interned for this policy, else by name.
pub(crate) trait Membership {
    /// The subject's login, `None` when anonymous.
    fn login(&self) -> Option<LoginStrength>;
    /// Whether the subject is the user with this id.
    fn is_user(&self, id: u32) -> bool;
    /// Whether the subject is in the group with this id.
    fn in_group(&self, id: u32) -> bool;
}

/// Membership through ids: the per-request fast path.
pub(crate) struct ById<'a>(pub(crate) &'a Identity);

impl Membership for ById<'_> {
    fn login(&self) -> Option<LoginStrength> {
        Some(self.0.login)
    }
    fn is_user(&self, id: u32) -> bool {
        self.0.user_id == Some(id)
    }
    fn in_group(&self, id: u32) -> bool {
        self.0.group_ids.binary_search(&id).is_ok()
    }
}

/// Membership through names, for a subject interned for another policy. No allocation.
pub(crate) struct ByName<'a>(pub(crate) &'a Identity, pub(crate) &'a Policy);

impl Membership for ByName<'_> {
    fn login(&self) -> Option<LoginStrength> {
        Some(self.0.login)
    }
    fn is_user(&self, id: u32) -> bool {
        *self.0.user == *self.1.tables.users.name(id)
    }
    fn in_group(&self, id: u32) -> bool {
        let name = self.1.tables.groups.name(id);
        self.0.groups.iter().any(|g| **g == *name)
    }
}

/// Nobody: not logged in.
pub(crate) struct Nobody;

impl Membership for Nobody {
    fn login(&self) -> Option<LoginStrength> {
        None
    }
    fn is_user(&self, _: u32) -> bool {
        false
    }
    fn in_group(&self, _: u32) -> bool {
        false
    }
}
