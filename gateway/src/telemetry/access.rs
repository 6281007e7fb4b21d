//! The access log and request metrics, written when a response body ends (or the client goes
//! away), so each line has the real duration and byte count. Lines go to the `pforte::access`
//! target with low-cardinality fields (and `request_id`, `subject`: who, for an operator's
//! search) and never a header value, cookie or query string.

use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{Method, StatusCode, Version};
use http_body::{Body, Frame, SizeHint};

use super::metrics::RouteMetrics;
use crate::telemetry::activity::InFlight;

/// The facts of one request, completed by the response body.
pub struct AccessRecord {
    /// When the request head arrived.
    pub started: Instant,
    /// The request id.
    pub request_id: String,
    /// Who asked (their session's subject), when the request named a live session or logged in.
    pub subject: Option<String>,
    /// The route target's series and label (an app, `portal`, or `-` for no route).
    pub route: Arc<RouteMetrics>,
    /// Request method.
    pub method: Method,
    /// Request path without the query (queries can carry codes and tokens).
    pub path: String,
    /// HTTP version the client spoke.
    pub version: Version,
    /// Response status.
    pub status: StatusCode,
    /// Client address.
    pub peer: IpAddr,
    /// Keeps the connection from counting as idle until the body ends.
    pub in_flight: InFlight,
}

impl AccessRecord {
    fn finish(self, bytes: u64, completed: bool) {
        let elapsed = self.started.elapsed();
        self.route
            .record(&self.method, self.status, elapsed.as_secs_f64());
        tracing::info!(
            target: "pforte::access",
            request_id = %self.request_id,
            app = %self.route.label,
            subject = self.subject.as_deref().map(tracing::field::display),
            method = %self.method,
            path = %self.path,
            version = ?self.version,
            status = self.status.as_u16(),
            duration_ms = (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0,
            bytes,
            completed,
            peer = %self.peer,
        );
    }
}

pin_project_lite::pin_project! {
    /// A response body that writes the access record when hyper is done with it (sent or abandoned).
    pub struct Logged<B> {
        #[pin]
        inner: B,
        record: Option<AccessRecord>,
        bytes: u64,
        ended: bool,
    }

    impl<B> PinnedDrop for Logged<B> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(record) = this.record.take() {
                record.finish(*this.bytes, *this.ended);
            }
        }
    }
}

impl<B> Logged<B> {
    /// Wraps `inner`; `record` is written once, when the body is dropped.
    pub fn new(inner: B, record: AccessRecord) -> Self {
        Self {
            inner,
            record: Some(record),
            bytes: 0,
            ended: false,
        }
    }
}

impl<B> Body for Logged<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let mut this = self.project();
        let polled = this.inner.as_mut().poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    *this.bytes += data.len() as u64;
                }
                *this.ended = this.inner.is_end_stream();
            }
            Poll::Ready(None) => *this.ended = true,
            Poll::Ready(Some(Err(_))) | Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
