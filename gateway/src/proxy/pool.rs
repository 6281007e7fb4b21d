//! The keep-alive pool of one HTTP/1.1 upstream, on hyper's connection API: a stack of idle
//! connections behind a lock held only to push or pop one.
//!
//! A request takes the most recently used idle connection (warm, and the older ones age out),
//! or opens a new one. When the answer's head arrives the connection goes back on the stack at
//! once if it is ready for the next request (a small body has been read with the head), else a
//! small task waits until the body has passed and then puts it back. A connection that closed
//! while idle is dropped when met; one that closed just as a request was handed to it returns
//! the request unsent, which then goes on another connection. Connections idle longer than the
//! idle timeout are closed: on the way out of the stack, and by a sweep while the pool lives.
//!
//! hyper-util's pooled client does the same for any protocol, at the price of a pool key hashed
//! per request, checkout futures, and a task spawned for every answer.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;

use super::body::RequestBody;
use super::connect::Connector;
use super::error::{ProxyError, UpstreamCause};

/// The pool of one upstream.
pub struct Http1Pool {
    inner: Arc<Inner>,
}

struct Inner {
    connector: Connector,
    /// Oldest at the bottom, most recently used on top.
    idle: Mutex<Vec<Idle>>,
    max_idle: usize,
    idle_timeout: Duration,
    sweeping: AtomicBool,
}

struct Idle {
    sender: SendRequest<RequestBody>,
    since: Instant,
}

impl Http1Pool {
    /// A pool that keeps at most `max_idle` idle connections, each for at most `idle_timeout`.
    pub fn new(connector: Connector, max_idle: usize, idle_timeout: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                connector,
                idle: Mutex::new(Vec::new()),
                max_idle,
                idle_timeout,
                sweeping: AtomicBool::new(false),
            }),
        }
    }

    /// Sends `req` (origin-form URI, `Host` set) on an idle connection or a new one and returns
    /// the answer's head, its body still streaming.
    pub async fn send(
        &self,
        mut req: Request<RequestBody>,
    ) -> Result<Response<Incoming>, ProxyError> {
        loop {
            let (mut sender, reused) = match self.inner.take_idle() {
                Some(sender) => (sender, true),
                None => {
                    // Boxed: opening a connection is rare, and its large future would otherwise
                    // be moved around with every request.
                    let sender = Box::pin(self.inner.connector.connect())
                        .await
                        .map_err(|e| ProxyError::Connect {
                            source: UpstreamCause::Connect(e),
                        })?;
                    (sender, false)
                }
            };
            match sender.try_send_request(req).await {
                Ok(response) => {
                    self.inner.give_back(sender, &response);
                    return Ok(response);
                }
                Err(mut err) => match err.take_message() {
                    // The kept connection closed before the request went out: another one.
                    Some(unsent) if reused => req = unsent,
                    _ => {
                        return Err(ProxyError::Protocol {
                            source: UpstreamCause::Http1(err.into_error()),
                        });
                    }
                },
            }
        }
    }

    /// Idle connections now (for tests).
    #[cfg(test)]
    fn idle_count(&self) -> usize {
        self.inner.lock().len()
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Vec<Idle>> {
        // The stack holds no invariant a panic elsewhere could break.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most recently used idle connection that can take a request now.
    fn take_idle(&self) -> Option<SendRequest<RequestBody>> {
        let mut idle = self.lock();
        while let Some(entry) = idle.pop() {
            if entry.since.elapsed() >= self.idle_timeout {
                // Everything below it waited longer still.
                idle.clear();
                return None;
            }
            if entry.sender.is_ready() {
                return Some(entry.sender);
            }
        }
        None
    }

    /// Puts the connection back once the exchange whose answer is `response` has finished
    /// on it; an upgraded connection has become the tunnel and never comes back.
    fn give_back(
        self: &Arc<Self>,
        mut sender: SendRequest<RequestBody>,
        response: &Response<Incoming>,
    ) {
        if response.status() == StatusCode::SWITCHING_PROTOCOLS || sender.is_closed() {
            return;
        }
        if sender.is_ready() {
            self.put(sender);
            return;
        }
        let pool = Arc::downgrade(self);
        tokio::spawn(async move {
            if poll_fn(|cx| sender.poll_ready(cx)).await.is_ok()
                && let Some(pool) = pool.upgrade()
            {
                pool.put(sender);
            }
        });
    }

    // A network timer (how long an idle upstream connection is kept), not a judgement a test
    // moves.
    #[allow(clippy::disallowed_methods)]
    fn put(self: &Arc<Self>, sender: SendRequest<RequestBody>) {
        {
            let mut idle = self.lock();
            if idle.len() < self.max_idle {
                idle.push(Idle {
                    sender,
                    since: Instant::now(),
                });
            }
        }
        if !self.sweeping.load(Ordering::Relaxed) && !self.sweeping.swap(true, Ordering::Relaxed) {
            tokio::spawn(sweep(Arc::downgrade(self)));
        }
    }

    /// Closes the connections idle for the idle timeout or closed by the upstream.
    fn evict(&self) {
        self.lock()
            .retain(|entry| !entry.sender.is_closed() && entry.since.elapsed() < self.idle_timeout);
    }
}

/// Sweeps the pool every idle timeout while it lives (it is dropped with the apps it served).
async fn sweep(pool: Weak<Inner>) {
    let Some(period) = pool.upgrade().map(|p| p.idle_timeout) else {
        return;
    };
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        tick.tick().await;
        match pool.upgrade() {
            Some(pool) => pool.evict(),
            None => return,
        }
    }
}

#[cfg(test)]
mod tests;
