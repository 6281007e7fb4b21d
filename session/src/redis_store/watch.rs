//! The Redis store's own health: a bounded ping, and every operation timed for an
//! [`Observer`] (see `crate::observe`).

use std::sync::Arc;
use std::time::Duration;

use crate::error::StoreError;
use crate::observe::{Observer, Operation};

use super::keys::Keys;
use super::link::Link;
use super::{RedisStore, scan_sids};

impl RedisStore {
    /// One PING on the shared connection, bounded by the command timeout (a connect to a
    /// server that is gone included): what a readiness probe asks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.link
            .run(async |c| redis::cmd("PING").exec_async(c).await)
            .await
    }

    /// The live sessions, counted at most once per `fresh` across every replica of the store:
    /// the count is kept in Redis for `fresh`; the replica that finds it run out claims the
    /// next count and makes it in the background (a SCAN, linear in the sessions: seconds at
    /// millions), so no caller waits for the walk. `None` while nothing is kept (the count is
    /// being made).
    pub async fn live_count(&self, fresh: Duration) -> Result<Option<usize>, StoreError> {
        let (count_key, claim_key) = self.keys.count();
        let mut get = redis::cmd("GET");
        get.arg(&count_key);
        let kept: Option<usize> = self.link.run(async |c| get.query_async(c).await).await?;
        if kept.is_some() {
            return Ok(kept);
        }
        let millis = u64::try_from(fresh.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut claim = redis::cmd("SET");
        claim.arg(&claim_key).arg(1).arg("NX").arg("PX").arg(millis);
        let claimed: Option<String> = self.link.run(async |c| claim.query_async(c).await).await?;
        if claimed.is_some() {
            let (link, keys) = (Arc::clone(&self.link), self.keys.clone());
            tokio::spawn(async move {
                if let Err(error) = keep_count(&link, &keys, &count_key, millis).await {
                    tracing::warn!(%error, "sessions not counted");
                }
            });
        }
        Ok(None)
    }

    /// Tells `observer` of every operation from now on. Only the first observer counts: the
    /// gateway sets one at start; `false` when one was set already.
    pub fn observe(&self, observer: Arc<dyn Observer>) -> bool {
        self.observer.set(observer).is_ok()
    }

    /// Runs `work` as `operation`, timed by the store's clock for the observer, if any.
    pub(crate) async fn timed<T>(
        &self,
        operation: Operation,
        work: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let Some(observer) = self.observer.get() else {
            return work.await;
        };
        let start = self.clock.instant();
        let result = work.await;
        let elapsed = self.clock.instant().saturating_duration_since(start);
        observer.operation(operation, elapsed, result.is_ok());
        result
    }
}

/// Counts the sessions and keeps the number under `count_key` for `millis`.
async fn keep_count(
    link: &Link,
    keys: &Keys,
    count_key: &str,
    millis: u64,
) -> Result<(), StoreError> {
    let count = scan_sids(link, keys).await?.len();
    let mut keep = redis::cmd("SET");
    keep.arg(count_key).arg(count).arg("PX").arg(millis);
    link.run(async |c| keep.exec_async(c).await).await
}
