//! `[directory]`: where people and their groups come from. The file struct mirrors what operators
//! write; [`DirectorySection::validate`] turns it into the directory crate's runtime settings,
//! reading the service account's password from its secret source and reporting every problem
//! with its key.
//!
//! ```toml
//! [directory]
//! backend = "ldap"                       # or "file" (the demo's default)
//! [directory.ldap]
//! urls = ["ldaps://ldap1.example.org", "ldaps://ldap2.example.org"]
//! bind_dn = "cn=pforte,ou=services,dc=example,dc=org"
//! bind_password = { file = "/etc/pforte/secrets/ldap-password" }
//! base_dn = "dc=example,dc=org"
//! [directory.ldap.admin]                 # only for pforte-admin's changes; the gateway never binds as it
//! bind_dn = "cn=admin,dc=example,dc=org"
//! bind_password_file = "/etc/pforte/secrets/ldap-admin"   # without it, pforte-admin asks
//! ```
//!
//! The admin password file is read by `pforte-admin` when a command changes the directory, never
//! by the gateway, so the gateway's user need not be able to read it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pforte_directory::{
    DisableMark, FileSettings, GroupLookup, LdapAdminSettings, LdapSettings, Secret as LdapSecret,
    ServerKind,
};
use serde::Deserialize;
use toml::Spanned;

/// Where [`DirectorySection::validate`]'s problems are described (kept here for older paths).
pub use super::error::Problem;
use super::secret::SecretSource;

/// The runtime choice of backend, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryConfig {
    /// A people file.
    File(FileSettings),
    /// LDAP servers.
    Ldap(Box<LdapSettings>),
}

/// `[directory]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectorySection {
    /// `file` or `ldap`.
    pub backend: Spanned<Backend>,
    /// The people file, for `backend = "file"`.
    pub file: Option<Spanned<PathBuf>>,
    /// The LDAP settings, for `backend = "ldap"`.
    pub ldap: Option<Spanned<LdapSection>>,
    /// How often a session's identity is read again (default 5 minutes).
    #[serde(default, with = "humantime_serde")]
    pub refresh_interval: Option<Duration>,
    /// How long a due refresh may fail for an outage before the session is refused (default
    /// 15 minutes).
    #[serde(default, with = "humantime_serde")]
    pub refresh_grace: Option<Duration>,
}

/// How sessions follow the directory: each session's identity (enabled, groups, name, mail)
/// is read again `interval` after it was last read, on its next request; while the directory
/// cannot answer, the last identity serves for `grace` past the due time, then the session is
/// refused until the directory answers. An outage is neither a lock-out nor a way to keep
/// access for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectoryRefresh {
    /// Time between two reads of a session's identity.
    pub interval: Duration,
    /// How long past its due time an identity serves while the directory cannot be read.
    pub grace: Duration,
}

impl Default for DirectoryRefresh {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5 * 60),
            grace: Duration::from_secs(15 * 60),
        }
    }
}

/// The shortest refresh interval: more often would put a search per request on the directory.
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

/// The longest refresh interval or grace: a disabled person keeps access at most this long.
const MAX_REFRESH: Duration = Duration::from_secs(24 * 3600);

/// The directory backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// A TOML people file with argon2id hashes.
    File,
    /// LDAP (OpenLDAP, 389-DS, Active Directory).
    Ldap,
}

/// `[directory.ldap]`; every key but the connection ones has the preset's default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapSection {
    /// `openldap` (default) or `active_directory`: the defaults of the keys below.
    #[serde(default)]
    pub preset: Preset,
    /// Servers in order of preference.
    pub urls: Vec<String>,
    /// StartTLS on `ldap://` URLs.
    pub starttls: Option<bool>,
    /// CA file for the servers' certificates.
    pub ca_file: Option<PathBuf>,
    /// The service account.
    pub bind_dn: String,
    /// Its password.
    pub bind_password: Spanned<SecretSource>,
    /// The directory's base DN.
    pub base_dn: String,
    /// Where users live.
    pub user_base: Option<String>,
    /// The filter that finds a user, with `{username}`.
    pub user_filter: Option<String>,
    /// A filter that matches disabled accounts.
    pub disabled_filter: Option<String>,
    /// `member_of`, `member` or `unique_member`.
    pub group_lookup: Option<GroupLookupName>,
    /// Where groups live.
    pub group_base: Option<String>,
    /// The filter that matches group entries.
    pub group_filter: Option<String>,
    /// Follow nested groups.
    pub nested_groups: Option<bool>,
    /// Active Directory's in-chain matching rule.
    pub in_chain: Option<bool>,
    /// Deepest nesting followed.
    pub max_depth: Option<usize>,
    /// Attribute names.
    #[serde(default)]
    pub attributes: AttributesSection,
    /// Time to connect.
    #[serde(default, with = "humantime_serde")]
    pub connect_timeout: Option<Duration>,
    /// Time for one operation.
    #[serde(default, with = "humantime_serde")]
    pub operation_timeout: Option<Duration>,
    /// Service connections.
    pub pool_size: Option<usize>,
    /// Connections for password checks.
    pub bind_pool_size: Option<usize>,
    /// How long lookups are cached.
    #[serde(default, with = "humantime_serde")]
    pub cache_ttl: Option<Duration>,
    /// How long a failed server is skipped.
    #[serde(default, with = "humantime_serde")]
    pub retry_interval: Option<Duration>,
    /// The account `pforte-admin` changes the directory with.
    pub admin: Option<Spanned<AdminSection>>,
}

