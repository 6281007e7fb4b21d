//! One user: find the entry, decide whether it is disabled, map it to a [`UserRecord`].

use ldap3::{Ldap, Scope};

use crate::error::DirectoryError;
use crate::record::{UserRecord, normalise_groups};

use super::entry::{Entry, account_disabled, guid_to_uuid};
use super::filter;
use super::groups;
use super::search::{NO_ATTRIBUTES, OpError, Query, search};
use super::settings::{LdapSettings, ServerKind};

/// Active Directory's account control attribute.
pub(crate) const USER_ACCOUNT_CONTROL: &str = "userAccountControl";

/// A user's entry as the user search found it, kept in the cache: what the bind needs (the DN)
/// and what decides a refusal (the disabled flag), nothing that costs more before the password is
/// known. The groups are read from it only after a successful bind.
#[derive(Debug)]
pub(crate) struct UserEntry {
    /// The entry with the user attributes (memberOf included, the start of the group walk).
    pub(crate) entry: Entry,
    /// The account may not log in.
    pub(crate) disabled: bool,
}

/// The attributes a user search asks for.
pub(crate) fn attributes(s: &LdapSettings) -> Vec<&str> {
    let a = &s.attributes;
    let mut list = vec![
        a.subject.as_str(),
        a.username.as_str(),
        a.display_name.as_str(),
        a.mail.as_str(),
        a.member_of.as_str(),
    ];
    if s.kind == ServerKind::ActiveDirectory {
        list.push(USER_ACCOUNT_CONTROL);
    }
    list
}

/// Finds `username` (already checked) and whether it is disabled, both searches at once; `None`
/// when no entry matches. Known and unknown names cost the same: these two searches.
pub(crate) async fn find(
    s: &LdapSettings,
    ldap: Ldap,
    username: &str,
) -> Result<Option<UserEntry>, OpError> {
    find_with(s, ldap, username, &[]).await
}

/// [`find`], with `extra` attributes read too (second factors, object classes).
pub(crate) async fn find_with(
    s: &LdapSettings,
    ldap: Ldap,
    username: &str,
    extra: &[&str],
) -> Result<Option<UserEntry>, OpError> {
    let user_filter = filter::user(&s.user_filter, username);
    let mut attributes = attributes(s);
    attributes.extend_from_slice(extra);
    let query = Query {
        base: s.user_base(),
        scope: Scope::Subtree,
        filter: &user_filter,
        attributes: &attributes,
        limit: 2,
    };
    let entry = search(ldap.clone(), s.operation_timeout, query);
    let disabled = disabled_by_filter(s, ldap, &user_filter);
    let (found, disabled) = tokio::try_join!(entry, disabled)?;
    if found.truncated || found.entries.len() > 1 {
        return Err(DirectoryError::Ambiguous.into());
    }
    Ok(found.entries.into_iter().next().map(|entry| UserEntry {
        disabled: disabled || disabled_by_account_control(s, &entry),
        entry,
    }))
}

/// The login name of the entry whose subject attribute is `subject`, disabled or not; `None`
/// when no entry has it. The value is escaped into the filter (and, on Active Directory, is
/// the objectGUID's bytes), so no subject can widen the search.
pub(crate) async fn username_by_subject(
    s: &LdapSettings,
    ldap: Ldap,
    subject: &str,
) -> Result<Option<String>, OpError> {
    let a = &s.attributes;
    let by_subject = match s.kind {
        ServerKind::ActiveDirectory => match uuid::Uuid::parse_str(subject) {
            Ok(guid) => filter::equals_bytes(&a.subject, &guid.to_bytes_le()),
            Err(_) => return Ok(None),
        },
        ServerKind::OpenLdap => filter::equals(&a.subject, subject),
    };
    username_where(s, ldap, &by_subject).await
}

/// The login name of the entry whose mail attribute is `mail`, disabled or not; `None` when no
/// entry has it. The value is escaped into the filter, so no address can widen the search, and
/// two entries with one address are an error: a link must name one person.
pub(crate) async fn username_by_mail(
    s: &LdapSettings,
    ldap: Ldap,
    mail: &str,
) -> Result<Option<String>, OpError> {
    username_where(s, ldap, &filter::equals(&s.attributes.mail, mail)).await
}

/// The login name of the one user entry that `condition` (an escaped filter) matches, disabled
/// or not; `None` when none does, [`DirectoryError::Ambiguous`] when two do.
async fn username_where(
    s: &LdapSettings,
    ldap: Ldap,
    condition: &str,
) -> Result<Option<String>, OpError> {
    let a = &s.attributes;
    let both = filter::and(&filter::all_users(&s.user_filter), condition);
    let attributes = [a.username.as_str()];
    let query = Query {
        base: s.user_base(),
        scope: Scope::Subtree,
        filter: &both,
        attributes: &attributes,
        limit: 2,
    };
    let found = search(ldap, s.operation_timeout, query).await?;
    if found.truncated || found.entries.len() > 1 {
        return Err(DirectoryError::Ambiguous.into());
    }
    Ok(found
        .entries
        .first()
        .and_then(|entry| entry.text(&a.username))
        .map(str::to_owned))
}

