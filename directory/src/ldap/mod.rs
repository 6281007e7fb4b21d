//! The LDAP backend.
//!
//! ```text
//! authenticate(username, password)
//!   check input ──▶ cached entry, found or not ──(miss)──▶ service pool: user + disabled search
//!                        │
//!                        ▼
//!                   bind pool: bind as the user's DN, or the dummy DN (never cached)
//!                        │ right password, enabled account
//!                        ▼
//!                   cached groups ──(miss)──▶ service pool: group walk ──▶ UserRecord
//! ```
//!
//! The order and the caches are in [`login`]; this module runs its steps on the pools.
//!
//! Every operation runs on a pooled connection with the operation timeout. When the connection
//! or its server fails, the server is marked down and the operation runs again on a connection
//! to the next server (see [`servers`]), so a failover costs the person nothing but latency.

mod admin;
mod entry;
mod factors;
mod filter;
mod group_list;
mod groups;
mod list;
mod login;
mod pool;
mod search;
mod servers;
mod settings;
mod tls;
mod user;

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use deadpool::managed::{Object, PoolError};
use ldap3::{Ldap, LdapError, Scope};

use crate::error::{AuthError, DirectoryError};
use crate::factors::{FactorKind, StoredFactors, check_value};
use crate::group::GroupRecord;
use crate::health::Health;
use crate::input::{check_password, check_username};
use crate::observe::{Observer, Outcome};
use crate::record::UserRecord;
use crate::settings::SettingsErrors;

use login::{Caches, Steps};

/// The longest subject looked up: far past any UUID or DN-like id a directory gives.
const MAX_SUBJECT_BYTES: usize = 256;
use pool::{Connector, Pool, Role, is_transport};
use search::{NO_ATTRIBUTES, OpError, Query};
use servers::Servers;
use user::UserEntry;

pub use admin::{DisableMark, LdapAdmin, LdapAdminSettings};
pub use settings::{AttributeMap, GroupLookup, GroupSettings, LdapSettings, ServerKind};
pub use tls::TlsError;

/// LDAP result code invalidCredentials.
const INVALID_CREDENTIALS: u32 = 49;

/// The RDN of the entry an unknown user's password is checked against (it never exists).
const UNKNOWN_USER_RDN: &str = "cn=pforte-unknown-user-7f3a9c";

/// Why an [`LdapDirectory`] could not be set up (no server is contacted at setup).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The settings have problems.
    #[error(transparent)]
    Invalid(#[from] SettingsErrors),
    /// The TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A connection pool could not be built.
    #[error("connection pool: {0}")]
    Pool(String),
}

/// A directory on one or more LDAP servers (replicas, tried in order).
pub struct LdapDirectory {
    settings: Arc<LdapSettings>,
    servers: Arc<Servers>,
    service: Pool,
    binds: Pool,
    caches: Caches,
}

impl fmt::Debug for LdapDirectory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LdapDirectory")
            .field("urls", &self.settings.urls)
            .finish_non_exhaustive()
    }
}

impl LdapDirectory {
    /// Validates `settings` and builds the pools; servers are contacted on first use, so the
    /// gateway starts while the directory is down and reports it through [`Self::health`].
    pub fn new(settings: LdapSettings) -> Result<Self, SetupError> {
        Self::build(settings, None)
    }

    /// [`Self::new`], telling `observer` of every exchange with a server: how the gateway
    /// measures each server's latency and failures.
    pub fn observed(
        settings: LdapSettings,
        observer: Arc<dyn Observer>,
    ) -> Result<Self, SetupError> {
        Self::build(settings, Some(observer))
    }

    fn build(
        settings: LdapSettings,
        observer: Option<Arc<dyn Observer>>,
    ) -> Result<Self, SetupError> {
        settings.validate()?;
        let needs_tls =
            settings.starttls || settings.urls.iter().any(|u| u.starts_with("ldaps://"));
        let tls = if needs_tls {
            Some(tls::client_config(settings.ca_file.as_deref())?)
        } else {
            None
        };
        let servers = Arc::new(Servers::new(
            settings.urls.clone(),
            settings.retry_interval,
            observer,
        ));
        let connector = |role| Connector {
            servers: Arc::clone(&servers),
            tls: tls.clone(),
            starttls: settings.starttls,
            connect_timeout: settings.connect_timeout,
            operation_timeout: settings.operation_timeout,
            role,
        };
        let service_role = Role::Service {
            dn: settings.bind_dn.clone(),
            password: settings.bind_password.clone(),
        };
        let wait = settings.operation_timeout;
        let service = pool::build(connector(service_role), settings.pool_size, wait)
            .map_err(SetupError::Pool)?;
        let binds = pool::build(connector(Role::UserBinds), settings.bind_pool_size, wait)
            .map_err(SetupError::Pool)?;
        let caches = Caches::new(settings.cache_ttl, settings.cache_capacity);
        Ok(Self {
            settings: Arc::new(settings),
            servers,
            service,
            binds,
            caches,
        })
    }

