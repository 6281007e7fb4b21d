//! The link to Redis for commands: one multiplexed connection shared by all requests, dropped
//! when it fails and made again on the next command.
//!
//! With Sentinel the master is looked up again on every reconnect. A failover therefore costs
//! the requests in flight an `Unavailable` (Sentinel disconnects the clients of the demoted
//! master, and a write to it would answer READONLY, which also drops the connection), and the
//! next request reaches the new master. While Redis is down every request tries one connect,
//! bounded by the command timeout, and fails fast. Requests that find no connection at the same
//! moment each make one; the last made is kept and the others close after their command.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{AsyncConnectionConfig, Client, ErrorKind, RedisError, RedisResult, ServerErrorKind};

use crate::error::StoreError;

/// How to find the server to talk to.
pub(super) enum Target {
    /// One fixed server.
    Direct(Client),
    /// Ask these sentinels for the master of this name, and log in with `node`.
    Sentinel {
        sentinels: Vec<String>,
        master: String,
        node: SentinelNodeConnectionInfo,
    },
}

/// The shared command connection.
pub(super) struct Link {
    target: Target,
    config: AsyncConnectionConfig,
    timeout: Duration,
    current: Mutex<Option<MultiplexedConnection>>,
}

impl Link {
    pub(super) fn new(target: Target, timeout: Duration) -> Self {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        Self {
            target,
            config,
            timeout,
            current: Mutex::new(None),
        }
    }

    fn current(&self) -> MutexGuard<'_, Option<MultiplexedConnection>> {
        // Holds an `Option` that is replaced whole, consistent under any panic.
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A client for the server to talk to now (the current master, with Sentinel).
    pub(super) async fn client(&self) -> RedisResult<Client> {
        match &self.target {
            Target::Direct(client) => Ok(client.clone()),
            Target::Sentinel {
                sentinels,
                master,
                node,
            } => {
                let mut sentinel = SentinelClient::build(
                    sentinels.clone(),
                    master.as_str(),
                    Some(node.clone()),
                    SentinelServerType::Master,
                )?;
                tokio::time::timeout(self.timeout, sentinel.async_get_client())
                    .await
                    .map_err(|_| {
                        RedisError::from((ErrorKind::Io, "no sentinel answered in time"))
                    })?
            }
        }
    }

    async fn connection(&self) -> RedisResult<MultiplexedConnection> {
        if let Some(connection) = self.current().clone() {
            return Ok(connection);
        }
        let client = self.client().await?;
        let connection = client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await?;
        *self.current() = Some(connection.clone());
        Ok(connection)
    }

    /// Runs one command (or script, or pipeline) on the shared connection; a failure of the
    /// connection itself makes the next call reconnect.
    pub(super) async fn run<T>(
        &self,
        command: impl AsyncFnOnce(&mut MultiplexedConnection) -> RedisResult<T>,
    ) -> Result<T, StoreError> {
        let mut connection = self.connection().await?;
        let result = command(&mut connection).await;
        if let Err(error) = &result
            && breaks_the_link(error)
        {
            self.current().take();
        }
        Ok(result?)
    }
}

/// Errors after which the connection (or the server it reaches) cannot be trusted again.
fn breaks_the_link(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_unrecoverable_error()
        || error.kind() == ErrorKind::Server(ServerErrorKind::ReadOnly)
}
