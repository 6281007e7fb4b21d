//! The body sent upstream: the client's body streamed frame by frame (never buffered whole) and
//! cut off with an error once it passes the app's size limit, or nothing for a retried request.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

/// Errors of a request body on its way upstream.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The client sent more than the app accepts.
#[derive(Debug, thiserror::Error)]
#[error("request body larger than {0} bytes")]
pub struct TooLarge(pub u64);

/// A request body for an upstream. `Incoming` is `Unpin`, so no pin projection is needed.
pub enum RequestBody {
    /// The client's body, capped.
    Stream(CappedStream),
    /// No body.
    Empty,
}

/// The client's body with its running byte count.
pub struct CappedStream {
    inner: Incoming,
    limit: u64,
    seen: u64,
    exceeded: Arc<AtomicBool>,
}

impl RequestBody {
    /// Streams `inner`, failing once more than `limit` bytes have passed; `exceeded` is set then,
    /// so the caller can answer 413 instead of 502.
    pub fn capped(inner: Incoming, limit: u64, exceeded: Arc<AtomicBool>) -> Self {
        Self::Stream(CappedStream {
            inner,
            limit,
            seen: 0,
            exceeded,
        })
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            Self::Empty => Poll::Ready(None),
            Self::Stream(stream) => match Pin::new(&mut stream.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        stream.seen = stream.seen.saturating_add(data.len() as u64);
                        if stream.seen > stream.limit {
                            stream.exceeded.store(true, Ordering::Relaxed);
                            return Poll::Ready(Some(Err(Box::new(TooLarge(stream.limit)))));
                        }
                    }
                    Poll::Ready(Some(Ok(frame)))
                }
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Empty => true,
            Self::Stream(stream) => stream.inner.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Empty => SizeHint::with_exact(0),
            Self::Stream(stream) => stream.inner.size_hint(),
        }
    }
}
