//! The LDAP backend's runtime settings, with OpenLDAP and Active Directory presets.

use std::path::PathBuf;
use std::time::Duration;

use crate::settings::{Problems, Secret, SettingsErrors};

use super::admin::LdapAdminSettings;
use super::filter;

/// How to reach the directory and how its entries map to a [`UserRecord`](crate::UserRecord).
/// `Default` is an OpenLDAP layout with the server, base and service account left empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapSettings {
    /// Servers in order of preference (`ldap://host:389`, `ldaps://host:636`): the first that
    /// answers is used; one that fails is skipped for `retry_interval`.
    pub urls: Vec<String>,
    /// Upgrade `ldap://` connections with StartTLS (ldaps:// URLs use TLS from the start).
    pub starttls: bool,
    /// PEM file of the CA(s) that signed the servers' certificates; `None` trusts the system's.
    pub ca_file: Option<PathBuf>,
    /// The service account the gateway searches as.
    pub bind_dn: String,
    /// The service account's password (never empty: that would be an anonymous bind).
    pub bind_password: Secret,
    /// The directory's base DN.
    pub base_dn: String,
    /// Where users live; `None` searches the whole base DN.
    pub user_base: Option<String>,
    /// The filter that finds a user; `{username}` is replaced by the typed name, escaped.
    pub user_filter: String,
    /// A filter that matches disabled accounts (e.g. `(employeeType=disabled)`); such accounts are
    /// refused even with the right password. Active Directory's userAccountControl bit is
    /// checked anyway.
    pub disabled_filter: Option<String>,
    /// The server family, for the few things that differ (binary objectGUID, account control).
    pub kind: ServerKind,
    /// How group memberships are found.
    pub groups: GroupSettings,
    /// Which attributes fill which fields.
    pub attributes: AttributeMap,
    /// Limit for establishing one connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Limit for one operation (search or bind) and for waiting on a free pooled connection.
    pub operation_timeout: Duration,
    /// Connections bound as the service account, for searches.
    pub pool_size: usize,
    /// Connections for checking users' passwords (never the service connections, whose identity
    /// a user bind would replace); reused from one login to the next.
    pub bind_pool_size: usize,
    /// How long a user search (entry and disabled flag, or "no such user") and a user's groups
    /// are reused, and so how long a change in the directory, a new account included, may take to
    /// show; password checks are never cached.
    pub cache_ttl: Duration,
    /// At most this many user searches, and this many users' groups, are cached.
    pub cache_capacity: usize,
    /// How long a server that failed is skipped before it is tried again.
    pub retry_interval: Duration,
    /// Most users `users()` lists; more is an error rather than a silently partial list.
    pub users_limit: usize,
    /// The account `pforte-admin` binds as to change the directory; `None` leaves the directory
    /// read-only for the tool. The gateway itself never uses it.
    pub admin: Option<LdapAdminSettings>,
}

/// The server family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServerKind {
    /// OpenLDAP and other RFC 4519 directories: entryUUID, inetOrgPerson.
    #[default]
    OpenLdap,
    /// Active Directory: objectGUID (binary), sAMAccountName, userAccountControl.
    ActiveDirectory,
}

/// How a user's groups are found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSettings {
    /// Where the memberships are written.
    pub lookup: GroupLookup,
    /// Where groups live; `None` searches the whole base DN.
    pub base: Option<String>,
    /// The filter that matches group entries (for listing every group in `users()`).
    pub filter: String,
    /// Follow groups that are members of groups.
    pub nested: bool,
    /// Ask Active Directory for all nested groups in one search (matching rule
    /// 1.2.840.113556.1.4.1941); OpenLDAP does not implement it.
    pub in_chain: bool,
    /// Deepest nesting followed; deeper groups are an error (loops are detected anyway).
    pub max_depth: usize,
}

/// Where group memberships are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupLookup {
    /// In a `memberOf` attribute of users and groups (OpenLDAP's memberof overlay, AD).
    #[default]
    MemberOf,
    /// In a `member` attribute of groups (groupOfNames, AD groups): found by searching groups.
    Member,
    /// In a `uniqueMember` attribute of groups (groupOfUniqueNames).
    UniqueMember,
}

impl GroupLookup {
    /// The group attribute that lists members, for the search modes.
    pub(crate) fn member_attribute(self) -> Option<&'static str> {
        match self {
            Self::MemberOf => None,
            Self::Member => Some("member"),
            Self::UniqueMember => Some("uniqueMember"),
        }
    }
}

/// Which attribute fills which field of a user or group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeMap {
    /// Stable id (entryUUID; objectGUID on AD).
    pub subject: String,
    /// Login name (uid; sAMAccountName on AD).
    pub username: String,
    /// Display name (cn; displayName on AD).
    pub display_name: String,
    /// Mail address.
    pub mail: String,
    /// A group's short name.
    pub group_name: String,
    /// The attribute of users and groups listing their groups.
    pub member_of: String,
}

