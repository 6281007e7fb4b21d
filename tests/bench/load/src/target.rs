//! Where the load goes: an address to connect to, and the name the server is asked for (SNI,
//! the certificate check and `Host`), over TLS with the benchmark's CA or over plain HTTP.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use http::Uri;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::client::Resumption;
use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto};

/// Whether a client may resume a TLS session it had before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// Every connection makes a full handshake.
    Never,
    /// Connections resume from tickets or session ids earlier ones received.
    Allowed,
}

/// A server reached at `addr` as `url` names it.
pub struct Target {
    addr: SocketAddr,
    server_name: ServerName<'static>,
    /// `host[:port]` of the URL, sent as `Host`.
    pub authority: String,
    /// The URL's path and query, the request target.
    pub path: String,
    connector: Option<TlsConnector>,
}

/// A connection to the target: TLS, or plain TCP for `http://` URLs.
pub enum Stream {
    /// An `https://` connection.
    Tls(Box<TlsStream<TcpStream>>),
    /// An `http://` connection.
    Plain(TcpStream),
}

impl Target {
    /// The target `url` at `addr`; `https://` needs `ca`, the PEM file that signed the
    /// server's certificate.
    pub fn new(
        url: &Uri,
        addr: SocketAddr,
        ca: Option<&Path>,
        resume: Resume,
    ) -> anyhow::Result<Self> {
        let authority = url.authority().context("the URL has no host")?;
        let server_name = ServerName::try_from(authority.host().to_owned())?;
        let connector = match url.scheme_str() {
            Some("https") => {
                let ca = ca.context("an https:// URL needs --ca")?;
                Some(TlsConnector::from(Arc::new(client_config(ca, resume)?)))
            }
            Some("http") => None,
            other => bail!("unsupported scheme {other:?}: http or https"),
        };
        Ok(Self {
            addr,
            server_name,
            authority: authority.to_string(),
            path: url
                .path_and_query()
                .map_or_else(|| "/".to_owned(), ToString::to_string),
            connector,
        })
    }

    /// Opens a connection and, for TLS, completes the handshake.
    pub async fn connect(&self) -> anyhow::Result<Stream> {
        let tcp = TcpStream::connect(self.addr).await?;
        tcp.set_nodelay(true)?;
        Ok(match &self.connector {
            Some(connector) => Stream::Tls(Box::new(
                connector.connect(self.server_name.clone(), tcp).await?,
            )),
            None => Stream::Plain(tcp),
        })
    }
}

fn client_config(ca: &Path, resume: Resume) -> anyhow::Result<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in
        CertificateDer::pem_file_iter(ca).with_context(|| format!("reading {}", ca.display()))?
    {
        roots.add(cert?)?;
    }
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    if resume == Resume::Never {
        config.resumption = Resumption::disabled();
    }
    Ok(config)
}
