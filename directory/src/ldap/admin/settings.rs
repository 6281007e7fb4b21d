//! Settings of the admin account that `pforte-admin` binds as to change the directory: where new
//! entries go, which object classes they get, and how an account is marked disabled so that the
//! gateway's own rule (`disabled_filter`, or Active Directory's account control bit) refuses it.
//!
//! The gateway never binds as this account; it only carries the settings so that the admin tool
//! reads them from the same `gateway.toml`. The password is not part of them: the tool reads its
//! file, or asks for it, only when a command changes something.

use std::path::PathBuf;

use crate::nesting::normalise_dn;
use crate::settings::Problems;

use super::super::settings::{GroupLookup, LdapSettings, ServerKind, valid_attribute};

/// How the admin tool writes to the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapAdminSettings {
    /// The DN the tool binds as (the directory must let it add, modify and delete entries under
    /// `users_dn` and `groups_dn`, and set passwords).
    pub bind_dn: String,
    /// A file holding its password; `None` asks for it on the terminal, without echo.
    pub password_file: Option<PathBuf>,
    /// Where new users are created (must lie under the gateway's user base).
    pub users_dn: String,
    /// Where new groups are created (must lie under the gateway's group base).
    pub groups_dn: String,
    /// The object classes of a new user entry.
    pub user_classes: Vec<String>,
    /// The object classes of a new group entry.
    pub group_classes: Vec<String>,
    /// How `users disable` marks an account; `None` when the settings give no way the gateway
    /// would notice (the commands then say what to configure).
    pub disable: Option<DisableMark>,
    /// The member value a group keeps while it has no member: `groupOfNames` and
    /// `groupOfUniqueNames` require at least one. `None` for directories whose groups may be
    /// empty (Active Directory).
    pub empty_group_member: Option<String>,
}

/// How a disabled account is marked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisableMark {
    /// An attribute value that the gateway's `disabled_filter` matches (OpenLDAP, 389-DS), e.g.
    /// `employeeType: disabled`. It is added and removed as one value, so other values of the
    /// attribute (`employeeType: partner`) stay.
    Value {
        /// The attribute.
        attribute: String,
        /// The value.
        value: String,
    },
    /// Active Directory's ACCOUNTDISABLE bit of `userAccountControl`.
    AccountControl,
}

impl LdapAdminSettings {
    /// The defaults for the directory `s` with the admin `bind_dn`: OpenLDAP puts people under
    /// `ou=people` and groups under `ou=groups` of the base DN, as inetOrgPerson and groupOfNames
    /// (groupOfUniqueNames with `unique_member` lookups) and marks disabled accounts with the value
    /// the `disabled_filter` asks for when it is a plain `(attribute=value)`; Active Directory uses
    /// `CN=Users`, user and group entries, and the account control bit.
    pub fn defaults(s: &LdapSettings, bind_dn: impl Into<String>) -> Self {
        let base = &s.base_dn;
        match s.kind {
            ServerKind::OpenLdap => Self {
                bind_dn: bind_dn.into(),
                password_file: None,
                users_dn: format!("ou=people,{base}"),
                groups_dn: format!("ou=groups,{base}"),
                user_classes: names(&["top", "person", "organizationalPerson", "inetOrgPerson"]),
                group_classes: match s.groups.lookup {
                    GroupLookup::UniqueMember => names(&["top", "groupOfUniqueNames"]),
                    GroupLookup::MemberOf | GroupLookup::Member => names(&["top", "groupOfNames"]),
                },
                disable: s.disabled_filter.as_deref().and_then(equality).map(
                    |(attribute, value)| DisableMark::Value {
                        attribute: attribute.to_owned(),
                        value: value.to_owned(),
                    },
                ),
                empty_group_member: Some(String::new()),
            },
            ServerKind::ActiveDirectory => Self {
                bind_dn: bind_dn.into(),
                password_file: None,
                users_dn: format!("CN=Users,{base}"),
                groups_dn: format!("CN=Users,{base}"),
                user_classes: names(&["top", "person", "organizationalPerson", "user"]),
                group_classes: names(&["top", "group"]),
                disable: Some(DisableMark::AccountControl),
                empty_group_member: None,
            },
        }
    }