    /// Checks a password: finds the user (cached briefly, found or not), then binds as them on a
    /// connection of the bind pool; only after a right password are the groups read. Until the
    /// bind answers, an unknown name and a known one cost the same. The bind is never cached. A
    /// disabled account is refused as disabled whatever the password (Active Directory refuses its
    /// binds anyway), after the bind like every other account.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<UserRecord, AuthError> {
        check_username(username)?;
        check_password(password)?;
        login::authenticate(self, &self.caches, username, password).await
    }

    /// The user called `username` with their groups, or `None` (also for a disabled account,
    /// which the gateway treats as gone, e.g. when refreshing tokens).
    pub async fn lookup(&self, username: &str) -> Result<Option<UserRecord>, DirectoryError> {
        check_username(username)?;
        login::lookup(self, &self.caches, username).await
    }

    /// The enabled user whose subject (the configured subject attribute: entryUUID,
    /// objectGUID) is `subject`, with their groups, read fresh past the lookup caches (a
    /// passwordless login and a session's identity refresh must see a disable made seconds
    /// ago); `None` when unknown or disabled. Two searches and the group walk.
    pub async fn find_by_subject(
        &self,
        subject: &str,
    ) -> Result<Option<UserRecord>, DirectoryError> {
        let Some(username) = self.username_of(subject).await? else {
            return Ok(None);
        };
        Ok(login::reread(self, &self.caches, &username)
            .await?
            .filter(|record| record.subject.eq_ignore_ascii_case(subject)))
    }

    /// The enabled user whose mail attribute is `mail` (compared as the server's matching rule
    /// for mail says, usually without case), read fresh like [`Self::find_by_subject`]; `None`
    /// when unknown or disabled, [`DirectoryError::Ambiguous`] when two entries have it.
    pub async fn find_by_mail(&self, mail: &str) -> Result<Option<UserRecord>, DirectoryError> {
        if mail.is_empty() || mail.len() > MAX_SUBJECT_BYTES || mail.contains('\0') {
            return Ok(None);
        }
        let s = &self.settings;
        let username = self
            .run(&self.service, |ldap| user::username_by_mail(s, ldap, mail))
            .await?
            .filter(|name| check_username(name).is_ok());
        let Some(username) = username else {
            return Ok(None);
        };
        login::reread(self, &self.caches, &username).await
    }

    /// The username of the entry whose subject attribute is `subject`, if it is a valid one.
    async fn username_of(&self, subject: &str) -> Result<Option<String>, DirectoryError> {
        if subject.is_empty() || subject.len() > MAX_SUBJECT_BYTES || subject.contains('\0') {
            return Ok(None);
        }
        let s = &self.settings;
        let username = self
            .run(&self.service, |ldap| {
                user::username_by_subject(s, ldap, subject)
            })
            .await?;
        Ok(username.filter(|name| check_username(name).is_ok()))
    }

    /// Every enabled user with their groups, sorted by username.
    pub async fn users(&self) -> Result<Vec<UserRecord>, DirectoryError> {
        let s = &self.settings;
        self.run(&self.service, |ldap| list::users(s, ldap)).await
    }

    /// Every group with its direct and nested members, sorted by name.
    pub async fn groups(&self) -> Result<Vec<GroupRecord>, DirectoryError> {
        let s = &self.settings;
        self.run(&self.service, |ldap| group_list::groups(s, ldap))
            .await
    }

    /// The second factors of `username`, read fresh (never cached: a used recovery code must not
    /// show again); `None` for an unknown or disabled account.
    pub async fn factors(&self, username: &str) -> Result<Option<StoredFactors>, DirectoryError> {
        check_username(username)?;
        let s = &self.settings;
        self.run(&self.service, |ldap| factors::factors(s, ldap, username))
            .await
    }

    /// Adds a second factor's value as the service account, with the `pforteAccount` object
    /// class when the entry lacks it.
    pub async fn add_factor(
        &self,
        username: &str,
        kind: FactorKind,
        value: &str,
    ) -> Result<(), DirectoryError> {
        check_username(username)?;
        check_value(kind, value)?;
        let s = &self.settings;
        self.run(&self.service, |ldap| {
            factors::add(s, ldap, username, kind, value)
        })
        .await
    }

    /// Deletes exactly `value` in one modify; `false` when it was not there.
    pub async fn remove_factor(
        &self,
        username: &str,
        kind: FactorKind,
        value: &str,
    ) -> Result<bool, DirectoryError> {
        check_username(username)?;
        check_value(kind, value)?;
        let s = &self.settings;
        self.run(&self.service, |ldap| {
            factors::remove(s, ldap, username, kind, value)
        })
        .await
    }

    /// Replaces `old` by `new` in one modify; `false` when `old` is gone.
    pub async fn replace_factor(
        &self,
        username: &str,
        kind: FactorKind,
        old: &str,
        new: &str,
    ) -> Result<bool, DirectoryError> {
        check_username(username)?;
        check_value(kind, old)?;
        check_value(kind, new)?;
        let s = &self.settings;
        self.run(&self.service, |ldap| {
            factors::replace(s, ldap, username, kind, old, new)
        })
        .await
    }

    /// Probes the directory (a base-entry read as the service account) and reports every server.
    pub async fn health(&self) -> Health {
        let s = &self.settings;
        let probe = self
            .run(&self.service, |ldap| async move {
                let query = Query {
                    base: &s.base_dn,
                    scope: Scope::Base,
                    filter: "(objectClass=*)",
                    attributes: NO_ATTRIBUTES,
                    limit: 1,
                };
                search::search(ldap, s.operation_timeout, query).await?;
                Ok(())
            })
            .await;
        if let Err(error) = probe {
            tracing::warn!(%error, "directory health probe failed");
        }
        Health {
            servers: self.servers.health(),
        }
    }

    /// Runs `op` on a connection from `pool`; when the connection or its server fails, marks the
    /// server down and runs `op` again on the next one, at most once per server.
    async fn run<T, F, Fut>(&self, pool: &Pool, op: F) -> Result<T, DirectoryError>
    where
        F: Fn(Ldap) -> Fut,
        Fut: Future<Output = Result<T, OpError>>,
    {
        let mut last_error = String::new();
        for _ in 0..=self.servers.len() {
            let conn = pool.get().await.map_err(pool_error)?;
            let server = conn.server;
            let url = self.servers.url(server).to_owned();
            let start = Instant::now();
            let result = op(conn.ldap.clone()).await;
            let outcome = match &result {
                Err(OpError::Ldap(error)) if is_transport(error) => Outcome::Failed,
                _ => Outcome::Answered,
            };
            self.servers.observe(server, outcome, start.elapsed());
            match result {
                Ok(value) => return Ok(value),
                Err(OpError::Ldap(error)) if is_transport(&error) => {
                    drop(Object::take(conn));
                    last_error = format!("{url}: {error}");
                    self.servers
                        .mark_down(server, error.to_string(), Instant::now());
                }
                Err(OpError::Ldap(error)) => {
                    return Err(DirectoryError::Operation {
                        url,
                        message: error.to_string(),
                    });
                }
                Err(OpError::Directory(error)) => return Err(error),
            }
        }
        Err(DirectoryError::AllServersDown { last_error })
    }
}

