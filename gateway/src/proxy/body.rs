//! The body sent upstream: the client's body streamed frame by frame (never buffered whole) and
//! cut off with an error once it passes the app's size limit, or nothing for a retried request.
//! A client's trailers (headers after the body) are dropped: they would carry, past every header
//! check, whatever names the client likes, identity headers included.
//! When the client's side fails (too large, a malformed chunk, a short body) the fault is
//! recorded, so the exchange's failure is answered as the client's error, not the upstream's.

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::BoxBody;

use super::slow_body::SlowBody;

/// Errors of a request body on its way upstream.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A client's request body in the form the proxy streams upstream: the one hyper served (every
/// request in production, no box, judged by its rate), or any other body boxed (requests handed
/// to the pipeline in-process, in tests).
pub enum ClientStream {
    /// Served by hyper.
    Served(SlowBody),
    /// Any other body.
    Boxed(BoxBody<Bytes, BoxError>),
}

/// A request body the pipeline can take: the pipeline, the login host and the proxy are generic
/// over it, so they run the same in the server and in in-process tests.
pub trait FromClient: Body<Data = Bytes, Error: Into<BoxError>> + Send + Unpin + 'static {
    /// The body as the proxy streams it.
    fn into_stream(self) -> ClientStream;
}

impl FromClient for SlowBody {
    fn into_stream(self) -> ClientStream {
        ClientStream::Served(self)
    }
}

impl FromClient for BoxBody<Bytes, BoxError> {
    fn into_stream(self) -> ClientStream {
        ClientStream::Boxed(self)
    }
}

/// What the HTTP layer said while reading a client's body, shared: the same error also ended the
/// body on its way upstream.
#[derive(Debug, Clone)]
pub struct ReadError(Arc<dyn std::error::Error + Send + Sync>);

impl ReadError {
    /// Wraps what the HTTP layer said.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(error))
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// The client sent more than the app accepts.
#[derive(Debug, thiserror::Error)]
#[error("request body larger than {0} bytes")]
pub struct TooLarge(pub u64);

/// What went wrong on the client's side of a request body.
#[derive(Debug, Clone)]
pub enum ClientFault {
    /// More than the app's limit.
    TooLarge,
    /// The body could not be read: what the HTTP layer said.
    Malformed(ReadError),
}

/// The first client fault of one request body, shared between the body and the forwarding code.
pub type FaultCell = Arc<OnceLock<ClientFault>>;

/// A request body for an upstream. Both kinds of client stream are `Unpin`, so no pin
/// projection is needed.
pub enum RequestBody {
    /// The client's body, capped.
    Stream(CappedStream),
    /// No body.
    Empty,
}

/// The client's body with its running byte count.
pub struct CappedStream {
    inner: ClientStream,
    limit: u64,
    seen: u64,
    fault: FaultCell,
}

impl RequestBody {
    /// Streams `inner`, failing once more than `limit` bytes have passed or the client's body
    /// breaks; `fault` says which then, so the caller can answer 413 or 400 instead of 502.
    pub fn capped(inner: ClientStream, limit: u64, fault: FaultCell) -> Self {
        Self::Stream(CappedStream {
            inner,
            limit,
            seen: 0,
            fault,
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
            Self::Stream(stream) => match stream.inner.poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) if frame.is_trailers() => Poll::Ready(None),
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        stream.seen = stream.seen.saturating_add(data.len() as u64);
                        if stream.seen > stream.limit {
                            let _ = stream.fault.set(ClientFault::TooLarge);
                            return Poll::Ready(Some(Err(Box::new(TooLarge(stream.limit)))));
                        }
                    }
                    Poll::Ready(Some(Ok(frame)))
                }
                Poll::Ready(Some(Err(e))) => {
                    let _ = stream.fault.set(ClientFault::Malformed(e.clone()));
                    Poll::Ready(Some(Err(Box::new(e))))
                }
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

impl ClientStream {
    fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ReadError>>> {
        let shared = |e: Arc<dyn std::error::Error + Send + Sync>| ReadError(e);
        match self {
            Self::Served(body) => Pin::new(body)
                .poll_frame(cx)
                .map(|f| f.map(|r| r.map_err(|e| shared(Arc::from(e))))),
            Self::Boxed(body) => Pin::new(body)
                .poll_frame(cx)
                .map(|f| f.map(|r| r.map_err(|e| shared(Arc::from(e))))),
        }
    }

    /// Whether the client's body has ended (or never had anything).
    pub fn is_end_stream(&self) -> bool {
        match self {
            Self::Served(body) => body.is_end_stream(),
            Self::Boxed(body) => body.is_end_stream(),
        }
    }

    /// What the client announced of its body's size.
    pub fn size_hint(&self) -> SizeHint {
        match self {
            Self::Served(body) => body.size_hint(),
            Self::Boxed(body) => body.size_hint(),
        }
    }
}
