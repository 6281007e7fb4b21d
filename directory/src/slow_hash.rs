//! Password and client-secret hashes (argon2id) cost tens of milliseconds of CPU and about
//! 19 MiB of memory each, on purpose. They run on tokio's blocking pool, so the async workers
//! keep proxying, and at most one per core at once, so a flood of logins or of token requests
//! with wrong secrets queues here instead of taking every core and, through the blocking pool's
//! hundreds of threads, gigabytes of memory. The file directory's logins and the OIDC token
//! endpoint share this one pool.

use std::num::NonZero;
use std::sync::LazyLock;

use tokio::sync::{Semaphore, SemaphorePermit};

static PERMITS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, NonZero::get)));

/// The check was cancelled before it finished (the runtime is shutting down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a password check was interrupted")]
pub struct Interrupted;

/// Runs `check` on the blocking pool once a permit is free, and waits for its answer.
pub async fn run<T: Send + 'static>(
    check: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Interrupted> {
    turn().await?.run(check).await
}

/// Waits for a free permit: a caller that remembers earlier answers looks again once its turn
/// has come, since the requests queued before it may have answered its question meanwhile (a
/// service's first burst of token requests then costs one hash, not one per request).
pub async fn turn() -> Result<Turn, Interrupted> {
    PERMITS
        .acquire()
        .await
        .map(|permit| Turn { _permit: permit })
        .map_err(|_| Interrupted)
}

/// A permit of the pool, held until the check it runs has finished.
pub struct Turn {
    _permit: SemaphorePermit<'static>,
}

impl Turn {
    /// Runs `check` on the blocking pool and waits for its answer.
    pub async fn run<T: Send + 'static>(
        self,
        check: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Interrupted> {
        let answer = tokio::task::spawn_blocking(check).await;
        drop(self);
        answer.map_err(|_| Interrupted)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn no_more_checks_run_at_once_than_there_are_permits() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let checks = (0..16).map(|_| {
            let (running, most) = (running.clone(), most.clone());
            run(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
                running.fetch_sub(1, Ordering::SeqCst);
            })
        });
        for outcome in futures_util::future::join_all(checks).await {
            assert_eq!(outcome, Ok(()));
        }
        let limit = std::thread::available_parallelism().map_or(2, NonZero::get);
        assert!(most.load(Ordering::SeqCst) <= limit);
    }
}
