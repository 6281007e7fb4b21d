//! The load generator's HTTP side: one request over a new TLS connection to one of several
//! gateways, as a load balancer in front of replicas would send it, with a timeout and with
//! every failure as a value (the harness's own client panics, which is right for a test and
//! wrong for a load that expects servers to die).
//!
//! A replica that refuses the connection is marked down for a moment and the request goes to the
//! next one: it never reached a server, so sending it elsewhere is safe (as nginx's
//! `proxy_next_upstream error` does). A failure after the request was sent is the caller's.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::client::tls_config;

/// How long one request may take before it counts as failed (a hang).
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// How long a replica that refused a connection is skipped.
const DOWN_FOR: Duration = Duration::from_millis(500);

/// Why a request got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No replica took the connection.
    Connect,
    /// The connection broke after the request was sent (reset, closed, TLS error).
    Broken,
    /// No answer within [`TIMEOUT`].
    Timeout,
}

/// An answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    /// Which replica answered (index into the pool).
    pub replica: usize,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The replicas behind one name, and the TLS settings to reach them.
pub struct Pool {
    replicas: Vec<SocketAddr>,
    down_until: Mutex<Vec<Option<Instant>>>,
    next: AtomicUsize,
    tls: Arc<rustls::ClientConfig>,
    timeouts: AtomicU64,
}

impl Pool {
    /// Replicas at `replicas`, trusted through `root`.
    pub fn new(replicas: Vec<SocketAddr>, root: &CertificateDer<'static>) -> Self {
        crate::init_crypto();
        Self {
            down_until: Mutex::new(vec![None; replicas.len()]),
            replicas,
            next: AtomicUsize::new(0),
            tls: tls_config(root, &[b"http/1.1"]),
            timeouts: AtomicU64::new(0),
        }
    }

    /// Requests that got no answer within [`TIMEOUT`] so far (hangs).
    pub fn timeouts(&self) -> u64 {
        self.timeouts.load(Ordering::Relaxed)
    }

    /// The replica the next request should start with: round robin over those not marked down.
    pub fn pick(&self) -> usize {
        let n = self.replicas.len();
        let first = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let down = self.down_until.lock().unwrap();
        let now = Instant::now();
        (0..n)
            .map(|i| (first + i) % n)
            .find(|&i| down[i].is_none_or(|until| until <= now))
            .unwrap_or(first)
    }

    /// Sends `req` (an origin-form URI, with its `host` header) starting at replica `start`,
    /// moving on to the next replica while connections are refused.
    pub async fn send(&self, start: usize, req: Request<Full<Bytes>>) -> Result<Answer, Failure> {
        let n = self.replicas.len();
        let (parts, body) = req.into_parts();
        let host = parts
            .headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost")
            .to_owned();
        for i in 0..n {
            let replica = (start + i) % n;
            let one = Request::from_parts(parts.clone(), body.clone());
            match tokio::time::timeout(TIMEOUT, self.once(replica, &host, one)).await {
                Err(_) => {
                    self.timeouts.fetch_add(1, Ordering::Relaxed);
                    return Err(Failure::Timeout);
                }
                Ok(Err(Failure::Connect)) => {
                    self.down_until.lock().unwrap()[replica] = Some(Instant::now() + DOWN_FOR);
                }
                Ok(Err(other)) => return Err(other),
                Ok(Ok(answer)) => return Ok(answer),
            }
        }
        Err(Failure::Connect)
    }

    async fn once(
        &self,
        replica: usize,
        host: &str,
        req: Request<Full<Bytes>>,
    ) -> Result<Answer, Failure> {
        let tcp = TcpStream::connect(self.replicas[replica])
            .await
            .map_err(|_| Failure::Connect)?;
        let name = ServerName::try_from(host.to_owned()).map_err(|_| Failure::Broken)?;
        let tls = TlsConnector::from(self.tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|_| Failure::Broken)?;
        let (mut sender, conn) = http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|_| Failure::Broken)?;
        tokio::spawn(conn);
        let response = sender
            .send_request(req)
            .await
            .map_err(|_| Failure::Broken)?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|_| Failure::Broken)?
            .to_bytes();
        Ok(Answer {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
            replica,
        })
    }
}

/// Host-only cookies, by host then name, as a browser keeps the gateway's `__Host-` cookies.
#[derive(Default, Clone)]
pub struct Jar(BTreeMap<String, BTreeMap<String, String>>);

impl Jar {
    /// The `Cookie` header value for `host`, if any.
    pub fn header(&self, host: &str) -> Option<String> {
        let jar = self.0.get(host).filter(|jar| !jar.is_empty())?;
        Some(
            jar.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }

    pub fn get(&self, host: &str, name: &str) -> Option<&str> {
        self.0.get(host)?.get(name).map(String::as_str)
    }

    /// Keeps (or, when expired, drops) what `answer` sets for `host`.
    pub fn store(&mut self, host: &str, answer: &Answer) {
        for value in answer.headers.get_all("set-cookie") {
            let Ok(text) = value.to_str() else { continue };
            let Some((name, value)) = text.split(';').next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let jar = self.0.entry(host.to_owned()).or_default();
            if text.contains("Max-Age=0") || value.trim().is_empty() {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// A request for `url` (`https://host/path`) with the jar's cookies for its host.
pub fn request(
    method: &str,
    url: &str,
    jar: &Jar,
    form: Option<&[(&str, &str)]>,
) -> (String, Request<Full<Bytes>>) {
    let rest = url.strip_prefix("https://").unwrap_or(url);
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("host", host)
        .header("accept", "text/html");
    if let Some(cookies) = jar.header(host) {
        builder = builder.header("cookie", cookies);
    }
    let body = match form {
        Some(fields) => {
            builder = builder
                .header("content-type", "application/x-www-form-urlencoded")
                .header("origin", format!("https://{host}"));
            Bytes::from(
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(fields.iter())
                    .finish(),
            )
        }
        None => Bytes::new(),
    };
    (host.to_owned(), builder.body(Full::new(body)).unwrap())
}
