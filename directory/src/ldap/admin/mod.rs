//! The LDAP directory opened for changes: one connection bound as the configured admin DN, on
//! the first server that answers (the same connector and failover as the gateway's pools).
//!
//! Finding people and groups uses the gateway's own searches and filters ([`user::find`], the
//! group filter), so "unknown user" here means the gateway would not find them either, and a
//! change is checked afterwards with the same search (a new user is found, a disabled one is
//! refused) and taken back when it did not have that effect.

mod entries;
mod factors;
mod groups;
mod members;
mod settings;
mod users;

use std::fmt;
use std::sync::Arc;

use deadpool::managed::Manager as _;
use ldap3::{Ldap, LdapError, Mod, Scope};

use crate::admin::{Account, AdminError};
use crate::error::DirectoryError;
use crate::input::check_username;
use crate::settings::Secret;

use super::entry::Entry;
use super::filter;
use super::pool::{Connector, Role, is_transport};
use super::search::{OpError, Query, search};
use super::servers::Servers;
use super::settings::LdapSettings;
use super::tls;
use super::user::{self, UserEntry, record};

pub use settings::{DisableMark, LdapAdminSettings};

/// LDAP result code entryAlreadyExists.
const ALREADY_EXISTS: u32 = 68;

/// An LDAP directory bound as the admin account.
pub struct LdapAdmin {
    s: LdapSettings,
    admin: LdapAdminSettings,
    ldap: Ldap,
    url: String,
}

impl fmt::Debug for LdapAdmin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LdapAdmin")
            .field("url", &self.url)
            .field("bind_dn", &self.admin.bind_dn)
            .finish_non_exhaustive()
    }
}

/// A group entry with its written members.
#[derive(Debug)]
struct GroupEntry {
    dn: String,
    members: Vec<String>,
}

impl LdapAdmin {
    /// Connects to the first server that answers and binds as `settings.admin.bind_dn` with
    /// `password`. A refused bind is [`AdminError::Bind`]; settings without an admin section are
    /// [`AdminError::NotConfigured`].
    pub async fn connect(settings: &LdapSettings, password: &Secret) -> Result<Self, AdminError> {
        let admin = settings.admin.clone().ok_or_else(|| {
            AdminError::NotConfigured(
                "the config has no [directory.ldap.admin] with the bind_dn of an account that may \
                 change the directory"
                    .into(),
            )
        })?;
        settings
            .validate()
            .map_err(|e| AdminError::NotConfigured(e.to_string()))?;
        let needs_tls =
            settings.starttls || settings.urls.iter().any(|u| u.starts_with("ldaps://"));
        let tls = if needs_tls {
            Some(
                tls::client_config(settings.ca_file.as_deref())
                    .map_err(|e| AdminError::NotConfigured(e.to_string()))?,
            )
        } else {
            None
        };
        let connector = Connector {
            servers: Arc::new(Servers::new(
                settings.urls.clone(),
                settings.retry_interval,
                None,
            )),
            tls,
            starttls: settings.starttls,
            connect_timeout: settings.connect_timeout,
            operation_timeout: settings.operation_timeout,
            role: Role::Service {
                dn: admin.bind_dn.clone(),
                password: password.clone(),
            },
        };
        let conn = connector.create().await.map_err(|e| match e {
            DirectoryError::ServiceBind { url, message } => AdminError::Bind {
                url,
                dn: admin.bind_dn.clone(),
                message,
            },
            other => AdminError::Directory(other),
        })?;
        Ok(Self {
            url: connector.servers.url(conn.server).to_owned(),
            ldap: conn.ldap,
            s: settings.clone(),
            admin,
        })
    }

    /// The account called `username`, disabled or not.
    pub(crate) async fn account(&self, username: &str) -> Result<Account, AdminError> {
        let user = self.find(username).await?;
        self.to_account(&user)
    }

    fn to_account(&self, user: &UserEntry) -> Result<Account, AdminError> {
        let r = record(&self.s, &user.entry, Vec::new())?;
        Ok(Account {
            username: r.username,
            subject: r.subject,
            display_name: r.display_name,
            disabled: user.disabled,
        })
    }

    /// The user entry of `username`, or [`AdminError::UnknownUser`].
    async fn find(&self, username: &str) -> Result<UserEntry, AdminError> {
        self.lookup(username)
            .await?
            .ok_or_else(|| AdminError::UnknownUser(username.to_owned()))
    }

    /// The user entry of `username`, if the gateway's user filter finds one.
    async fn lookup(&self, username: &str) -> Result<Option<UserEntry>, AdminError> {
        check_username(username).map_err(|e| AdminError::Invalid {
            field: "user name",
            message: e.to_string(),
        })?;
        user::find(&self.s, self.ldap.clone(), username)
            .await
            .map_err(|e| self.op_error("search for the user", e))
    }

