//! One user's groups, read from the directory: direct groups and, with nesting on, the groups
//! around them, walked level by level by [`GroupWalk`] (depth bound, loops ended).
//!
//! - memberOf: the user's memberOf names the direct groups; each group's own memberOf names the
//!   next level. Groups are read by DN (base searches, concurrently on the one connection).
//! - member / uniqueMember: one search per level for the groups that list any DN of the level.
//! - Active Directory in-chain: one search with the matching rule returns every level at once.

use std::collections::HashMap;

use futures_util::future::try_join_all;
use ldap3::{Ldap, LdapError, Scope};

use crate::error::DirectoryError;
use crate::nesting::{Depth, Found, GroupWalk, normalise_dn};

use super::entry::Entry;
use super::filter;
use super::search::{OpError, Query, is_no_such_object, search};
use super::settings::LdapSettings;

/// How deep `s` follows groups.
pub(crate) fn depth(s: &LdapSettings) -> Depth {
    if s.groups.nested {
        Depth::Nested(s.groups.max_depth)
    } else {
        Depth::Direct
    }
}

/// The group names of the user in `entry` (not yet sorted).
pub(crate) async fn of_user(
    s: &LdapSettings,
    ldap: Ldap,
    entry: &Entry,
) -> Result<Vec<String>, OpError> {
    if s.groups.in_chain {
        return in_chain(s, ldap, &entry.dn).await;
    }
    let mut member_of: HashMap<String, Vec<String>> = HashMap::new();
    member_of.insert(
        normalise_dn(&entry.dn),
        entry
            .texts(&s.attributes.member_of)
            .map(str::to_owned)
            .collect(),
    );
    let mut walk = GroupWalk::new(&entry.dn, depth(s));
    while let Some(batch) = walk.next_batch() {
        let batch = batch.to_vec();
        let parents = match s.groups.lookup.member_attribute() {
            None => by_member_of(s, &ldap, &batch, &mut member_of).await?,
            Some(attribute) => by_member_search(s, ldap.clone(), attribute, &batch).await?,
        };
        walk.record(parents)
            .map_err(|_| DirectoryError::NestingTooDeep {
                dn: entry.dn.clone(),
                max_depth: s.groups.max_depth,
            })?;
    }
    Ok(walk.into_names())
}

/// The groups named in the memberOf values of `batch`, read by DN; their own memberOf values are
/// kept in `member_of` for the next level.
async fn by_member_of(
    s: &LdapSettings,
    ldap: &Ldap,
    batch: &[String],
    member_of: &mut HashMap<String, Vec<String>>,
) -> Result<Vec<Found>, LdapError> {
    let mut parents: Vec<String> = batch
        .iter()
        .filter_map(|dn| member_of.get(&normalise_dn(dn)))
        .flatten()
        .cloned()
        .collect();
    parents.sort_by_key(|dn| normalise_dn(dn));
    parents.dedup_by_key(|dn| normalise_dn(dn));
    let reads = parents.iter().map(|dn| read_group(s, ldap.clone(), dn));
    let mut found = Vec::new();
    for entry in try_join_all(reads).await?.into_iter().flatten() {
        member_of.insert(
            normalise_dn(&entry.dn),
            entry
                .texts(&s.attributes.member_of)
                .map(str::to_owned)
                .collect(),
        );
        if let Some(name) = entry.text(&s.attributes.group_name) {
            found.push(Found {
                dn: entry.dn.clone(),
                name: name.to_owned(),
            });
        }
    }
    Ok(found)
}

/// The group entry `dn` with its name and memberOf; `None` when it does not exist (a dangling
/// memberOf value) or cannot be read.
async fn read_group(s: &LdapSettings, ldap: Ldap, dn: &str) -> Result<Option<Entry>, LdapError> {
    let attributes = [
        s.attributes.group_name.as_str(),
        s.attributes.member_of.as_str(),
    ];
    let query = Query {
        base: dn,
        scope: Scope::Base,
        filter: "(objectClass=*)",
        attributes: &attributes,
        limit: 1,
    };
    match search(ldap, s.operation_timeout, query).await {
        Ok(found) => Ok(found.entries.into_iter().next()),
        Err(e) if is_no_such_object(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The groups under the group base whose `attribute` lists any DN of `batch`.
async fn by_member_search(
    s: &LdapSettings,
    ldap: Ldap,
    attribute: &str,
    batch: &[String],
) -> Result<Vec<Found>, OpError> {
    let filter = filter::and(&s.groups.filter, &filter::any_member(attribute, batch));
    named_groups(s, ldap, &filter).await
}

/// Every group containing `dn` at any depth, through Active Directory's in-chain matching rule.
async fn in_chain(s: &LdapSettings, ldap: Ldap, dn: &str) -> Result<Vec<String>, OpError> {
    let filter = filter::and(&s.groups.filter, &filter::in_chain(dn));
    let found = named_groups(s, ldap, &filter).await?;
    Ok(found.into_iter().map(|g| g.name).collect())
}

/// The groups matching `filter` under the group base, with their names; an answer cut short by
/// the server's size limit is an error, since a missing group could skip a deny rule.
async fn named_groups(s: &LdapSettings, ldap: Ldap, filter: &str) -> Result<Vec<Found>, OpError> {
    let attributes = [s.attributes.group_name.as_str()];
    let query = Query {
        base: s.group_base(),
        scope: Scope::Subtree,
        filter,
        attributes: &attributes,
        limit: 0,
    };
    let found = search(ldap, s.operation_timeout, query).await?;
    if found.truncated {
        return Err(DirectoryError::SizeLimit { search: "groups" }.into());
    }
    Ok(found
        .entries
        .into_iter()
        .filter_map(|e| {
            let name = e.text(&s.attributes.group_name)?.to_owned();
            Some(Found { dn: e.dn, name })
        })
        .collect())
}
