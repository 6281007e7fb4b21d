//! Opening one HTTP/1.1 connection to an upstream: TCP within the connect timeout (no Nagle
//! delay, keep-alive probes on), TLS with ALPN `http/1.1` for `https://`, then hyper's client
//! handshake. The connection is driven in a task of its own until it closes; what the caller
//! keeps is the handle that sends requests on it.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;

use super::body::RequestBody;
use crate::config::apps::UpstreamUrl;

/// Why a connection could not be opened. Every kind is a connect failure: the request was not
/// sent, so it may go to the next upstream.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The host name did not resolve.
    #[error("cannot resolve {authority}: {source}")]
    Resolve {
        /// `host:port`.
        authority: String,
        /// What the resolver said.
        source: io::Error,
    },
    /// No address accepted the TCP connection.
    #[error("tcp connect error to {authority}: {source}")]
    Tcp {
        /// `host:port`.
        authority: String,
        /// The last address's error.
        source: io::Error,
    },
    /// The connect timeout passed first.
    #[error("tcp connect to {authority} timed out after {timeout:?}")]
    Timeout {
        /// `host:port`.
        authority: String,
        /// The app's connect timeout.
        timeout: Duration,
    },
    /// The host is not a name a TLS certificate can be checked against.
    #[error("{host:?} is not a valid TLS server name")]
    ServerName {
        /// The host.
        host: String,
    },
    /// The TLS handshake failed (certificate not trusted, protocol mismatch, reset).
    #[error("TLS handshake with {authority} failed: {source}")]
    Tls {
        /// `host:port`.
        authority: String,
        /// What rustls said.
        source: io::Error,
    },
    /// hyper refused the connection.
    #[error("HTTP/1.1 handshake failed: {0}")]
    Handshake(#[source] hyper::Error),
}

/// Opens connections to one upstream.
pub struct Connector {
    /// The host without IPv6 brackets, as the resolver and TLS want it.
    host: String,
    port: u16,
    authority: String,
    tls: Option<TlsConnector>,
    timeout: Duration,
}

impl Connector {
    /// A connector for `url`; `tls` is used for `https://` only and should offer ALPN
    /// `http/1.1`.
    pub fn new(url: &UpstreamUrl, tls: Arc<rustls::ClientConfig>, timeout: Duration) -> Self {
        let https = url.scheme == http::uri::Scheme::HTTPS;
        let host = url.authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        Self {
            host: host.to_string(),
            port: url
                .authority
                .port_u16()
                .unwrap_or(if https { 443 } else { 80 }),
            authority: url.authority.to_string(),
            tls: https.then(|| TlsConnector::from(tls)),
            timeout,
        }
    }

    /// Opens a connection and returns its request handle.
    pub async fn connect(&self) -> Result<SendRequest<RequestBody>, ConnectError> {
        let tcp = tokio::time::timeout(self.timeout, self.tcp())
            .await
            .map_err(|_| ConnectError::Timeout {
                authority: self.authority.clone(),
                timeout: self.timeout,
            })??;
        let Some(tls) = &self.tls else {
            return handshake(tcp).await;
        };
        let name =
            ServerName::try_from(self.host.clone()).map_err(|_| ConnectError::ServerName {
                host: self.host.clone(),
            })?;
        let stream = tls
            .connect(name, tcp)
            .await
            .map_err(|source| ConnectError::Tls {
                authority: self.authority.clone(),
                source,
            })?;
        handshake(stream).await
    }

    /// The first address of the host that accepts a TCP connection.
    async fn tcp(&self) -> Result<TcpStream, ConnectError> {
        let addrs = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(|source| ConnectError::Resolve {
                authority: self.authority.clone(),
                source,
            })?;
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the name has no address");
        for addr in addrs {
            match open(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last = e,
            }
        }
        Err(ConnectError::Tcp {
            authority: self.authority.clone(),
            source: last,
        })
    }
}

async fn open(addr: SocketAddr) -> io::Result<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_nodelay(true)?;
    let stream = socket.connect(addr).await?;
    // Probe an idle pooled connection after a minute, not the kernel's two hours, so a
    // connection a firewall dropped silently is found before a request is sent on it.
    let keepalive = socket2::TcpKeepalive::new().with_time(KEEPALIVE_IDLE);
    socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive)?;
    Ok(stream)
}

/// Idle time before TCP keep-alive probes on upstream connections.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);

/// hyper's HTTP/1.1 client handshake on `io`; the connection (with upgrades, for WebSockets)
/// runs in its own task.
async fn handshake<IO>(io: IO) -> Result<SendRequest<RequestBody>, ConnectError>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::Builder::new()
        .handshake(TokioIo::new(io))
        .await
        .map_err(ConnectError::Handshake)?;
    tokio::spawn(async move {
        if let Err(e) = connection.with_upgrades().await {
            tracing::debug!(error = %e, "upstream connection ended with an error");
        }
    });
    Ok(sender)
}
