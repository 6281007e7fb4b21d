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
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use pforte_directory::{FileSettings, GroupLookup, LdapSettings, Secret as LdapSecret, ServerKind};
use serde::Deserialize;
use toml::Spanned;

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
}

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

/// A problem found while validating `[directory]`: the key and what is wrong; `span` points into
/// the file when known.
pub struct Problem {
    /// Byte span in the config file.
    pub span: Option<std::ops::Range<usize>>,
    /// The dotted key.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl DirectorySection {
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
    Some(out)
}