/// `[directory.ldap.admin]`: every key but `bind_dn` has the preset's default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSection {
    /// The DN that may add, change and delete people and groups.
    pub bind_dn: String,
    /// A file with its password; without it `pforte-admin` asks on the terminal.
    pub bind_password_file: Option<PathBuf>,
    /// Where new users go (default `ou=people,<base_dn>`; AD `CN=Users,<base_dn>`).
    pub users_dn: Option<String>,
    /// Where new groups go (default `ou=groups,<base_dn>`; AD `CN=Users,<base_dn>`).
    pub groups_dn: Option<String>,
    /// Object classes of a new user.
    pub user_classes: Option<Vec<String>>,
    /// Object classes of a new group.
    pub group_classes: Option<Vec<String>>,
    /// The attribute `users disable` adds a value to (default: from a plain `disabled_filter`).
    pub disabled_attribute: Option<String>,
    /// The value it adds.
    pub disabled_value: Option<String>,
    /// The member value of a group without members (default the empty DN; AD: none).
    pub empty_group_member: Option<String>,
}

/// The defaults a `[directory.ldap]` starts from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// OpenLDAP, 389-DS: uid, entryUUID, memberOf.
    #[default]
    Openldap,
    /// Active Directory: sAMAccountName, objectGUID, nested groups in one search.
    ActiveDirectory,
}

/// How memberships are stored, as written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupLookupName {
    /// `memberOf` on users and groups.
    MemberOf,
    /// `member` on groups.
    Member,
    /// `uniqueMember` on groups.
    UniqueMember,
}

/// `[directory.ldap.attributes]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributesSection {
    /// Stable id.
    pub subject: Option<String>,
    /// Login name.
    pub username: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Mail address.
    pub mail: Option<String>,
    /// A group's short name.
    pub group_name: Option<String>,
    /// The membership attribute.
    pub member_of: Option<String>,
}

impl DirectorySection {
    /// The refresh interval and grace, each within its bounds.
    pub fn refresh(&self) -> Result<DirectoryRefresh, Vec<Problem>> {
        let defaults = DirectoryRefresh::default();
        let refresh = DirectoryRefresh {
            interval: self.refresh_interval.unwrap_or(defaults.interval),
            grace: self.refresh_grace.unwrap_or(defaults.grace),
        };
        let mut problems = Vec::new();
        if !(MIN_REFRESH_INTERVAL..=MAX_REFRESH).contains(&refresh.interval) {
            problems.push(Problem {
                // The durations carry no span of their own: the table's `backend` line is the
                // nearest place to point at.
                span: Some(self.backend.span()),
                key: "directory.refresh_interval".into(),
                message: "between 10s and 24h (how long a disabled person keeps access)".into(),
            });
        }
        if refresh.grace > MAX_REFRESH {
            problems.push(Problem {
                // The durations carry no span of their own: the table's `backend` line is the
                // nearest place to point at.
                span: Some(self.backend.span()),
                key: "directory.refresh_grace".into(),
                message: "at most 24h (how long an outage keeps the last identity)".into(),
            });
        }
        if problems.is_empty() {
            Ok(refresh)
        } else {
            Err(problems)
        }
    }

