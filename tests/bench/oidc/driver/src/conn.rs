//! One keep-alive HTTPS connection to the server (HTTP/1.1 over rustls, the certificate
//! checked against the benchmark's own CA), and the request shapes the grants and logins need.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use bytes::Bytes;
use http::{HeaderName, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto};

/// Where the server listens and who it claims to be: connections go to `addr`, while SNI,
/// the certificate check and the `Host` header use the URL's name, as a real client's would.
pub struct Target {
    addr: SocketAddr,
    server_name: ServerName<'static>,
    authority: String,
    connector: TlsConnector,
}

impl Target {
    /// A target for the server at URL `issuer` reached at `addr`, trusting the CA in `ca_pem`.
    pub fn new(addr: SocketAddr, issuer: &Uri, ca_pem: &Path) -> anyhow::Result<Self> {
        let authority = issuer
            .authority()
            .context("the issuer URL has no host")?
            .clone();
        let server_name = ServerName::try_from(authority.host().to_owned())?;
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca_pem)
            .with_context(|| format!("reading {}", ca_pem.display()))?
        {
            roots.add(cert?)?;
        }
        let mut config =
            ClientConfig::builder_with_provider(Arc::new(crypto::aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()?
                .with_root_certificates(roots)
                .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            addr,
            server_name,
            authority: authority.to_string(),
            connector: TlsConnector::from(Arc::new(config)),
        })
    }

    /// Opens a connection: TCP, TLS handshake, HTTP/1.1 handshake.
    pub async fn connect(&self) -> anyhow::Result<Conn> {
        let tcp = TcpStream::connect(self.addr).await?;
        tcp.set_nodelay(true)?;
        let tls = self
            .connector
            .connect(self.server_name.clone(), tcp)
            .await?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(async move {
            // The connection ends when the worker drops its sender, or on a transport error
            // that the next request reports.
            let _ = connection.await;
        });
        Ok(Conn {
            sender,
            authority: self.authority.clone(),
        })
    }
}

/// An open connection; requests on it go one after the other.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    authority: String,
}

/// What came back: the status, a redirect's target, and the body.
pub struct Reply {
    /// The response status.
    pub status: StatusCode,
    /// The `Location` header, if any.
    pub location: Option<String>,
    /// The `Set-Cookie` headers, as sent.
    pub set_cookies: Vec<String>,
    /// The whole body.
    pub body: Bytes,
}

impl Conn {
    /// `GET path` with an optional `Cookie` header.
    pub async fn get(&mut self, path: &str, cookie: Option<&str>) -> anyhow::Result<Reply> {
        let mut request = Request::get(path).header(header::HOST, &self.authority);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Full::default())?).await
    }

    /// `POST path` with a form body and an `Authorization` header.
    pub async fn post_form(
        &mut self,
        path: &str,
        authorization: &str,
        form: String,
    ) -> anyhow::Result<Reply> {
        self.post_form_with(
            path,
            &[
                (header::AUTHORIZATION, authorization),
                (header::ACCEPT, "application/json"),
            ],
            form,
        )
        .await
    }

    /// `POST path` with a form body and the given headers.
    pub async fn post_form_with(
        &mut self,
        path: &str,
        headers: &[(HeaderName, &str)],
        form: String,
    ) -> anyhow::Result<Reply> {
        let mut request = Request::post(path)
            .header(header::HOST, &self.authority)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        self.send(request.body(Full::new(Bytes::from(form)))?).await
    }

    async fn send(&mut self, request: Request<Full<Bytes>>) -> anyhow::Result<Reply> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().map(str::to_owned))
            .transpose()?;
        let set_cookies = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().map(str::to_owned))
            .collect::<Result<_, _>>()?;
        let body = response.into_body().collect().await?.to_bytes();
        if status.is_server_error() {
            bail!("{status}: {}", String::from_utf8_lossy(&body));
        }
        Ok(Reply {
            status,
            location,
            set_cookies,
            body,
        })
    }
}

impl Reply {
    /// The value the reply sets for cookie `name` (the first, if several), unless it clears it.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies.iter().find_map(|line| {
            let pair = line.split(';').next()?;
            let (n, v) = pair.split_once('=')?;
            (n.trim() == name && !v.is_empty()).then_some(v.trim())
        })
    }
}
