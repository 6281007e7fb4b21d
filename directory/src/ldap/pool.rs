//! Pooled connections with failover: a new connection goes to the first server that may be
//! tried (see [`Servers`]); a pooled one is dropped when its server failed or an earlier server
//! may be used again.
//!
//! Two pools use this: the service pool, bound as the service account, for searches; and the
//! bind pool, whose connections check users' passwords by binding as them. They are never mixed:
//! a user's bind would replace the service identity of a search connection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError};
use rustls::ClientConfig;

use crate::error::DirectoryError;
use crate::observe::Outcome;
use crate::settings::Secret;

use super::servers::Servers;

/// A pool of connections of one [`Role`].
pub(crate) type Pool = managed::Pool<Connector>;

/// A live connection and the server it goes to.
#[derive(Debug)]
pub(crate) struct Conn {
    /// The handle (cheap to clone; operations on clones share the connection).
    pub(crate) ldap: Ldap,
    /// Index of its server in [`Servers`].
    pub(crate) server: usize,
}

/// What a pool's connections are for.
#[derive(Debug)]
pub(crate) enum Role {
    /// Bound as the service account, for searches.
    Service {
        /// The service account's DN.
        dn: String,
        /// Its password.
        password: Secret,
    },
    /// Left unbound until a user's password is checked on it.
    UserBinds,
}

/// Opens connections for one pool.
#[derive(Debug)]
pub(crate) struct Connector {
    pub(crate) servers: Arc<Servers>,
    pub(crate) tls: Option<Arc<ClientConfig>>,
    pub(crate) starttls: bool,
    pub(crate) connect_timeout: Duration,
    pub(crate) operation_timeout: Duration,
    pub(crate) role: Role,
}

/// A failed attempt: the server's fault (try the next one) or the configuration's (stop).
enum Failure {
    Server(String),
    Fatal(DirectoryError),
}

/// Whether an error means the server or the connection is gone (so another server may help),
/// as opposed to an answer about the request itself.
pub(crate) fn is_transport(error: &LdapError) -> bool {
    match error {
        LdapError::Io { .. }
        | LdapError::OpSend { .. }
        | LdapError::ResultRecv { .. }
        | LdapError::IdScrubSend { .. }
        | LdapError::MiscSend { .. }
        | LdapError::Timeout { .. }
        | LdapError::EndOfStream
        | LdapError::Rustls { .. } => true,
        LdapError::LdapResult { result } => is_unavailable(result.rc),
        _ => false,
    }
}

/// Result codes busy (51) and unavailable (52): this server cannot serve now, another may.
pub(crate) fn is_unavailable(rc: u32) -> bool {
    matches!(rc, 51 | 52)
}

impl Connector {
    async fn connect(&self, server: usize) -> Result<Ldap, String> {
        let url = self.servers.url(server);
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(self.connect_timeout)
            .set_starttls(self.starttls && url.starts_with("ldap://"));
        if let Some(tls) = &self.tls {
            settings = settings.set_config(Arc::clone(tls));
        }
        let (conn, ldap) = tokio::time::timeout(
            self.connect_timeout,
            LdapConnAsync::with_settings(settings, url),
        )
        .await
        .map_err(|_| format!("no connection within {:?}", self.connect_timeout))?
        .map_err(|e| e.to_string())?;
        let url = url.to_owned();
        tokio::spawn(async move {
            if let Err(error) = conn.drive().await {
                tracing::debug!(server = %url, %error, "directory connection ended");
            }
        });
        Ok(ldap)
    }

    async fn open(&self, server: usize) -> Result<Conn, Failure> {
        let mut ldap = self.connect(server).await.map_err(Failure::Server)?;
        if let Role::Service { dn, password } = &self.role {
            let answer = ldap
                .with_timeout(self.operation_timeout)
                .simple_bind(dn, password.expose())
                .await;
            match answer {
                Ok(result) if result.rc == 0 => {}
                Ok(result) if is_unavailable(result.rc) => {
                    return Err(Failure::Server(result.to_string()));
                }
                Ok(result) => {
                    return Err(Failure::Fatal(DirectoryError::ServiceBind {
                        url: self.servers.url(server).to_owned(),
                        message: result.to_string(),
                    }));
                }
                Err(error) => return Err(Failure::Server(error.to_string())),
            }
        }
        Ok(Conn { ldap, server })
    }
}

impl managed::Manager for Connector {
    type Type = Conn;
    type Error = DirectoryError;

    async fn create(&self) -> Result<Conn, DirectoryError> {
        let mut last_error = "every server failed within its retry interval".to_owned();
        for server in self.servers.candidates(Instant::now()) {
            let start = Instant::now();
            match self.open(server).await {
                Ok(conn) => {
                    self.servers.mark_up(server);
                    return Ok(conn);
                }
                Err(Failure::Server(error)) => {
                    self.servers
                        .observe(server, Outcome::Failed, start.elapsed());
                    last_error = format!("{}: {error}", self.servers.url(server));
                    self.servers.mark_down(server, error, Instant::now());
                }
                Err(Failure::Fatal(error)) => return Err(error),
            }
        }
        Err(DirectoryError::AllServersDown { last_error })
    }

    async fn recycle(&self, conn: &mut Conn, _: &Metrics) -> RecycleResult<DirectoryError> {
        if conn.ldap.is_closed() {
            return Err(RecycleError::message("connection closed"));
        }
        if !self.servers.keep(conn.server, Instant::now()) {
            return Err(RecycleError::message(
                "server failed or an earlier one is back",
            ));
        }
        Ok(())
    }
}

/// A pool of `size` connections; waiting for one is bounded by `wait`.
pub(crate) fn build(connector: Connector, size: usize, wait: Duration) -> Result<Pool, String> {
    Pool::builder(connector)
        .max_size(size)
        .wait_timeout(Some(wait))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ldap3::LdapResult;

    fn answer(rc: u32) -> LdapError {
        LdapError::from(LdapResult {
            rc,
            matched: String::new(),
            text: String::new(),
            refs: Vec::new(),
            ctrls: Vec::new(),
        })
    }

    #[test]
    fn lost_connections_and_unavailable_servers_call_for_failover() {
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(is_transport(&LdapError::from(reset)));
        assert!(is_transport(&LdapError::EndOfStream));
        assert!(is_transport(&answer(52)), "unavailable");
        assert!(is_transport(&answer(51)), "busy");
    }

    #[test]
    fn answers_about_the_request_do_not() {
        assert!(!is_transport(&answer(49)), "invalid credentials");
        assert!(!is_transport(&answer(32)), "no such object");
        assert!(!is_transport(&LdapError::FilterParsing));
    }
}