/// Attribute names: letters, digits, hyphens (and an OID's dots), with options after `;`.
pub(crate) fn valid_attribute(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ';'))
}

impl Default for LdapSettings {
    fn default() -> Self {
        Self {
            urls: Vec::new(),
            starttls: false,
            ca_file: None,
            bind_dn: String::new(),
            bind_password: Secret::default(),
            base_dn: String::new(),
            user_base: None,
            user_filter: "(&(objectClass=inetOrgPerson)(uid={username}))".into(),
            disabled_filter: None,
            kind: ServerKind::OpenLdap,
            groups: GroupSettings {
                lookup: GroupLookup::MemberOf,
                base: None,
                filter: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group))"
                    .into(),
                nested: true,
                in_chain: false,
                max_depth: 8,
            },
            attributes: AttributeMap {
                subject: "entryUUID".into(),
                username: "uid".into(),
                display_name: "cn".into(),
                mail: "mail".into(),
                group_name: "cn".into(),
                member_of: "memberOf".into(),
            },
            connect_timeout: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(10),
            pool_size: 4,
            bind_pool_size: 8,
            cache_ttl: Duration::from_secs(30),
            cache_capacity: 10_000,
            retry_interval: Duration::from_secs(30),
            users_limit: 10_000,
            admin: None,
        }
    }
}

impl LdapSettings {
    /// Active Directory's layout: sAMAccountName logins, objectGUID subjects, groups through the
    /// in-chain matching rule, and the account control bit for disabled accounts.
    pub fn active_directory() -> Self {
        let base = Self::default();
        Self {
            user_filter: "(&(objectCategory=person)(objectClass=user)(sAMAccountName={username}))"
                .into(),
            kind: ServerKind::ActiveDirectory,
            groups: GroupSettings {
                lookup: GroupLookup::Member,
                in_chain: true,
                ..base.groups.clone()
            },
            attributes: AttributeMap {
                subject: "objectGUID".into(),
                username: "sAMAccountName".into(),
                display_name: "displayName".into(),
                ..base.attributes.clone()
            },
            ..base
        }
    }

    /// Where users are searched.
    pub(crate) fn user_base(&self) -> &str {
        self.user_base.as_deref().unwrap_or(&self.base_dn)
    }

    /// Where groups are searched.
    pub(crate) fn group_base(&self) -> &str {
        self.groups.base.as_deref().unwrap_or(&self.base_dn)
    }

    /// Every problem at once, each naming its field under `ldap.`.
    pub fn validate(&self) -> Result<(), SettingsErrors> {
        let mut p = Problems::default();
        self.validate_servers(&mut p);
        self.validate_directory(&mut p);
        self.validate_limits(&mut p);
        if let Some(admin) = &self.admin {
            admin.check(self, &mut p);
        }
        p.finish()
    }

    fn validate_servers(&self, p: &mut Problems) {
        if self.urls.is_empty() {
            p.add(
                "ldap.urls",
                "give at least one server, e.g. ldaps://ldap.example.org",
            );
        }
        for (i, url) in self.urls.iter().enumerate() {
            let field = format!("ldap.urls[{i}]");
            match parse_url(url) {
                None => p.add(field, format!("{url:?} is not an ldap:// or ldaps:// URL with a host")),
                Some((true, _)) if self.starttls => p.add(
                    field,
                    "starttls applies to ldap:// URLs; ldaps:// already uses TLS",
                ),
                Some((false, host)) if !self.starttls && !is_loopback(host) => p.add(
                    field,
                    "ldap:// without starttls sends passwords in clear text; use ldaps:// or starttls = true",
                ),
                Some(_) => {}
            }
        }
        if self.bind_dn.trim().is_empty() {
            p.add("ldap.bind_dn", "give the service account's DN");
        }
        if self.bind_password.expose().is_empty() {
            p.add(
                "ldap.bind_password",
                "empty: the server would take it as an anonymous bind; give the service account's password",
            );
        }
    }

