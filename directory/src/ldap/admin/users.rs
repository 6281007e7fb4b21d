//! People: add (entry, password, memberships, then found by the gateway's search), set a
//! password (the server hashes it), disable and enable (the mark the gateway's rule sees), and
//! delete (the entry, then its memberships).

use ldap3::Mod;
use ldap3::exop::PasswordModify;

use crate::admin::{Account, AdminError, NewUser};
use crate::settings::Secret;

use super::super::settings::ServerKind;
use super::super::user::USER_ACCOUNT_CONTROL;
use super::entries::{self, member_attribute};
use super::members;
use super::settings::DisableMark;
use super::{GroupEntry, LdapAdmin, undo_failed};

/// userAccountControl's ACCOUNTDISABLE bit.
const ACCOUNT_DISABLE: i64 = 0x2;

/// userAccountControl of an enabled user account (NORMAL_ACCOUNT, no other flag).
const NORMAL_ACCOUNT: &str = "512";

impl LdapAdmin {
    /// Adds a person: checks the name is free and every group exists, creates the entry, sets
    /// the password and the memberships, and checks that the gateway's search finds the new
    /// entry; any failure after the entry was created takes it back.
    pub(crate) async fn add_user(&self, user: &NewUser) -> Result<Account, AdminError> {
        if self.lookup(&user.username).await?.is_some() {
            return Err(AdminError::UserExists(user.username.clone()));
        }
        let mut groups: Vec<GroupEntry> = Vec::new();
        for name in &user.groups {
            let group = self.group(name).await?;
            if !groups.iter().any(|g| g.dn == group.dn) {
                groups.push(group);
            }
        }
        let dn = entries::user_dn(&self.s, &self.admin, &user.username);
        let attributes = entries::user_attributes(&self.s, &self.admin, user);
        if !self
            .add_entry("add the user entry", &dn, attributes)
            .await?
        {
            return Err(AdminError::UserExists(user.username.clone()));
        }
        let mut joined: Vec<&GroupEntry> = Vec::new();
        let finished = self.finish_user(&dn, user, &groups, &mut joined).await;
        match finished {
            Ok(account) => Ok(account),
            Err(error) => {
                let undo = self.undo_user(&dn, &joined).await;
                Err(undo_failed(error, undo, "taking back the new user"))
            }
        }
    }

