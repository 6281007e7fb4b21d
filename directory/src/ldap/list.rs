//! Every user with their groups, for `policy who-can` and `policy diff` against the live
//! directory: three searches (users, disabled users, groups) and the nesting walked in memory,
//! rather than one round of searches per user.

use std::collections::HashSet;

use ldap3::{Ldap, Scope};

use crate::error::DirectoryError;
use crate::nesting::{GroupGraph, normalise_dn};
use crate::record::UserRecord;

use super::entry::Entry;
use super::filter;
use super::groups::depth;
use super::search::{NO_ATTRIBUTES, OpError, Query, search};
use super::settings::LdapSettings;
use super::user::{attributes, disabled_by_account_control, record};

/// All enabled users, sorted by username; more than `users_limit` is an error.
pub(crate) async fn users(s: &LdapSettings, ldap: Ldap) -> Result<Vec<UserRecord>, OpError> {
    let entries = user_entries(s, ldap.clone()).await?;
    let disabled = disabled_dns(s, ldap.clone()).await?;
    let graph = group_graph(s, ldap, &entries).await?;
    let mut records = Vec::new();
    for entry in &entries {
        if disabled.contains(&normalise_dn(&entry.dn)) || disabled_by_account_control(s, entry) {
            continue;
        }
        let groups =
            graph
                .groups_of(&entry.dn, depth(s))
                .map_err(|_| DirectoryError::NestingTooDeep {
                    dn: entry.dn.clone(),
                    max_depth: s.groups.max_depth,
                })?;
        records.push(record(s, entry, groups)?);
    }
    records.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(records)
}

/// The most entries one listing may return.
fn limit(s: &LdapSettings) -> i32 {
    i32::try_from(s.users_limit).unwrap_or(i32::MAX)
}

/// Every user entry the user filter admits, disabled ones included; more than `users_limit` is
/// an error.
pub(crate) async fn user_entries(s: &LdapSettings, ldap: Ldap) -> Result<Vec<Entry>, OpError> {
    let all = filter::all_users(&s.user_filter);
    let attributes = attributes(s);
    let query = Query {
        base: s.user_base(),
        scope: Scope::Subtree,
        filter: &all,
        attributes: &attributes,
        limit: limit(s),
    };
    let found = search(ldap, s.operation_timeout, query).await?;
    if found.truncated {
        return Err(DirectoryError::TooManyUsers {
            limit: s.users_limit,
        }
        .into());
    }
    Ok(found.entries)
}

/// The normalised DNs the disabled filter marks.
pub(crate) async fn disabled_dns(s: &LdapSettings, ldap: Ldap) -> Result<HashSet<String>, OpError> {
    let Some(disabled) = &s.disabled_filter else {
        return Ok(HashSet::new());
    };
    let both = filter::and(&filter::all_users(&s.user_filter), disabled);
    let query = Query {
        base: s.user_base(),
        scope: Scope::Subtree,
        filter: &both,
        attributes: NO_ATTRIBUTES,
        limit: limit(s),
    };
    let found = search(ldap, s.operation_timeout, query).await?;
    Ok(found.entries.iter().map(|e| normalise_dn(&e.dn)).collect())
}

/// Every group under the group base and the memberships of groups and `users`.
pub(crate) async fn group_graph(
    s: &LdapSettings,
    ldap: Ldap,
    users: &[Entry],
) -> Result<GroupGraph, OpError> {
    let a = &s.attributes;
    let listing = s.groups.lookup.member_attribute().unwrap_or(&a.member_of);
    let attributes = [a.group_name.as_str(), listing];
    let query = Query {
        base: s.group_base(),
        scope: Scope::Subtree,
        filter: &s.groups.filter,
        attributes: &attributes,
        limit: 0,
    };
    let found = search(ldap, s.operation_timeout, query).await?;
    if found.truncated {
        return Err(DirectoryError::SizeLimit { search: "groups" }.into());
    }
    let mut graph = GroupGraph::default();
    for group in &found.entries {
        let Some(name) = group.text(&a.group_name) else {
            continue;
        };
        graph.add_group(&group.dn, name);
        match s.groups.lookup.member_attribute() {
            Some(member) => {
                for child in group.texts(member) {
                    graph.add_membership(child, &group.dn);
                }
            }
            None => {
                for parent in group.texts(&a.member_of) {
                    graph.add_membership(&group.dn, parent);
                }
            }
        }
    }
    if s.groups.lookup.member_attribute().is_none() {
        for user in users {
            for parent in user.texts(&a.member_of) {
                graph.add_membership(&user.dn, parent);
            }
        }
    }
    Ok(graph)
}
