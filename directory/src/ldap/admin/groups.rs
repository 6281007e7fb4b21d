//! Groups: add one (with the placeholder member its class may require), and add or remove a
//! member in one modify operation each. Memberships are written on the group's member
//! attribute; a `memberOf` directory updates the users' side itself (memberof overlay, AD).

use ldap3::Scope;

use crate::admin::AdminError;

use super::super::filter;
use super::super::group_list;
use super::super::search::{Query, search};
use super::entries::{self, member_attribute};
use super::members::{self, Refusal};
use super::{GroupEntry, LdapAdmin};

impl LdapAdmin {
    /// Adds a group under `groups_dn`; a group of that name anywhere under the group base is a
    /// duplicate.
    pub(crate) async fn add_group(&self, name: &str) -> Result<(), AdminError> {
        if self.group_if_any(name).await?.is_some() {
            return Err(AdminError::GroupExists(name.to_owned()));
        }
        let dn = entries::group_dn(&self.s, &self.admin, name);
        let attributes = entries::group_attributes(&self.s, &self.admin, name);
        if self.add_entry("add the group", &dn, attributes).await? {
            Ok(())
        } else {
            Err(AdminError::GroupExists(name.to_owned()))
        }
    }

    /// Writes `username` into the group.
    pub(crate) async fn add_member(&self, group: &str, username: &str) -> Result<(), AdminError> {
        let entry = self.group(group).await?;
        let user = self.find(username).await?;
        let placeholder = self.admin.empty_group_member.as_deref();
        let mods = members::add(
            member_attribute(&self.s),
            &entry.members,
            &user.entry.dn,
            placeholder,
        )
        .map_err(|_| AdminError::AlreadyMember {
            group: group.to_owned(),
            user: username.to_owned(),
        })?;
        self.modify("add the member", &entry.dn, mods).await
    }

    /// Takes `username` out of the group; a user who is in it only through a nested group is
    /// told which one.
    pub(crate) async fn remove_member(
        &self,
        group: &str,
        username: &str,
    ) -> Result<(), AdminError> {
        let entry = self.group(group).await?;
        let user = self.find(username).await?;
        let placeholder = self.admin.empty_group_member.as_deref();
        match members::remove(
            member_attribute(&self.s),
            &entry.members,
            &user.entry.dn,
            placeholder,
        ) {
            Ok(mods) => self.modify("remove the member", &entry.dn, mods).await,
            Err(Refusal::NotThere | Refusal::AlreadyThere) => Err(AdminError::NotMember {
                group: group.to_owned(),
                user: username.to_owned(),
                through: self.nested_through(&entry.dn, username).await?,
            }),
        }
    }

    /// The direct member groups of `group_dn` through which `username` belongs to it.
    async fn nested_through(
        &self,
        group_dn: &str,
        username: &str,
    ) -> Result<Vec<String>, AdminError> {
        let all = group_list::groups(&self.s, self.ldap.clone())
            .await
            .map_err(|e| self.op_error("list the groups", e))?;
        Ok(all
            .into_iter()
            .filter(|g| {
                g.dn.as_deref()
                    .is_some_and(|dn| dn.eq_ignore_ascii_case(group_dn))
            })
            .flat_map(|g| g.members)
            .find(|m| m.name.eq_ignore_ascii_case(username))
            .map(|m| m.via)
            .unwrap_or_default())
    }

    /// Every group under the group base whose member attribute lists `dn`.
    pub(super) async fn groups_listing(&self, dn: &str) -> Result<Vec<GroupEntry>, AdminError> {
        let s = &self.s;
        let member = member_attribute(s);
        let listing = filter::and(&s.groups.filter, &filter::equals(member, dn));
        let query = Query {
            base: s.group_base(),
            scope: Scope::Subtree,
            filter: &listing,
            attributes: &[member],
            limit: 0,
        };
        let found = search(self.ldap.clone(), s.operation_timeout, query)
            .await
            .map_err(|e| self.op_error("search the user's groups", e.into()))?;
        Ok(found
            .entries
            .into_iter()
            .map(|e| GroupEntry {
                members: e.texts(member).map(str::to_owned).collect(),
                dn: e.dn,
            })
            .collect())
    }
}