    /// The runtime settings; relative paths are resolved against `base`.
    pub fn validate(&self, base: &Path) -> Result<DirectoryConfig, Vec<Problem>> {
        let mut problems = Vec::new();
        let config = match self.backend.get_ref() {
            Backend::File => match &self.file {
                Some(path) => Some(DirectoryConfig::File(FileSettings {
                    path: base.join(path.get_ref()),
                })),
                None => {
                    problems.push(Problem {
                        span: Some(self.backend.span()),
                        key: "directory.file".into(),
                        message: "backend = \"file\" needs file = \"people.toml\"".into(),
                    });
                    None
                }
            },
            Backend::Ldap => match &self.ldap {
                Some(ldap) => ldap_settings(ldap, base, &mut problems)
                    .map(|s| DirectoryConfig::Ldap(Box::new(s))),
                None => {
                    problems.push(Problem {
                        span: Some(self.backend.span()),
                        key: "directory.ldap".into(),
                        message: "backend = \"ldap\" needs a [directory.ldap] table".into(),
                    });
                    None
                }
            },
        };
        match config {
            Some(config) if problems.is_empty() => {
                let checked = match &config {
                    DirectoryConfig::File(settings) => settings.validate(),
                    DirectoryConfig::Ldap(settings) => settings.validate(),
                };
                match checked {
                    Ok(()) => Ok(config),
                    Err(errors) => Err(errors
                        .0
                        .into_iter()
                        .map(|p| Problem {
                            span: None,
                            key: format!("directory.{}", p.field.trim_start_matches("directory.")),
                            message: p.message,
                        })
                        .collect()),
                }
            }
            _ => Err(problems),
        }
    }
}

fn ldap_settings(
    section: &Spanned<LdapSection>,
    base: &Path,
    problems: &mut Vec<Problem>,
) -> Option<LdapSettings> {
    let s = section.get_ref();
    let password = match s.bind_password.get_ref().read(base) {
        Ok(secret) => secret,
        Err(e) => {
            problems.push(Problem {
                span: Some(s.bind_password.span()),
                key: "directory.ldap.bind_password".into(),
                message: e.to_string(),
            });
            return None;
        }
    };
    let mut out = match s.preset {
        Preset::Openldap => LdapSettings::default(),
        Preset::ActiveDirectory => LdapSettings::active_directory(),
    };
    out.urls = s.urls.clone();
    out.starttls = s.starttls.unwrap_or(out.starttls);
    out.ca_file = s.ca_file.as_ref().map(|f| base.join(f));
    out.bind_dn = s.bind_dn.clone();
    out.bind_password = LdapSecret::new(password.expose());
    out.base_dn = s.base_dn.clone();
    out.user_base = s.user_base.clone().or(out.user_base);
    if let Some(filter) = &s.user_filter {
        out.user_filter = filter.clone();
    }
    out.disabled_filter = s.disabled_filter.clone().or(out.disabled_filter);
    out.kind = match s.preset {
        Preset::Openldap => ServerKind::OpenLdap,
        Preset::ActiveDirectory => ServerKind::ActiveDirectory,
    };
    if let Some(lookup) = s.group_lookup {
        out.groups.lookup = match lookup {
            GroupLookupName::MemberOf => GroupLookup::MemberOf,
            GroupLookupName::Member => GroupLookup::Member,
            GroupLookupName::UniqueMember => GroupLookup::UniqueMember,
        };
    }
    out.groups.base = s.group_base.clone().or(out.groups.base);
    if let Some(filter) = &s.group_filter {
        out.groups.filter = filter.clone();
    }
    out.groups.nested = s.nested_groups.unwrap_or(out.groups.nested);
    out.groups.in_chain = s.in_chain.unwrap_or(out.groups.in_chain);
    out.groups.max_depth = s.max_depth.unwrap_or(out.groups.max_depth);
    let a = &s.attributes;
    for (value, slot) in [
        (&a.subject, &mut out.attributes.subject),
        (&a.username, &mut out.attributes.username),
        (&a.display_name, &mut out.attributes.display_name),
        (&a.mail, &mut out.attributes.mail),
        (&a.group_name, &mut out.attributes.group_name),
        (&a.member_of, &mut out.attributes.member_of),
    ] {
        if let Some(value) = value {
            value.clone_into(slot);
        }
    }
    out.connect_timeout = s.connect_timeout.unwrap_or(out.connect_timeout);
    out.operation_timeout = s.operation_timeout.unwrap_or(out.operation_timeout);
    out.pool_size = s.pool_size.unwrap_or(out.pool_size);
    out.bind_pool_size = s.bind_pool_size.unwrap_or(out.bind_pool_size);
    out.cache_ttl = s.cache_ttl.unwrap_or(out.cache_ttl);
    out.retry_interval = s.retry_interval.unwrap_or(out.retry_interval);
    if let Some(admin) = &s.admin {
        out.admin = Some(admin_settings(admin, &out, base, problems)?);
    }
    Some(out)
}

