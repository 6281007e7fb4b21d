//! The task that keeps one replica's cache honest: it applies revocations published by any
//! replica and proves, with pings, that it has seen all of them.
//!
//! One loop per replica, on its own pub/sub connection: connect (to the current master, with
//! Sentinel), SUBSCRIBE `{p}revoked`, reset
//! the cache, then apply every message (a sid to drop) and send a PING every quarter of the
//! revocation bound. Redis answers a PING on a subscribed connection after every message it
//! queued on that connection before it, and the client library hands messages and the reply
//! over in that order; so once the reply is in and the messages already received are applied,
//! every revocation published before the PING was *sent* is in effect here, and the cache is
//! confirmed as of that send time. Any failure (connect, subscribe, a PING unanswered within a
//! quarter bound, the stream ending) resets the cache and starts again after a pause.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt as _, StreamExt as _};
use redis::{Msg, Value};
use tokio::task::JoinHandle;
use tokio::time::{MissedTickBehavior, interval, sleep, timeout};

use crate::cache::LocalCache;
use crate::id::Sid;
use crate::time::Clock;

use super::link::Link;

/// Why a subscription ended.
#[derive(Debug, thiserror::Error)]
enum Lost {
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    #[error("no answer in time")]
    Timeout(#[from] tokio::time::error::Elapsed),
    #[error("the connection closed")]
    Closed,
}

/// The pace of the subscriber, derived from the revocation bound.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pace {
    ping_every: Duration,
    answer_within: Duration,
}

impl Pace {
    /// Pings every quarter bound; the cache trusts a confirmation for three quarters, so a
    /// healthy link always has a fresh one and a dead link loses trust within the bound.
    /// Bounds under 40 ms are raised to it (a zero period would make no sense to tokio).
    pub(super) fn for_bound(bound: Duration) -> (Self, Duration) {
        let bound = bound.max(Duration::from_millis(40));
        let quarter = bound / 4;
        let pace = Self {
            ping_every: quarter,
            answer_within: quarter,
        };
        (pace, bound - quarter)
    }
}

/// Starts the subscriber; it runs until the returned handle is aborted. Confirmations are
/// stamped with `clock`'s monotonic reading, the one the cache's lookups are judged by; the
/// pings themselves are paced by tokio's timer.
pub(super) fn spawn(
    link: Arc<Link>,
    channel: String,
    cache: Arc<LocalCache>,
    clock: Clock,
    pace: Pace,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(error) = subscribe(&link, &channel, &cache, &clock, pace).await {
                tracing::warn!(%error, "session invalidation subscription lost; local session cache bypassed until it is back");
            }
            cache.reset();
            sleep(pace.ping_every).await;
        }
    })
}

/// One subscription, from connect until it fails.
async fn subscribe(
    link: &Link,
    channel: &str,
    cache: &LocalCache,
    clock: &Clock,
    pace: Pace,
) -> Result<(), Lost> {
    let client = link.client().await?;
    let pubsub = timeout(pace.answer_within * 4, client.get_async_pubsub()).await??;
    let (mut sink, mut stream) = pubsub.split();
    timeout(pace.answer_within * 4, sink.subscribe(channel)).await??;
    // Revocations published before the subscription took effect were not seen.
    cache.reset();
    tracing::debug!("session invalidation subscription established");
    let mut ticker = interval(pace.ping_every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = stream.next() => apply(cache, &message.ok_or(Lost::Closed)?),
            _ = ticker.tick() => {
                let sent = clock.instant();
                timeout(pace.answer_within, sink.ping::<Value>()).await??;
                while let Some(message) = stream.next().now_or_never() {
                    apply(cache, &message.ok_or(Lost::Closed)?);
                }
                cache.confirm(sent);
            }
        }
    }
}

/// Drops the named session; a message that is not a sid (another version's format) clears the
/// whole cache, erring on the safe side.
fn apply(cache: &LocalCache, message: &Msg) {
    match std::str::from_utf8(message.get_payload_bytes())
        .ok()
        .map(Sid::parse)
    {
        Some(Ok(sid)) => cache.invalidate(&sid),
        _ => cache.reset(),
    }
}
