//! The memory backend's logout queue: notices wait in a bounded deque, and a waiting taker is
//! woken by a [`Notify`].

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

use crate::records::{LOGOUT_QUEUE_CAP, LogoutNotice, MAX_LOGOUT_WAIT};

use super::lock;

/// Notices of ended sessions, oldest first, each taken once.
#[derive(Debug, Default)]
pub(super) struct LogoutQueue {
    notices: Mutex<VecDeque<LogoutNotice>>,
    ready: Notify,
}

impl LogoutQueue {
    /// Adds a notice, dropping the oldest beyond [`LOGOUT_QUEUE_CAP`], and wakes one taker.
    pub(super) fn push(&self, notice: LogoutNotice) {
        let mut notices = lock(&self.notices);
        if notices.len() >= LOGOUT_QUEUE_CAP {
            notices.pop_front();
        }
        notices.push_back(notice);
        drop(notices);
        self.ready.notify_one();
    }

    /// The oldest notice, waiting up to `wait` (at most [`MAX_LOGOUT_WAIT`]) for one; `None`
    /// when none came. The wait runs on tokio's timer, which is what wakes the task; it is not
    /// a reading of the store's clock (see [`crate::Clock`]).
    pub(super) async fn next(&self, wait: Duration) -> Option<LogoutNotice> {
        let deadline = tokio::time::Instant::now() + wait.min(MAX_LOGOUT_WAIT);
        loop {
            // Registered before looking, so a push between the look and the wait still wakes us.
            let ready = self.ready.notified();
            tokio::pin!(ready);
            ready.as_mut().enable();
            if let Some(notice) = lock(&self.notices).pop_front() {
                return Some(notice);
            }
            if tokio::time::timeout_at(deadline, ready).await.is_err() {
                return None;
            }
        }
    }

    /// How many notices wait.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        lock(&self.notices).len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::id::Sid;

    fn notice(n: u16) -> LogoutNotice {
        LogoutNotice {
            sid: Sid::parse(&format!("{n:016x}")).unwrap(),
            subject: format!("subject-{n}"),
            clients: vec!["wiki".into()],
        }
    }

    #[tokio::test]
    async fn notices_come_out_oldest_first_and_once() {
        let queue = LogoutQueue::default();
        queue.push(notice(1));
        queue.push(notice(2));
        assert_eq!(queue.next(Duration::ZERO).await, Some(notice(1)));
        assert_eq!(queue.next(Duration::ZERO).await, Some(notice(2)));
        assert_eq!(queue.next(Duration::ZERO).await, None);
    }

    #[tokio::test]
    async fn a_waiting_taker_is_woken_by_a_push_and_times_out_without_one() {
        let queue = Arc::new(LogoutQueue::default());
        let waiting = tokio::spawn({
            let queue = Arc::clone(&queue);
            async move { queue.next(Duration::from_secs(5)).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        queue.push(notice(7));
        assert_eq!(waiting.await.unwrap(), Some(notice(7)));

        let start = std::time::Instant::now();
        assert_eq!(queue.next(Duration::from_millis(200)).await, None);
        assert!(start.elapsed() >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn concurrent_takers_share_the_notices_without_duplicates() {
        let queue = Arc::new(LogoutQueue::default());
        let takers: Vec<_> = (0..8)
            .map(|_| {
                let queue = Arc::clone(&queue);
                tokio::spawn(async move { queue.next(Duration::from_secs(5)).await })
            })
            .collect();
        for n in 0..8 {
            queue.push(notice(n));
        }
        let mut got = Vec::new();
        for taker in takers {
            got.push(taker.await.unwrap().unwrap().sid);
        }
        got.sort();
        got.dedup();
        assert_eq!(got.len(), 8);
    }

    #[test]
    fn the_queue_keeps_the_newest_notices_up_to_its_cap() {
        let queue = LogoutQueue::default();
        for n in 0..=u16::try_from(LOGOUT_QUEUE_CAP).unwrap() {
            queue.push(notice(n));
        }
        assert_eq!(queue.len(), LOGOUT_QUEUE_CAP);
        let first = lock(&queue.notices).front().cloned();
        assert_eq!(first, Some(notice(1)));
    }
}