impl Steps for LdapDirectory {
    async fn find(&self, username: &str) -> Result<Option<UserEntry>, DirectoryError> {
        let s = &self.settings;
        self.run(&self.service, |ldap| user::find(s, ldap, username))
            .await
    }

    /// A simple bind on a bind-pool connection.
    async fn bind(&self, dn: &str, password: &str) -> Result<bool, DirectoryError> {
        let timeout = self.settings.operation_timeout;
        self.run(&self.binds, |mut ldap| async move {
            let result = ldap.with_timeout(timeout).simple_bind(dn, password).await?;
            match result.rc {
                0 => Ok(true),
                INVALID_CREDENTIALS => Ok(false),
                _ => Err(OpError::Ldap(LdapError::from(result))),
            }
        })
        .await
    }

    /// A bind as an entry that does not exist, on the same pool as real binds.
    async fn bind_as_nobody(&self, password: &str) {
        let dn = format!("{UNKNOWN_USER_RDN},{}", self.settings.user_base());
        if let Err(error) = self.bind(&dn, password).await {
            tracing::debug!(%error, "bind for an unknown user failed");
        }
    }

    async fn groups(&self, user: &UserEntry) -> Result<UserRecord, DirectoryError> {
        let s = &self.settings;
        self.run(&self.service, |ldap| user::with_groups(s, ldap, user))
            .await
    }
}

fn pool_error(error: PoolError<DirectoryError>) -> DirectoryError {
    match error {
        PoolError::Backend(e) => e,
        PoolError::Timeout(_) => DirectoryError::PoolTimeout,
        other => DirectoryError::AllServersDown {
            last_error: other.to_string(),
        },
    }
}