/// The admin settings: the preset's defaults for `ldap`, with the section's keys over them.
fn admin_settings(
    section: &Spanned<AdminSection>,
    ldap: &LdapSettings,
    base: &Path,
    problems: &mut Vec<Problem>,
) -> Option<LdapAdminSettings> {
    let a = section.get_ref();
    let mut out = LdapAdminSettings::defaults(ldap, a.bind_dn.clone());
    out.password_file = a.bind_password_file.as_ref().map(|f| base.join(f));
    if let Some(dn) = &a.users_dn {
        dn.clone_into(&mut out.users_dn);
    }
    if let Some(dn) = &a.groups_dn {
        dn.clone_into(&mut out.groups_dn);
    }
    if let Some(classes) = &a.user_classes {
        classes.clone_into(&mut out.user_classes);
    }
    if let Some(classes) = &a.group_classes {
        classes.clone_into(&mut out.group_classes);
    }
    match (&a.disabled_attribute, &a.disabled_value) {
        (Some(attribute), Some(value)) => {
            out.disable = Some(DisableMark::Value {
                attribute: attribute.clone(),
                value: value.clone(),
            });
        }
        (None, None) => {}
        _ => {
            problems.push(Problem {
                span: Some(section.span()),
                key: "directory.ldap.admin.disabled_attribute".into(),
                message: "give disabled_attribute and disabled_value together".into(),
            });
            return None;
        }
    }
    if a.empty_group_member.is_some() {
        out.empty_group_member.clone_from(&a.empty_group_member);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(admin: &str) -> Result<DirectoryConfig, Vec<String>> {
        let text = format!(
            "backend = \"ldap\"\n[ldap]\nurls = [\"ldap://127.0.0.1:389\"]\n\
             bind_dn = \"cn=pforte,dc=example,dc=org\"\nbind_password = {{ env = \"PATH\" }}\n\
             base_dn = \"dc=example,dc=org\"\nuser_base = \"ou=people,dc=example,dc=org\"\n\
             disabled_filter = \"(employeeType=disabled)\"\n{admin}"
        );
        let section: DirectorySection = toml::from_str(&text).unwrap();
        section
            .validate(Path::new("/etc/pforte"))
            .map_err(|problems| problems.into_iter().map(|p| p.key).collect())
    }

    fn admin(config: DirectoryConfig) -> LdapAdminSettings {
        match config {
            DirectoryConfig::Ldap(settings) => settings.admin.unwrap(),
            DirectoryConfig::File(_) => panic!("not ldap"),
        }
    }

    #[test]
    fn the_admin_section_takes_the_presets_defaults() {
        assert_eq!(
            validate("").map(|c| matches!(c, DirectoryConfig::Ldap(s) if s.admin.is_none())),
            Ok(true)
        );
        let a = admin(
            validate("[ldap.admin]\nbind_dn = \"cn=admin,dc=example,dc=org\"\nbind_password_file = \"admin-pw\"\n")
                .unwrap(),
        );
        assert_eq!(a.password_file, Some(PathBuf::from("/etc/pforte/admin-pw")));
        assert_eq!(a.users_dn, "ou=people,dc=example,dc=org");
        assert_eq!(
            a.disable,
            Some(DisableMark::Value {
                attribute: "employeeType".into(),
                value: "disabled".into()
            })
        );
        let a = admin(
            validate(
                "[ldap.admin]\nbind_dn = \"cn=admin,dc=example,dc=org\"\ndisabled_attribute = \"pwdLocked\"\n\
                 disabled_value = \"TRUE\"\nempty_group_member = \"cn=nobody,dc=example,dc=org\"\n",
            )
            .unwrap(),
        );
        assert_eq!(
            a.disable,
            Some(DisableMark::Value {
                attribute: "pwdLocked".into(),
                value: "TRUE".into()
            })
        );
        assert_eq!(
            a.empty_group_member.as_deref(),
            Some("cn=nobody,dc=example,dc=org")
        );
    }

    #[test]
    fn admin_problems_name_their_keys() {
        assert_eq!(
            validate("[ldap.admin]\nbind_dn = \"cn=admin\"\ndisabled_attribute = \"x\"\n").err(),
            Some(vec!["directory.ldap.admin.disabled_attribute".to_string()])
        );
        assert_eq!(
            validate("[ldap.admin]\nbind_dn = \"cn=admin\"\nusers_dn = \"ou=elsewhere,dc=example,dc=org\"\n").err(),
            Some(vec!["directory.ldap.admin.users_dn".to_string()])
        );
    }
}
