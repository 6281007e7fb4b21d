//! Every group with its members, for `pforte-admin groups list|show`: the same three searches as
//! the users listing (users, disabled users, groups) and the same group graph, so a member shown
//! here is exactly someone whose login gets the group.

use ldap3::Ldap;

use crate::error::DirectoryError;
use crate::group::GroupRecord;
use crate::nesting::{Person, normalise_dn};

use super::groups::depth;
use super::list::{disabled_dns, group_graph, user_entries};
use super::search::OpError;
use super::settings::LdapSettings;
use super::user::disabled_by_account_control;

/// Every group under the group base, sorted by name, with direct and nested members.
pub(crate) async fn groups(s: &LdapSettings, ldap: Ldap) -> Result<Vec<GroupRecord>, OpError> {
    let entries = user_entries(s, ldap.clone()).await?;
    let disabled = disabled_dns(s, ldap.clone()).await?;
    let graph = group_graph(s, ldap, &entries).await?;
    let people: Vec<Person> = entries
        .iter()
        .filter_map(|entry| {
            Some(Person {
                dn: entry.dn.clone(),
                username: entry.text(&s.attributes.username)?.to_owned(),
                disabled: disabled.contains(&normalise_dn(&entry.dn))
                    || disabled_by_account_control(s, entry),
            })
        })
        .collect();
    let ignore: Vec<String> = s
        .admin
        .iter()
        .filter_map(|a| a.empty_group_member.clone())
        .chain([String::new()])
        .collect();
    let mut records = Vec::new();
    for group in graph.groups() {
        let members = graph
            .members(&group.dn, &people, depth(s), &ignore)
            .map_err(|_| DirectoryError::NestingTooDeep {
                dn: group.dn.clone(),
                max_depth: s.groups.max_depth,
            })?;
        records.push(
            GroupRecord {
                name: group.name.clone(),
                dn: Some(group.dn.clone()),
                members,
            }
            .sorted(),
        );
    }
    records.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(records)
}