    async fn finish_user<'g>(
        &self,
        dn: &str,
        user: &NewUser,
        groups: &'g [GroupEntry],
        joined: &mut Vec<&'g GroupEntry>,
    ) -> Result<Account, AdminError> {
        if let Some(password) = &user.password {
            self.write_password(dn, password).await?;
            if self.s.kind == ServerKind::ActiveDirectory {
                self.enable_new_ad_account(dn).await?;
            }
        }
        let attribute = member_attribute(&self.s);
        let placeholder = self.admin.empty_group_member.as_deref();
        for group in groups {
            let mods = members::add(attribute, &group.members, dn, placeholder).unwrap_or_default();
            self.modify("add the user to a group", &group.dn, mods)
                .await?;
            joined.push(group);
        }
        match self.lookup(&user.username).await? {
            Some(found) if found.entry.dn.eq_ignore_ascii_case(dn) => self.to_account(&found),
            _ => Err(AdminError::NoEffect(format!(
                "the gateway's user filter does not find the new entry {dn}; check \
                 [directory.ldap.admin] user_classes against [directory.ldap] user_filter"
            ))),
        }
    }

    /// Active Directory creates a user entry added over LDAP disabled (userAccountControl 546:
    /// ACCOUNTDISABLE and PASSWD_NOTREQD) and refuses to enable it before it has a password; once
    /// the password is set, the account becomes a normal enabled one. (Found against Samba AD:
    /// without this, a person added with a password could not log in.)
    async fn enable_new_ad_account(&self, dn: &str) -> Result<(), AdminError> {
        let mods = vec![Mod::Replace(
            USER_ACCOUNT_CONTROL.to_owned(),
            std::collections::HashSet::from([NORMAL_ACCOUNT.to_owned()]),
        )];
        self.modify("enable the new account", dn, mods).await
    }

    /// Takes back a half-added user: memberships first, then the entry.
    async fn undo_user(&self, dn: &str, joined: &[&GroupEntry]) -> Result<(), AdminError> {
        let attribute = member_attribute(&self.s);
        for group in joined {
            let mut after = group.members.clone();
            after.push(dn.to_owned());
            let placeholder = self.admin.empty_group_member.as_deref();
            if let Ok(mods) = members::remove(attribute, &after, dn, placeholder) {
                self.modify("take the user out of a group", &group.dn, mods)
                    .await?;
            }
        }
        self.delete_entry("delete the new user entry", dn).await
    }

    /// Sets a password; the server hashes it with its own scheme.
    pub(crate) async fn set_password(
        &self,
        username: &str,
        password: &Secret,
    ) -> Result<Account, AdminError> {
        let user = self.find(username).await?;
        self.write_password(&user.entry.dn, password).await?;
        self.to_account(&user)
    }

    /// OpenLDAP and 389-DS: the Password Modify extended operation (RFC 3062), so the server
    /// applies its hash scheme and password policy. Active Directory: `unicodePwd`, which it
    /// accepts only over an encrypted connection.
    async fn write_password(&self, dn: &str, password: &Secret) -> Result<(), AdminError> {
        const ACTION: &str = "set the password";
        match self.s.kind {
            ServerKind::ActiveDirectory => {
                if !self.encrypted() {
                    return Err(AdminError::NotConfigured(
                        "Active Directory accepts passwords only over an encrypted connection: \
                         use an ldaps:// URL or starttls = true"
                            .into(),
                    ));
                }
                let value = entries::unicode_pwd(password.expose());
                let mods = vec![Mod::Replace(
                    b"unicodePwd".to_vec(),
                    std::collections::HashSet::from([value]),
                )];
                self.modify(ACTION, dn, mods).await
            }
            ServerKind::OpenLdap => {
                let exop = PasswordModify {
                    user_id: Some(dn),
                    old_pass: None,
                    new_pass: Some(password.expose()),
                };
                self.ldap
                    .clone()
                    .with_timeout(self.s.operation_timeout)
                    .extended(exop)
                    .await
                    .and_then(|answer| answer.success())
                    .map(|_| ())
                    .map_err(|e| self.op_error(ACTION, e.into()))
            }
        }
    }

    /// Marks an account disabled or takes the mark away, then checks with the gateway's own
    /// search that it is refused (or admitted); a change without that effect is taken back.
    pub(crate) async fn set_disabled(
        &self,
        username: &str,
        disable: bool,
    ) -> Result<Account, AdminError> {
        let user = self.find(username).await?;
        if user.disabled == disable {
            return Err(AdminError::AlreadyInState {
                user: username.to_owned(),
                state: if disable { "disabled" } else { "enabled" },
            });
        }
        let dn = user.entry.dn.clone();
        let (change, undo) = match &self.admin.disable {
            None => {
                return Err(AdminError::NotConfigured(
                    "set disabled_attribute and disabled_value in [directory.ldap.admin] to a \
                     value that [directory.ldap] disabled_filter matches"
                        .into(),
                ));
            }
            Some(DisableMark::Value { attribute, value }) => {
                self.value_change(&dn, attribute, value, disable).await?
            }
            Some(DisableMark::AccountControl) => {
                let current = user.entry.text(USER_ACCOUNT_CONTROL).unwrap_or("512");
                let flags = current.trim().parse::<i64>().map_err(|_| {
                    AdminError::NoEffect(format!(
                        "{dn} has an unreadable userAccountControl {current:?}"
                    ))
                })?;
                let next = if disable {
                    flags | ACCOUNT_DISABLE
                } else {
                    flags & !ACCOUNT_DISABLE
                };
                let replace = |v: i64| {
                    vec![Mod::Replace(
                        USER_ACCOUNT_CONTROL.to_owned(),
                        std::collections::HashSet::from([v.to_string()]),
                    )]
                };
                (replace(next), replace(flags))
            }
        };
        let action = if disable {
            "disable the account"
        } else {
            "enable the account"
        };
        self.modify(action, &dn, change).await?;
        let after = self.find(username).await?;
        if after.disabled != disable {
            let undo = self.modify("undo the change", &dn, undo).await;
            let error = AdminError::NoEffect(format!(
                "the change did not make the gateway's disabled_filter {} {username:?}",
                if disable { "match" } else { "stop matching" }
            ));
            return Err(undo_failed(error, undo, "taking the change back"));
        }
        self.to_account(&after)
    }

    /// The modify that adds (disable) or removes (enable) the mark value, and the one that undoes
    /// it. Enabling an account that is disabled by anything else than the mark is refused.
    async fn value_change(
        &self,
        dn: &str,
        attribute: &str,
        value: &str,
        disable: bool,
    ) -> Result<(Vec<Mod<String>>, Vec<Mod<String>>), AdminError> {
        let one = |v: &str| std::collections::HashSet::from([v.to_owned()]);
        if self.s.disabled_filter.is_none() {
            return Err(AdminError::NotConfigured(format!(
                "[directory.ldap] has no disabled_filter, so the gateway would not refuse a marked \
                 account; add disabled_filter = \"({attribute}={value})\""
            )));
        }
        if disable {
            return Ok((
                vec![Mod::Add(attribute.to_owned(), one(value))],
                vec![Mod::Delete(attribute.to_owned(), one(value))],
            ));
        }
        let values = self.values(dn, attribute).await?;
        let Some(stored) = values.iter().find(|v| v.eq_ignore_ascii_case(value)) else {
            return Err(AdminError::NoEffect(format!(
                "{dn} is disabled by something other than {attribute}: {value} (the \
                 disabled_filter matches it otherwise); change that in the directory"
            )));
        };
        Ok((
            vec![Mod::Delete(attribute.to_owned(), one(stored))],
            vec![Mod::Add(attribute.to_owned(), one(stored))],
        ))
    }

    /// Takes the user out of every group that lists them, then deletes the entry; when the
    /// delete is refused, the memberships are put back. Memberships go first so that no group
    /// is left naming a deleted entry, and so that a server's refint overlay (which cleans up
    /// after a delete, in the background) has nothing to race with.
    pub(crate) async fn delete_user(&self, username: &str) -> Result<Account, AdminError> {
        let user = self.find(username).await?;
        let account = self.to_account(&user)?;
        let dn = user.entry.dn.clone();
        let attribute = member_attribute(&self.s);
        let placeholder = self.admin.empty_group_member.as_deref();
        let mut left: Vec<GroupEntry> = Vec::new();
        let mut outcome = Ok(());
        for group in self.groups_listing(&dn).await? {
            let Ok(mods) = members::remove(attribute, &group.members, &dn, placeholder) else {
                continue;
            };
            outcome = self
                .modify("take the user out of a group", &group.dn, mods)
                .await;
            if outcome.is_err() {
                break;
            }
            left.push(group);
        }
        if outcome.is_ok() {
            outcome = self.delete_entry("delete the user", &dn).await;
        }
        match outcome {
            Ok(()) => Ok(account),
            Err(error) => {
                let undo = self.rejoin(&dn, &left).await;
                Err(undo_failed(error, undo, "putting the memberships back"))
            }
        }
    }

    /// Puts `dn` back into `groups` (as they were before it was taken out).
    async fn rejoin(&self, dn: &str, groups: &[GroupEntry]) -> Result<(), AdminError> {
        let attribute = member_attribute(&self.s);
        let placeholder = self.admin.empty_group_member.as_deref();
        for group in groups {
            let now = members::without(&group.members, dn, placeholder);
            if let Ok(mods) = members::add(attribute, &now, dn, placeholder) {
                self.modify("put the user back into a group", &group.dn, mods)
                    .await?;
            }
        }
        Ok(())
    }
}
