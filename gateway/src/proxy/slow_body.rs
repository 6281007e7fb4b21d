//! A request body as hyper serves it, cut off when it arrives too slowly: once read, each
//! `body_rate_window` must bring at least `body_min_rate` bytes per second of it, or the body
//! ends with [`TooSlow`]. A body trickling in byte by byte (slowloris) then holds its connection
//! and its task for one window, not for as long as the client likes; a reader that stops
//! reading (the proxy waiting for its upstream) is not judged, since the window only runs out
//! while the body is being read.
//!
//! The timer is made at the first read, so a request without a body costs nothing.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use prometheus::IntCounter;
use tokio::time::{Instant, Sleep};

use crate::config::Limits;
use crate::telemetry::limit_metrics::LimitMetrics;

/// The slowest a body may arrive, and the counter of bodies cut off.
#[derive(Clone)]
pub struct MinRate {
    /// Bytes each window must bring: `body_min_rate` × the window; 0: no check.
    per_window: u64,
    window: Duration,
    cut: IntCounter,
}

impl MinRate {
    /// The rate of `[limits]`, counting cut bodies in `metrics`.
    pub fn of(limits: &Limits, metrics: &LimitMetrics) -> Self {
        Self {
            per_window: limits
                .body_min_rate
                .saturating_mul(limits.body_rate_window.as_secs().max(1)),
            window: limits.body_rate_window,
            cut: metrics.slow_bodies.clone(),
        }
    }
}

/// The body arrived slower than `[limits] body_min_rate`.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived slower than {0} bytes per {1:?}")]
pub struct TooSlow(u64, Duration);

/// Hyper's body of one request, judged by its rate.
pub struct SlowBody {
    inner: Incoming,
    rate: MinRate,
    window: Option<Window>,
}

struct Window {
    ends: Pin<Box<Sleep>>,
    bytes: u64,
}

impl SlowBody {
    /// Judges `inner` by `rate`.
    pub fn new(inner: Incoming, rate: MinRate) -> Self {
        Self {
            inner,
            rate,
            window: None,
        }
    }
}

impl Body for SlowBody {
    type Data = Bytes;
    /// The body's own errors and [`TooSlow`], as the proxy's body type carries them.
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if this.rate.per_window == 0 {
            return polled.map(|f| f.map(|r| r.map_err(Into::into)));
        }
        let window = this.window.get_or_insert_with(|| Window {
            ends: Box::pin(tokio::time::sleep(this.rate.window)),
            bytes: 0,
        });
        match polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    window.bytes = window.bytes.saturating_add(data.len() as u64);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => Poll::Ready(other.map(|r| r.map_err(Into::into))),
            Poll::Pending => {
                while window.ends.as_mut().poll(cx).is_ready() {
                    if window.bytes < this.rate.per_window {
                        this.rate.cut.inc();
                        let error = TooSlow(this.rate.per_window, this.rate.window);
                        return Poll::Ready(Some(Err(Box::new(error))));
                    }
                    window.bytes = 0;
                    window
                        .ends
                        .as_mut()
                        .reset(Instant::now() + this.rate.window);
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