/// The record of `user` with its groups: the group walk, run only for someone who may get in.
pub(crate) async fn with_groups(
    s: &LdapSettings,
    ldap: Ldap,
    user: &UserEntry,
) -> Result<UserRecord, OpError> {
    let groups = groups::of_user(s, ldap, &user.entry).await?;
    Ok(record(s, &user.entry, groups)?)
}

/// Whether the disabled filter, combined with the user's filter, matches the user.
async fn disabled_by_filter(
    s: &LdapSettings,
    ldap: Ldap,
    user_filter: &str,
) -> Result<bool, ldap3::LdapError> {
    let Some(disabled) = &s.disabled_filter else {
        return Ok(false);
    };
    let both = filter::and(user_filter, disabled);
    let query = Query {
        base: s.user_base(),
        scope: Scope::Subtree,
        filter: &both,
        attributes: NO_ATTRIBUTES,
        limit: 2,
    };
    Ok(!search(ldap, s.operation_timeout, query)
        .await?
        .entries
        .is_empty())
}

/// Active Directory's ACCOUNTDISABLE bit (other servers: never).
pub(crate) fn disabled_by_account_control(s: &LdapSettings, entry: &Entry) -> bool {
    s.kind == ServerKind::ActiveDirectory
        && entry
            .text(USER_ACCOUNT_CONTROL)
            .is_some_and(account_disabled)
}

/// Maps an entry to a record; subject and username are required, the rest has fallbacks.
pub(crate) fn record(
    s: &LdapSettings,
    entry: &Entry,
    groups: Vec<String>,
) -> Result<UserRecord, DirectoryError> {
    let a = &s.attributes;
    let missing = |attribute: &str| DirectoryError::MissingAttribute {
        dn: entry.dn.clone(),
        attribute: attribute.to_owned(),
    };
    let subject = match s.kind {
        ServerKind::ActiveDirectory => entry
            .values(&a.subject)
            .first()
            .and_then(|v| guid_to_uuid(v)),
        ServerKind::OpenLdap => entry.text(&a.subject).map(str::to_owned),
    }
    .ok_or_else(|| missing(&a.subject))?;
    let username = entry
        .text(&a.username)
        .ok_or_else(|| missing(&a.username))?;
    Ok(UserRecord {
        subject,
        username: username.to_owned(),
        display_name: entry.text(&a.display_name).unwrap_or(username).to_owned(),
        email: entry.text(&a.mail).map(str::to_owned),
        groups: normalise_groups(groups),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_openldap_entry_maps_with_fallbacks() {
        let s = LdapSettings::default();
        let entry = Entry::new(
            "uid=alice,ou=people",
            &[("entryUUID", &[b"0b1c"]), ("uid", &[b"alice"])],
        );
        let r = record(
            &s,
            &entry,
            vec!["staff".into(), "admins".into(), "staff".into()],
        )
        .unwrap();
        assert_eq!(r.subject, "0b1c");
        assert_eq!(r.display_name, "alice", "falls back to the username");
        assert_eq!(r.email, None);
        assert_eq!(r.groups, ["admins", "staff"]);
    }

    #[test]
    fn an_entry_without_subject_is_an_error_naming_the_attribute() {
        let s = LdapSettings::default();
        let entry = Entry::new("uid=x", &[("uid", &[b"x"])]);
        let err = record(&s, &entry, Vec::new()).unwrap_err();
        assert_eq!(
            err,
            DirectoryError::MissingAttribute {
                dn: "uid=x".into(),
                attribute: "entryUUID".into()
            }
        );
    }

    #[test]
    fn active_directory_subjects_and_disabled_accounts() {
        let s = LdapSettings::active_directory();
        let guid: &[u8] = &[0u8; 16];
        let entry = Entry::new(
            "CN=Eve,DC=ad",
            &[
                ("objectGUID", &[guid]),
                ("sAMAccountName", &[b"eve"]),
                ("displayName", &[b"Eve"]),
                ("userAccountControl", &[b"514"]),
            ],
        );
        let r = record(&s, &entry, Vec::new()).unwrap();
        assert_eq!(r.subject, "00000000-0000-0000-0000-000000000000");
        assert!(disabled_by_account_control(&s, &entry));
        assert!(!disabled_by_account_control(
            &LdapSettings::default(),
            &entry
        ));
    }
}
