//! New entries as the admin tool writes them, built without a server so that the shapes are
//! tested: DNs with their value escaped (RFC 4514, so `,` `+` `=` in a name cannot make another
//! DN), the attributes of a person and of a group, and Active Directory's password encoding.
//!
//! A person is `uid=NAME,<users_dn>` with uid, cn (the display name), sn (its last word: `person`
//! requires a surname) and mail; on Active Directory `CN=NAME,<users_dn>` with sAMAccountName
//! and displayName. A group is `cn=NAME,<groups_dn>`, created with the placeholder member when
//! its class requires one (see [`super::members`]).

use std::collections::HashSet;

use ldap3::dn_escape;

use crate::admin::NewUser;

use super::super::settings::{GroupLookup, LdapSettings, ServerKind};
use super::settings::LdapAdminSettings;

/// Attributes of a new entry, in the order they are written.
pub(crate) type Attributes = Vec<(String, HashSet<String>)>;

/// The attribute that names a user in its DN.
fn user_rdn(s: &LdapSettings) -> &str {
    match s.kind {
        ServerKind::OpenLdap => &s.attributes.username,
        ServerKind::ActiveDirectory => "cn",
    }
}

/// The DN of a new user.
pub(crate) fn user_dn(s: &LdapSettings, admin: &LdapAdminSettings, username: &str) -> String {
    format!("{}={},{}", user_rdn(s), dn_escape(username), admin.users_dn)
}

/// The DN of a new group.
pub(crate) fn group_dn(s: &LdapSettings, admin: &LdapAdminSettings, name: &str) -> String {
    format!(
        "{}={},{}",
        s.attributes.group_name,
        dn_escape(name),
        admin.groups_dn
    )
}

/// The attribute of groups that lists members, as written (`memberOf` is kept by the server).
pub(crate) fn member_attribute(s: &LdapSettings) -> &str {
    s.groups
        .lookup
        .member_attribute()
        .unwrap_or(match s.groups.lookup {
            GroupLookup::UniqueMember => "uniqueMember",
            GroupLookup::MemberOf | GroupLookup::Member => "member",
        })
}

/// Collects attributes; an attribute set twice (the mapping may name `cn` for two fields)
/// keeps its first value.
#[derive(Default)]
struct Builder(Attributes);

impl Builder {
    fn set(&mut self, attribute: &str, values: impl IntoIterator<Item = String>) -> &mut Self {
        let taken = self
            .0
            .iter()
            .any(|(a, _)| a.eq_ignore_ascii_case(attribute));
        if !taken {
            self.0
                .push((attribute.to_owned(), values.into_iter().collect()));
        }
        self
    }
}

/// The surname for `person`'s required `sn`: the display name's last word.
fn surname(display_name: &str) -> String {
    display_name
        .split_whitespace()
        .last()
        .unwrap_or(display_name)
        .to_owned()
}

/// The attributes of a new user entry (the password is set afterwards, by the server).
pub(crate) fn user_attributes(
    s: &LdapSettings,
    admin: &LdapAdminSettings,
    user: &NewUser,
) -> Attributes {
    let a = &s.attributes;
    let mut b = Builder::default();
    b.set("objectClass", admin.user_classes.iter().cloned())
        .set(&a.username, [user.username.clone()])
        .set(user_rdn(s), [user.username.clone()])
        .set("cn", [user.display_name.clone()])
        .set("sn", [surname(&user.display_name)])
        .set(&a.display_name, [user.display_name.clone()]);
    if let Some(mail) = &user.email {
        b.set(&a.mail, [mail.clone()]);
    }
    b.0
}

/// The attributes of a new group: its name, and the placeholder member when one is configured.
pub(crate) fn group_attributes(
    s: &LdapSettings,
    admin: &LdapAdminSettings,
    name: &str,
) -> Attributes {
    let mut b = Builder::default();
    b.set("objectClass", admin.group_classes.iter().cloned())
        .set(&s.attributes.group_name, [name.to_owned()]);
    if s.kind == ServerKind::ActiveDirectory {
        b.set("sAMAccountName", [name.to_owned()]);
    }
    if let Some(placeholder) = &admin.empty_group_member {
        b.set(member_attribute(s), [placeholder.clone()]);
    }
    b.0
}