    /// The group called `name`, or [`AdminError::UnknownGroup`].
    async fn group(&self, name: &str) -> Result<GroupEntry, AdminError> {
        self.group_if_any(name)
            .await?
            .ok_or_else(|| AdminError::UnknownGroup(name.to_owned()))
    }

    /// The group called `name`, if the gateway's group filter finds one under the group base.
    async fn group_if_any(&self, name: &str) -> Result<Option<GroupEntry>, AdminError> {
        let s = &self.s;
        let member = entries::member_attribute(s);
        let by_name = filter::and(
            &s.groups.filter,
            &filter::equals(&s.attributes.group_name, name),
        );
        let query = Query {
            base: s.group_base(),
            scope: Scope::Subtree,
            filter: &by_name,
            attributes: &[member],
            limit: 2,
        };
        let found = search(self.ldap.clone(), s.operation_timeout, query)
            .await
            .map_err(|e| self.op_error("search for the group", e.into()))?;
        if found.truncated || found.entries.len() > 1 {
            return Err(AdminError::AmbiguousGroup(name.to_owned()));
        }
        Ok(found.entries.into_iter().next().map(|e| GroupEntry {
            members: e.texts(member).map(str::to_owned).collect(),
            dn: e.dn,
        }))
    }

    /// The text values of `attribute` of the entry `dn`.
    async fn values(&self, dn: &str, attribute: &str) -> Result<Vec<String>, AdminError> {
        let query = Query {
            base: dn,
            scope: Scope::Base,
            filter: "(objectClass=*)",
            attributes: &[attribute],
            limit: 1,
        };
        let found = search(self.ldap.clone(), self.s.operation_timeout, query)
            .await
            .map_err(|e| self.op_error("read the entry", e.into()))?;
        Ok(found
            .entries
            .first()
            .map(|e: &Entry| e.texts(attribute).map(str::to_owned).collect())
            .unwrap_or_default())
    }

    /// Adds an entry; `Ok(false)` when one with that DN exists already.
    async fn add_entry(
        &self,
        action: &str,
        dn: &str,
        attributes: entries::Attributes,
    ) -> Result<bool, AdminError> {
        let answer = self
            .ldap
            .clone()
            .with_timeout(self.s.operation_timeout)
            .add(dn, attributes)
            .await
            .and_then(ldap3::LdapResult::success);
        match answer {
            Ok(_) => Ok(true),
            Err(LdapError::LdapResult { result }) if result.rc == ALREADY_EXISTS => Ok(false),
            Err(e) => Err(self.op_error(action, e.into())),
        }
    }

    /// Modifies `dn` in one operation.
    async fn modify<S>(&self, action: &str, dn: &str, mods: Vec<Mod<S>>) -> Result<(), AdminError>
    where
        S: AsRef<[u8]> + Eq + std::hash::Hash,
    {
        self.ldap
            .clone()
            .with_timeout(self.s.operation_timeout)
            .modify(dn, mods)
            .await
            .and_then(ldap3::LdapResult::success)
            .map(|_| ())
            .map_err(|e| self.op_error(action, e.into()))
    }

    /// Deletes the entry `dn`.
    async fn delete_entry(&self, action: &str, dn: &str) -> Result<(), AdminError> {
        self.ldap
            .clone()
            .with_timeout(self.s.operation_timeout)
            .delete(dn)
            .await
            .and_then(ldap3::LdapResult::success)
            .map(|_| ())
            .map_err(|e| self.op_error(action, e.into()))
    }

    /// An operation's failure: the connection's (the directory does not answer), the server's
    /// answer (a refusal), or a finding about the data.
    fn op_error(&self, action: &str, error: OpError) -> AdminError {
        match error {
            OpError::Ldap(e) if is_transport(&e) => {
                AdminError::Directory(DirectoryError::AllServersDown {
                    last_error: format!("{}: {e}", self.url),
                })
            }
            OpError::Ldap(e) => AdminError::Refused {
                action: action.to_owned(),
                message: match e {
                    LdapError::LdapResult { result } if !result.text.is_empty() => {
                        format!("{} (result code {})", result.text, result.rc)
                    }
                    other => other.to_string(),
                },
            },
            OpError::Directory(e) => AdminError::Directory(e),
        }
    }

    /// Whether the connection is encrypted (Active Directory takes passwords only then).
    fn encrypted(&self) -> bool {
        self.url.starts_with("ldaps://") || self.s.starttls
    }
}

/// Keeps the first error of an undo step, for the message.
fn undo_failed(original: AdminError, undo: Result<(), AdminError>, what: &str) -> AdminError {
    match undo {
        Ok(()) => original,
        Err(e) => AdminError::Refused {
            action: format!("{what} after an error ({original})"),
            message: e.to_string(),
        },
    }
}
