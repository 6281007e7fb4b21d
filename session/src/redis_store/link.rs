//! The link to Redis for commands: one multiplexed connection shared by all requests, dropped
//! when it fails and made again on the next command.
//!
//! With Sentinel the master is looked up again on every reconnect. A failover therefore costs
//! the requests in flight an `Unavailable` (Sentinel disconnects the clients of the demoted
//! master, and a write to it would answer READONLY, which also drops the connection), and the
//! next request reaches the new master. While Redis is down every request tries one connect,
//! bounded by the command timeout, and fails fast. Requests that find no connection at the same
//! moment each make one; the last made is kept and the others close after their command.
//!
//! The `redis` crate resolves a Sentinel's master only when it connects and does not follow
//! `+switch-master` (redis-rs#1438): that is why a broken link is dropped and the next command
//! asks the sentinels again, and why a killed master costs only the requests of the seconds
//! Sentinel takes to promote its replica (`tests/e2e/failover.rs` shows it under load).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::sentinel::{SentinelClientBuilder, SentinelServerType};
use redis::{
    AsyncConnectionConfig, Client, Cmd, ConnectionAddr, ErrorKind, RedisError, RedisResult,
    ScriptInvocation, ServerErrorKind, TlsCertificates, TlsMode,
};

use crate::error::StoreError;

/// How to find the server to talk to.
pub(super) enum Target {
    /// One fixed server (boxed: a client is large beside the other variant).
    Direct(Box<Client>),
    /// Ask the sentinels for the current master.
    Sentinel(Arc<SentinelTarget>),
}

/// The sentinels, the master's name, and how to reach and log in to the master they name.
pub(super) struct SentinelTarget {
    /// The sentinels' addresses (`TcpTls` for `rediss://` URLs).
    pub(super) sentinels: Vec<ConnectionAddr>,
    /// The master's name in their configuration.
    pub(super) master: String,
    /// The ACL user and password for the master (the sentinels take none).
    pub(super) username: Option<String>,
    pub(super) password: Option<String>,
    /// TLS to the sentinels and the master, with this CA (`None`: the system's roots), or
    /// plain TCP to both.
    pub(super) tls: Option<Option<TlsCertificates>>,
}

impl SentinelTarget {
    /// A client for the master the sentinels name now.
    async fn master(&self, timeout: Duration) -> RedisResult<Client> {
        let mut builder = SentinelClientBuilder::new(
            self.sentinels.clone(),
            &self.master,
            SentinelServerType::Master,
        )?;
        if let Some(username) = &self.username {
            builder = builder.set_client_to_redis_username(username);
        }
        if let Some(password) = &self.password {
            builder = builder.set_client_to_redis_password(password);
        }
        if let Some(ca) = &self.tls {
            builder = builder.set_client_to_redis_tls_mode(TlsMode::Secure);
            if let Some(certificates) = ca {
                builder = builder
                    .set_client_to_redis_certificates(certificates.clone())
                    .set_client_to_sentinel_certificates(certificates.clone());
            }
        }
        let mut sentinel = builder.build()?;
        tokio::time::timeout(timeout, sentinel.async_get_client())
            .await
            .map_err(|_| RedisError::from((ErrorKind::Io, "no sentinel answered in time")))?
    }
}

/// The shared command connection.
pub(super) struct Link {
    target: Target,
    config: AsyncConnectionConfig,
    timeout: Duration,
    /// The connection, with its number among those this link made.
    current: Mutex<Option<(MultiplexedConnection, u64)>>,
    /// Numbers the connections made, so a user of the link can tell a connection that may
    /// reach another server than the one it knew (see `acknowledge`).
    connects: AtomicU64,
}

impl Link {
    /// A link whose connects and answers each take at most `timeout`; `wait_beyond` is added
    /// to the answer's bound, for commands that wait on the server (WAIT).
    pub(super) fn new(target: Target, timeout: Duration, wait_beyond: Duration) -> Self {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout.saturating_add(wait_beyond)));
        Self {
            target,
            config,
            timeout,
            current: Mutex::new(None),
            connects: AtomicU64::new(0),
        }
    }

    /// Another link to the same place, with a connection of its own.
    pub(super) fn sibling(&self, wait_beyond: Duration) -> Self {
        let target = match &self.target {
            Target::Direct(client) => Target::Direct(client.clone()),
            Target::Sentinel(sentinel) => Target::Sentinel(Arc::clone(sentinel)),
        };
        Self::new(target, self.timeout, wait_beyond)
    }

    fn current(&self) -> MutexGuard<'_, Option<(MultiplexedConnection, u64)>> {
        // Holds an `Option` that is replaced whole, consistent under any panic.
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A client for the server to talk to now (the current master, with Sentinel).
    pub(super) async fn client(&self) -> RedisResult<Client> {
        match &self.target {
            Target::Direct(client) => Ok(Client::clone(client)),
            // Boxed: the `redis` crate's Sentinel lookup nests deep, and every future that
            // connects (up to the gateway's start-up) would carry it inline; unboxed, the
            // compiler's query depth runs out computing their layout.
            Target::Sentinel(sentinel) => Box::pin(sentinel.master(self.timeout)).await,
        }
    }

    async fn connection(&self) -> RedisResult<(MultiplexedConnection, u64)> {
        if let Some(current) = self.current().clone() {
            return Ok(current);
        }
        let client = self.client().await?;
        let connection = client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await?;
        let number = self.connects.fetch_add(1, Ordering::AcqRel);
        *self.current() = Some((connection.clone(), number));
        Ok((connection, number))
    }

    /// Runs one command (or script, or pipeline) on the shared connection; a failure of the
    /// connection itself makes the next call reconnect.
    pub(super) async fn run<T>(
        &self,
        command: impl AsyncFnOnce(&mut MultiplexedConnection) -> RedisResult<T>,
    ) -> Result<T, StoreError> {
        self.run_numbered(async |connection, _| command(connection).await)
            .await
    }

    /// [`Link::run`], telling `command` the number of the connection it runs on.
    pub(super) async fn run_numbered<T>(
        &self,
        command: impl AsyncFnOnce(&mut MultiplexedConnection, u64) -> RedisResult<T>,
    ) -> Result<T, StoreError> {
        let (mut connection, number) = self.connection().await?;
        let result = command(&mut connection, number).await;
        if let Err(error) = &result
            && breaks_the_link(error)
        {
            self.current().take();
        }
        Ok(result?)
    }
}

impl Link {
    /// Runs one write without waiting for replicas (a script is loaded when the server does
    /// not know it). Boxed, as `Acknowledged::run` is.
    pub(super) fn write<'a, T: redis::FromRedisValue + Send + 'a>(
        &'a self,
        write: Write<'a>,
    ) -> futures_util::future::BoxFuture<'a, Result<T, StoreError>> {
        Box::pin(async move {
            match write {
                Write::Script(script) => self.run(async |c| script.invoke_async(c).await).await,
                Write::Command(command) => self.run(async |c| command.query_async(c).await).await,
            }
        })
    }
}

/// One write a browser or client may be told about: what [`Link::write`] runs alone, and
/// `acknowledge` runs with the replicas' `WAIT`.
#[derive(Clone, Copy)]
pub(super) enum Write<'a> {
    /// A Lua script (loaded first when the master does not know it: a fresh master after a
    /// failover).
    Script(&'a ScriptInvocation<'a>),
    /// One command.
    Command(&'a Cmd),
}

/// Errors after which the connection (or the server it reaches) cannot be trusted again.
fn breaks_the_link(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_unrecoverable_error()
        || error.kind() == ErrorKind::Server(ServerErrorKind::ReadOnly)
}
