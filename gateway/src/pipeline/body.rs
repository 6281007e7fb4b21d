//! The body of every response the gateway sends: an upstream's body streamed through, or a page
//! the gateway made itself. An enum rather than a boxed trait object: no allocation per response.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use hyper::body::Incoming;

/// A response body. Both kinds are `Unpin`, so no pin projection is needed.
pub enum ResponseBody {
    /// Streamed from an upstream.
    Upstream(Incoming),
    /// Made by the gateway.
    Local(Full<Bytes>),
}

impl ResponseBody {
    /// A body the gateway made.
    pub fn local(bytes: Bytes) -> Self {
        Self::Local(Full::new(bytes))
    }

    /// An upstream's body.
    pub fn upstream(body: Incoming) -> Self {
        Self::Upstream(body)
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.get_mut() {
            Self::Upstream(body) => Pin::new(body).poll_frame(cx),
            Self::Local(body) => Pin::new(body)
                .poll_frame(cx)
                .map_err(|never| match never {}),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Upstream(body) => body.is_end_stream(),
            Self::Local(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Upstream(body) => body.size_hint(),
            Self::Local(body) => body.size_hint(),
        }
    }
}
