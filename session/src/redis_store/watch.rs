//! The Redis store's own health: a bounded ping, and every operation timed for an
//! [`Observer`] (see `crate::observe`).

use std::sync::Arc;

use crate::error::StoreError;
use crate::observe::{Observer, Operation};

use super::RedisStore;

impl RedisStore {
    /// One PING on the shared connection, bounded by the command timeout (a connect to a
    /// server that is gone included): what a readiness probe asks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.link
            .run(async |c| redis::cmd("PING").exec_async(c).await)
            .await
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
