//! Taking logout notices from the Redis queue `{p}logout`, which every revocation feeds (see
//! `scripts`), whichever process made it.
//!
//! A taker blocks in BLPOP, so it has a connection of its own: on the shared multiplexed
//! connection a blocking command would hold up every request queued behind it. Redis hands each
//! element to exactly one BLPOP, which is what makes each notice reach exactly one gateway.
//!
//! The connection is taken out of its slot for the length of a command and put back only after
//! an answer. A failed or unanswered command, or a caller that stops waiting (its future
//! dropped), drops the connection instead: closing it unblocks the BLPOP in Redis before it can
//! pop a notice that nobody would receive, and the next call connects again (to the current
//! master, with Sentinel). Only a notice popped in the instant the connection closes can be
//! lost; a gateway that misses a notice still refuses the ended session's tokens, it only does
//! not tell the clients.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ErrorKind, RedisError};
use tokio::sync::Mutex;
use tokio::time::{Instant, timeout, timeout_at};

use crate::error::StoreError;
use crate::records::{LogoutNotice, MAX_LOGOUT_WAIT, decode_notice};

use super::link::Link;

/// BLPOP's timeout is in seconds with millisecond precision; shorter waits just look.
const SHORTEST_BLOCK: Duration = Duration::from_millis(1);

/// The dedicated connection for BLPOP on the logout queue.
pub(super) struct LogoutTaker {
    link: Arc<Link>,
    queue: String,
    /// Bounds the connect, and the answer beyond the BLPOP's own timeout.
    command_timeout: Duration,
    connection: Mutex<Option<MultiplexedConnection>>,
}

impl LogoutTaker {
    pub(super) fn new(link: Arc<Link>, queue: String, command_timeout: Duration) -> Self {
        Self {
            link,
            queue,
            command_timeout,
            connection: Mutex::new(None),
        }
    }

    /// The oldest notice, waiting up to `wait`; `None` when none came. Callers of one replica
    /// take turns on the connection, each within its own `wait`, timed by tokio's timer (a
    /// wait, not a reading of the store's [`crate::Clock`]).
    pub(super) async fn next(&self, wait: Duration) -> Result<Option<LogoutNotice>, StoreError> {
        let deadline = Instant::now() + wait.min(MAX_LOGOUT_WAIT);
        let Ok(mut slot) = timeout_at(deadline, self.connection.lock()).await else {
            return Ok(None);
        };
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let mut connection = match slot.take() {
                Some(connection) => connection,
                None => self.connect().await?,
            };
            let popped = timeout(remaining.saturating_add(self.command_timeout), async {
                if remaining < SHORTEST_BLOCK {
                    redis::cmd("LPOP")
                        .arg(&self.queue)
                        .query_async::<Option<Vec<u8>>>(&mut connection)
                        .await
                } else {
                    redis::cmd("BLPOP")
                        .arg(&self.queue)
                        .arg(remaining.as_secs_f64())
                        .query_async::<Option<(String, Vec<u8>)>>(&mut connection)
                        .await
                        .map(|popped| popped.map(|(_, notice)| notice))
                }
            })
            .await
            .map_err(|_| RedisError::from((ErrorKind::Io, "no answer in time")))??;
            *slot = Some(connection);
            let Some(bytes) = popped else {
                return Ok(None);
            };
            match decode_notice(&bytes) {
                Ok(notice) => return Ok(Some(notice)),
                Err(error) => tracing::warn!(%error, "unreadable logout notice in Redis dropped"),
            }
        }
    }

    async fn connect(&self) -> Result<MultiplexedConnection, StoreError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.command_timeout))
            // BLPOP answers when its own timeout is up; `next` bounds the wait beyond that.
            .set_response_timeout(None);
        let client = self.link.client().await?;
        Ok(client
            .get_multiplexed_async_connection_with_config(&config)
            .await?)
    }
}