/// Active Directory's `unicodePwd` value: the password in double quotes, as UTF-16LE.
pub(crate) fn unicode_pwd(password: &str) -> Vec<u8> {
    format!("\"{password}\"")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn openldap() -> (LdapSettings, LdapAdminSettings) {
        let s = LdapSettings {
            base_dn: "dc=example,dc=org".into(),
            ..LdapSettings::default()
        };
        let admin = LdapAdminSettings::defaults(&s, "cn=admin,dc=example,dc=org");
        (s, admin)
    }

    fn frank() -> NewUser {
        NewUser {
            username: "frank".into(),
            display_name: "Frank Vincent Zappa".into(),
            email: Some("frank@example.org".into()),
            groups: Vec::new(),
            password: None,
        }
    }

    fn names(attrs: &Attributes) -> Vec<&str> {
        attrs.iter().map(|(a, _)| a.as_str()).collect()
    }

    fn value<'a>(attrs: &'a Attributes, name: &str) -> Vec<&'a str> {
        let mut v: Vec<&str> = attrs
            .iter()
            .find(|(a, _)| a == name)
            .map(|(_, v)| v.iter().map(String::as_str).collect())
            .unwrap_or_default();
        v.sort_unstable();
        v
    }

    #[test]
    fn dn_values_are_escaped_so_a_name_cannot_make_another_dn() {
        let (s, admin) = openldap();
        assert_eq!(
            user_dn(&s, &admin, "frank"),
            "uid=frank,ou=people,dc=example,dc=org"
        );
        assert_eq!(
            user_dn(&s, &admin, "a,ou=admins+cn=x"),
            "uid=a\\2cou\\3dadmins\\2bcn\\3dx,ou=people,dc=example,dc=org"
        );
        assert_eq!(
            group_dn(&s, &admin, " #lead "),
            "cn=\\20#lead\\20,ou=groups,dc=example,dc=org"
        );
        assert_eq!(
            group_dn(&s, &admin, "#lead"),
            "cn=\\23lead,ou=groups,dc=example,dc=org"
        );
    }

    #[test]
    fn a_person_is_an_inet_org_person_with_uid_cn_sn_and_mail() {
        let (s, admin) = openldap();
        let attrs = user_attributes(&s, &admin, &frank());
        assert_eq!(names(&attrs), ["objectClass", "uid", "cn", "sn", "mail"]);
        assert!(value(&attrs, "objectClass").contains(&"inetOrgPerson"));
        assert_eq!(value(&attrs, "cn"), ["Frank Vincent Zappa"]);
        assert_eq!(value(&attrs, "sn"), ["Zappa"]);
        assert_eq!(value(&attrs, "mail"), ["frank@example.org"]);
    }

    #[test]
    fn active_directory_names_people_by_cn_with_sam_account_name() {
        let s = LdapSettings {
            base_dn: "DC=ad".into(),
            ..LdapSettings::active_directory()
        };
        let admin = LdapAdminSettings::defaults(&s, "CN=admin,DC=ad");
        assert_eq!(user_dn(&s, &admin, "frank"), "cn=frank,CN=Users,DC=ad");
        let attrs = user_attributes(&s, &admin, &frank());
        assert_eq!(
            names(&attrs),
            [
                "objectClass",
                "sAMAccountName",
                "cn",
                "sn",
                "displayName",
                "mail"
            ]
        );
        assert_eq!(value(&attrs, "cn"), ["frank"]);
        let group = group_attributes(&s, &admin, "video");
        assert_eq!(names(&group), ["objectClass", "cn", "sAMAccountName"]);
    }

    #[test]
    fn a_new_group_of_names_holds_the_placeholder() {
        let (s, admin) = openldap();
        let attrs = group_attributes(&s, &admin, "video");
        assert_eq!(names(&attrs), ["objectClass", "cn", "member"]);
        assert_eq!(value(&attrs, "member"), [""]);
        assert_eq!(member_attribute(&s), "member");
    }

    #[test]
    fn unicode_pwd_is_quoted_utf16le() {
        assert_eq!(unicode_pwd("ab"), [0x22, 0, 0x61, 0, 0x62, 0, 0x22, 0]);
    }
}