    /// Adds every problem to `p`, naming fields under `ldap.admin.`.
    pub(crate) fn check(&self, s: &LdapSettings, p: &mut Problems) {
        if self.bind_dn.trim().is_empty() {
            p.add("ldap.admin.bind_dn", "give the DN the admin tool binds as");
        }
        for (field, dn, base, what) in [
            ("users_dn", &self.users_dn, s.user_base(), "user_base"),
            ("groups_dn", &self.groups_dn, s.group_base(), "group_base"),
        ] {
            if !within(dn, base) {
                p.add(
                    format!("ldap.admin.{field}"),
                    format!(
                        "{dn:?} is not under {what} {base:?}: the gateway would not find what is created there"
                    ),
                );
            }
        }
        for (field, classes) in [
            ("user_classes", &self.user_classes),
            ("group_classes", &self.group_classes),
        ] {
            if classes.is_empty() || !classes.iter().all(|c| valid_attribute(c)) {
                p.add(
                    format!("ldap.admin.{field}"),
                    "give one or more object class names",
                );
            }
        }
        if let Some(DisableMark::Value { attribute, value }) = &self.disable {
            if !valid_attribute(attribute) {
                p.add(
                    "ldap.admin.disabled_attribute",
                    format!("{attribute:?} is not an attribute name"),
                );
            }
            if value.is_empty() {
                p.add("ldap.admin.disabled_value", "give the value to set");
            }
        }
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Whether `dn` is `base` or lies below it (compared without regard to ASCII case).
fn within(dn: &str, base: &str) -> bool {
    let (dn, base) = (normalise_dn(dn.trim()), normalise_dn(base.trim()));
    !dn.is_empty() && (base.is_empty() || dn == base || dn.ends_with(&format!(",{base}")))
}

/// `(attribute=value)` with a plain value: the attribute and the value.
fn equality(filter: &str) -> Option<(&str, &str)> {
    let inner = filter.trim().strip_prefix('(')?.strip_suffix(')')?;
    let (attribute, value) = inner.split_once('=')?;
    let plain = !value.is_empty() && !value.contains(['*', '(', ')', '\\', '=', '~', '<', '>']);
    (valid_attribute(attribute) && plain).then_some((attribute, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn openldap() -> LdapSettings {
        LdapSettings {
            base_dn: "dc=example,dc=org".into(),
            user_base: Some("ou=people,dc=example,dc=org".into()),
            disabled_filter: Some("(employeeType=disabled)".into()),
            ..LdapSettings::default()
        }
    }

    fn problems(admin: &LdapAdminSettings, s: &LdapSettings) -> Vec<String> {
        let mut p = Problems::default();
        admin.check(s, &mut p);
        p.finish()
            .err()
            .map(|e| e.0.into_iter().map(|p| p.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn the_disabled_mark_follows_a_plain_disabled_filter() {
        let s = openldap();
        let admin = LdapAdminSettings::defaults(&s, "cn=admin,dc=example,dc=org");
        assert_eq!(
            admin.disable,
            Some(DisableMark::Value {
                attribute: "employeeType".into(),
                value: "disabled".into()
            })
        );
        assert_eq!(admin.users_dn, "ou=people,dc=example,dc=org");
        assert_eq!(admin.empty_group_member.as_deref(), Some(""));
        assert!(problems(&admin, &s).is_empty());
        for complex in ["(!(active=TRUE))", "(pwdLocked=*)", "(&(a=b)(c=d))", "a=b"] {
            assert_eq!(equality(complex), None, "{complex}");
        }
    }

    #[test]
    fn active_directory_uses_the_account_control_bit() {
        let s = LdapSettings {
            base_dn: "DC=ad,DC=example".into(),
            ..LdapSettings::active_directory()
        };
        let admin = LdapAdminSettings::defaults(&s, "CN=admin,DC=ad,DC=example");
        assert_eq!(admin.disable, Some(DisableMark::AccountControl));
        assert_eq!(admin.empty_group_member, None);
        assert!(problems(&admin, &s).is_empty());
    }

    #[test]
    fn entries_outside_the_gateways_bases_are_refused() {
        let s = openldap();
        let admin = LdapAdminSettings {
            bind_dn: String::new(),
            users_dn: "ou=elsewhere,dc=example,dc=org".into(),
            user_classes: Vec::new(),
            disable: Some(DisableMark::Value {
                attribute: "employee type".into(),
                value: String::new(),
            }),
            ..LdapAdminSettings::defaults(&s, "x")
        };
        assert_eq!(
            problems(&admin, &s),
            [
                "ldap.admin.bind_dn",
                "ldap.admin.users_dn",
                "ldap.admin.user_classes",
                "ldap.admin.disabled_attribute",
                "ldap.admin.disabled_value",
            ]
        );
        assert!(within(
            "OU=People,dc=example,dc=org",
            "ou=people,DC=example,dc=org"
        ));
        assert!(within("uid=x,ou=people,dc=o", "dc=o"));
        assert!(!within("ou=xdc=o", "dc=o"));
    }
}
