//! Why forwarding failed, with what the connection layer said kept whole: the pipeline maps the
//! kind to a response (502, 504, 413, 400) and the metrics to a label; a log line shows the
//! cause's whole chain with `telemetry::error_chain`.

use super::body::ReadError;
use super::connect::ConnectError;
use crate::telemetry::metrics::UpstreamErrorKind;

/// Why forwarding failed. The display names the kind only; the cause is the error's source.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// No upstream accepted a connection.
    #[error("cannot connect to an upstream")]
    Connect {
        /// What the connector or client said.
        #[source]
        source: UpstreamCause,
    },
    /// The upstream did not start its answer in time.
    #[error("upstream did not answer within {0:?}")]
    Timeout(std::time::Duration),
    /// The exchange broke off or the answer was not valid HTTP.
    #[error("upstream exchange failed")]
    Protocol {
        /// What broke.
        #[source]
        source: UpstreamCause,
    },
    /// The request body was larger than the app accepts.
    #[error("request body over the limit of {0} bytes")]
    BodyTooLarge(u64),
    /// The client's request body broke off or was malformed (a bad chunk, a length that does
    /// not match): the client's fault, answered 400, never counted against the upstream.
    #[error("malformed request body")]
    ClientBody {
        /// What the HTTP layer said while reading the client's body.
        #[source]
        source: ReadError,
    },
}

impl ProxyError {
    /// The metric label of this failure, when it is the upstream's fault.
    pub fn upstream_kind(&self) -> Option<UpstreamErrorKind> {
        match self {
            Self::Connect { .. } => Some(UpstreamErrorKind::Connect),
            Self::Timeout(_) => Some(UpstreamErrorKind::Timeout),
            Self::Protocol { .. } => Some(UpstreamErrorKind::Protocol),
            Self::BodyTooLarge(_) | Self::ClientBody { .. } => None,
        }
    }
}

/// What the layer below the proxy reported when an exchange with an upstream failed: the source
/// of [`ProxyError::Connect`] and [`ProxyError::Protocol`].
#[derive(Debug, thiserror::Error)]
pub enum UpstreamCause {
    /// The app lists no upstream to try (the apps file refuses such an app).
    #[error("the app has no upstream")]
    NoUpstream,
    /// Pforte's own connector could not open an HTTP/1.1 connection.
    #[error(transparent)]
    Connect(ConnectError),
    /// hyper failed on an HTTP/1.1 connection of Pforte's pool.
    #[error(transparent)]
    Http1(hyper::Error),
    /// hyper-util's pooled client failed (HTTP/2 and ALPN-negotiated upstreams).
    #[error(transparent)]
    Negotiated(hyper_util::client::legacy::Error),
    /// The upstream URI could not be put together from the upstream's URL and the path.
    #[error("cannot build upstream URI")]
    Uri(#[source] http::Error),
    /// The upstream answered `101 Switching Protocols` to a request that asked for no upgrade.
    #[error("upstream switched protocols unasked")]
    UnaskedUpgrade,
}