    fn validate_directory(&self, p: &mut Problems) {
        if self.base_dn.trim().is_empty() {
            p.add(
                "ldap.base_dn",
                "give the directory's base DN, e.g. dc=example,dc=org",
            );
        }
        if let Err(e) = filter::check_user_template(&self.user_filter) {
            p.add("ldap.user_filter", e);
        }
        if let Some(f) = &self.disabled_filter
            && let Err(e) = filter::check(f)
        {
            p.add("ldap.disabled_filter", e);
        }
        if let Err(e) = filter::check(&self.groups.filter) {
            p.add("ldap.groups.filter", e);
        }
        if self.groups.in_chain && !self.groups.nested {
            p.add("ldap.groups.in_chain", "needs nested = true");
        }
        if self.groups.in_chain && self.groups.lookup == GroupLookup::UniqueMember {
            p.add("ldap.groups.in_chain", "works on member, not uniqueMember");
        }
        if self.groups.nested && self.groups.max_depth == 0 {
            p.add(
                "ldap.groups.max_depth",
                "must be at least 1 with nested groups",
            );
        }
        let a = &self.attributes;
        for (field, name) in [
            ("subject", &a.subject),
            ("username", &a.username),
            ("display_name", &a.display_name),
            ("mail", &a.mail),
            ("group_name", &a.group_name),
            ("member_of", &a.member_of),
        ] {
            if !valid_attribute(name) {
                p.add(
                    format!("ldap.attributes.{field}"),
                    format!("{name:?} is not an attribute name"),
                );
            }
        }
    }

    fn validate_limits(&self, p: &mut Problems) {
        for (field, d) in [
            ("ldap.connect_timeout", self.connect_timeout),
            ("ldap.operation_timeout", self.operation_timeout),
        ] {
            if d.is_zero() {
                p.add(field, "must be more than zero");
            }
        }
        for (field, n) in [
            ("ldap.pool_size", self.pool_size),
            ("ldap.bind_pool_size", self.bind_pool_size),
        ] {
            if n == 0 {
                p.add(field, "must be at least 1");
            }
        }
        if self.users_limit == 0 || i32::try_from(self.users_limit).is_err() {
            p.add("ldap.users_limit", "must be between 1 and 2147483647");
        }
    }
}

/// `(is ldaps, host)` of an LDAP URL, or `None` when it is not one.
fn parse_url(url: &str) -> Option<(bool, &str)> {
    let (tls, rest) = if let Some(rest) = url.strip_prefix("ldaps://") {
        (true, rest)
    } else {
        (false, url.strip_prefix("ldap://")?)
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    (!host.is_empty()).then_some((tls, host))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> LdapSettings {
        LdapSettings {
            urls: vec![
                "ldaps://ldap.example.org".into(),
                "ldap://127.0.0.1:389".into(),
            ],
            bind_dn: "cn=pforte,dc=example,dc=org".into(),
            bind_password: Secret::new("pfortepw"),
            base_dn: "dc=example,dc=org".into(),
            ..LdapSettings::default()
        }
    }

    fn fields(s: &LdapSettings) -> Vec<String> {
        match s.validate() {
            Ok(()) => Vec::new(),
            Err(e) => e.0.into_iter().map(|p| p.field).collect(),
        }
    }

    #[test]
    fn presets_are_valid_once_the_server_is_filled_in() {
        assert_eq!(fields(&valid()), Vec::<String>::new());
        let ad = LdapSettings {
            urls: vec!["ldaps://dc1.example.org".into()],
            bind_dn: "CN=pforte,DC=example,DC=org".into(),
            bind_password: Secret::new("x"),
            base_dn: "DC=example,DC=org".into(),
            ..LdapSettings::active_directory()
        };
        assert_eq!(fields(&ad), Vec::<String>::new());
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let s = LdapSettings {
            urls: vec!["http://x".into(), "ldap://ldap.example.org".into()],
            bind_password: Secret::default(),
            user_filter: "(uid=alice)".into(),
            disabled_filter: Some("(employeeType=disabled".into()),
            pool_size: 0,
            operation_timeout: Duration::ZERO,
            ..LdapSettings::default()
        };
        assert_eq!(
            fields(&s),
            [
                "ldap.urls[0]",
                "ldap.urls[1]",
                "ldap.bind_dn",
                "ldap.bind_password",
                "ldap.base_dn",
                "ldap.user_filter",
                "ldap.disabled_filter",
                "ldap.operation_timeout",
                "ldap.pool_size",
            ]
        );
    }

    #[test]
    fn group_options_that_contradict_each_other_are_refused() {
        let mut s = valid();
        s.groups.in_chain = true;
        s.groups.nested = false;
        s.groups.lookup = GroupLookup::UniqueMember;
        s.attributes.group_name = "c n".into();
        assert_eq!(
            fields(&s),
            [
                "ldap.groups.in_chain",
                "ldap.groups.in_chain",
                "ldap.attributes.group_name"
            ]
        );
    }

    #[test]
    fn starttls_with_ldaps_is_refused_and_plain_loopback_allowed() {
        let mut s = valid();
        s.starttls = true;
        assert_eq!(fields(&s), ["ldap.urls[0]"]);
        assert_eq!(parse_url("ldap://[::1]:389"), Some((false, "::1")));
        assert_eq!(parse_url("ldaps://"), None);
        assert!(is_loopback("::1"));
    }

    #[test]
    fn debug_output_hides_the_bind_password() {
        assert!(!format!("{:?}", valid()).contains("pfortepw"));
    }
}
