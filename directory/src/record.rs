//! What the rest of Pforte knows about a person: the same shape from every backend.

use serde::{Deserialize, Serialize};

/// A person as the gateway, the OIDC provider and the policy see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// The stable id that sessions and tokens carry (`sub`): LDAP entryUUID, Active Directory
    /// objectGUID as a UUID string, or the file backend's `id`. Usernames may be renamed; this
    /// never changes.
    pub subject: String,
    /// The login name as the directory spells it (which may differ in case from what was typed).
    pub username: String,
    /// The name shown on the portal and in ID tokens.
    pub display_name: String,
    /// The mail address, when the directory has one.
    pub email: Option<String>,
    /// Group short names (e.g. `staff`), nested groups included, sorted and deduplicated, so that
    /// two backends with the same data give equal records.
    pub groups: Vec<String>,
}

/// Sorts and deduplicates group names, the form [`UserRecord::groups`] promises.
pub(crate) fn normalise_groups(mut groups: Vec<String>) -> Vec<String> {
    groups.sort_unstable();
    groups.dedup();
    groups
}
