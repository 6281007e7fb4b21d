//! TLS clients for the gateway: connect to 127.0.0.1 with any SNI name, choose HTTP/1.1 or
//! HTTP/2 by ALPN, and keep a connection to send several requests on it. Redirects are never
//! followed: tests look at them.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, Version};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// A collected response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub version: Version,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub async fn from_response<B>(response: Response<B>) -> Self
    where
        B: hyper::body::Body,
        B::Error: std::fmt::Debug,
    {
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Self {
            status: parts.status.as_u16(),
            version: parts.version,
            headers: parts.headers,
            body,
        }
    }
}

pub fn tls_config(root: &CertificateDer<'static>, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.clone()).unwrap();
    let mut config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// Opens TCP + TLS to `addr` with SNI `server_name`.
pub async fn connect_tls(
    addr: SocketAddr,
    server_name: &str,
    config: Arc<rustls::ClientConfig>,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from(server_name.to_string()).unwrap();
    TlsConnector::from(config).connect(name, tcp).await
}

/// The certificate the server presented.
pub fn peer_leaf(stream: &TlsStream<TcpStream>) -> CertificateDer<'static> {
    stream.get_ref().1.peer_certificates().unwrap()[0]
        .clone()
        .into_owned()
}

/// An HTTP/1.1 connection.
pub struct H1 {
    pub sender: http1::SendRequest<Full<Bytes>>,
    pub leaf: CertificateDer<'static>,
    host: String,
}

impl H1 {
    pub async fn connect(addr: SocketAddr, host: &str, root: &CertificateDer<'static>) -> Self {
        let stream = connect_tls(addr, host, tls_config(root, &[b"http/1.1"]))
            .await
            .unwrap();
        let leaf = peer_leaf(&stream);
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await.unwrap();
        tokio::spawn(async move {
            let _ = conn.with_upgrades().await;
        });
        Self {
            sender,
            leaf,
            host: host.to_string(),
        }
    }

    pub fn request(&self, method: &str, path: &str) -> http::request::Builder {
        Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.host)
    }

    pub async fn send(&mut self, req: Request<Full<Bytes>>) -> Reply {
        self.sender.ready().await.unwrap();
        Reply::from_response(self.sender.send_request(req).await.unwrap()).await
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        let req = self
            .request("GET", path)
            .body(Full::new(Bytes::new()))
            .unwrap();
        self.send(req).await
    }
}

/// An HTTP/2 connection.
pub struct H2 {
    pub sender: http2::SendRequest<Full<Bytes>>,
    host: String,
}

impl H2 {
    pub async fn connect(addr: SocketAddr, host: &str, root: &CertificateDer<'static>) -> Self {
        let stream = connect_tls(addr, host, tls_config(root, &[b"h2"]))
            .await
            .unwrap();
        assert_eq!(
            stream.get_ref().1.alpn_protocol(),
            Some(&b"h2"[..]),
            "server did not agree to h2"
        );
        let (sender, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Self {
            sender,
            host: host.to_string(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        let uri = format!("https://{}{}", self.host, path);
        let req = Request::get(uri).body(Full::new(Bytes::new())).unwrap();
        self.sender.ready().await.unwrap();
        Reply::from_response(self.sender.send_request(req).await.unwrap()).await
    }
}

/// A plain HTTP/1.1 GET (admin listener, redirect listener), with optional extra headers.
pub async fn plain(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = http1::handshake(TokioIo::new(tcp)).await.unwrap();
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .body(Full::new(Bytes::new()))
        .unwrap();
    req.headers_mut()
        .insert("host", addr.to_string().parse().unwrap());
    for (k, v) in headers {
        req.headers_mut().insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    Reply::from_response(sender.send_request(req).await.unwrap()).await
}

/// POSTs `count` chunks of `chunk` over a new HTTP/1.1 connection as a streamed body without a
/// length (chunked), produced one chunk at a time: neither side ever holds it whole.
pub async fn stream_post(
    addr: SocketAddr,
    host: &str,
    root: &CertificateDer<'static>,
    path: &str,
    chunk: Bytes,
    count: u64,
) -> Reply {
    let tls = connect_tls(addr, host, tls_config(root, &[b"http/1.1"]))
        .await
        .unwrap();
    let (mut sender, conn) = http1::handshake(TokioIo::new(tls)).await.unwrap();
    tokio::spawn(conn);
    let frames =
        futures_util::stream::iter((0..count).map(move |_| {
            Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(chunk.clone()))
        }));
    let req = Request::post(path)
        .header("host", host)
        .body(http_body_util::StreamBody::new(frames))
        .unwrap();
    Reply::from_response(sender.send_request(req).await.unwrap()).await
}

/// A client config that accepts any certificate: only for looking at what a server presents.
pub fn accept_any_config(alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    #[derive(Debug)]
    struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);
    impl rustls::client::danger::ServerCertVerifier for AcceptAny {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: rustls::pki_types::UnixTime,
        ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}
