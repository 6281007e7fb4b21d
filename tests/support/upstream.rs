//! Real upstream servers on 127.0.0.1 for the gateway to proxy to. Each answers by path:
//! - anything else: 200 with a JSON echo of what it received (method, path, version, headers);
//! - `/slow/<ms>`: the echo after a delay;
//! - `/download/<bytes>`: that many bytes, streamed in 64 KiB chunks;
//! - `/upload`: reads the whole body and answers `{"received": n, "trailers": [names]}`;
//! - `/status/<code>`: an empty answer with that status;
//! - `/hsts`: the echo with the app's own `Strict-Transport-Security: max-age=60`;
//! - `/ws`: a WebSocket echo.
//!
//! Plain upstreams speak HTTP/1.1 and h2c (prior knowledge); TLS ones offer h2 and http/1.1.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::pki::TestCa;

type Body = BoxBody<Bytes, Infallible>;

pub struct Upstream {
    pub addr: SocketAddr,
    pub name: String,
    pub tls: bool,
    pub requests: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Upstream {
    /// A plain HTTP upstream (HTTP/1.1 and h2c).
    pub async fn start(name: &str) -> Self {
        Self::spawn(name, None).await
    }

    /// An HTTPS upstream whose certificate (for 127.0.0.1 and localhost) `ca` signed.
    pub async fn start_tls(name: &str, ca: &TestCa, dir: &Path) -> Self {
        let leaf = ca.leaf(
            dir,
            &format!("upstream-{name}"),
            &["localhost", "127.0.0.1"],
        );
        Self::spawn(name, Some(leaf.acceptor(&[b"h2", b"http/1.1"]))).await
    }

    async fn spawn(name: &str, tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let (task_name, counter, is_tls) = (name.to_string(), requests.clone(), tls.is_some());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (name, counter, tls) = (task_name.clone(), counter.clone(), tls.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        counter.fetch_add(1, Ordering::SeqCst);
                        answer(name.clone(), req)
                    });
                    let builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = builder
                                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                                    .await;
                            }
                        }
                        None => {
                            let _ = builder
                                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                });
            }
        });
        Self {
            addr,
            name: name.to_string(),
            tls: is_tls,
            requests,
            task,
        }
    }

    pub fn url(&self) -> String {
        if self.tls {
            format!("https://localhost:{}", self.addr.port())
        } else {
            format!("http://{}", self.addr)
        }
    }

    pub fn count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn full(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).boxed());
    *r.status_mut() = status;
    r
}

async fn answer(name: String, mut req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_string();
    let mut response = if let Some(ms) = path.strip_prefix("/slow/") {
        tokio::time::sleep(Duration::from_millis(ms.parse().unwrap_or(1000))).await;
        echo(&name, &req)
    } else if let Some(n) = path.strip_prefix("/download/") {
        download(n.parse().unwrap_or(0))
    } else if path == "/upload" {
        let mut received: u64 = 0;
        let mut trailers: Vec<String> = Vec::new();
        let mut body = req.into_body();
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => {
                    received += frame.data_ref().map_or(0, |d| d.len() as u64);
                    if let Some(names) = frame.trailers_ref() {
                        trailers.extend(names.keys().map(ToString::to_string));
                    }
                }
                Err(_) => return Ok(full(StatusCode::BAD_REQUEST, "broken body")),
            }
        }
        full(
            StatusCode::OK,
            serde_json::json!({ "received": received, "trailers": trailers }).to_string(),
        )
    } else if let Some(code) = path.strip_prefix("/status/") {
        full(
            StatusCode::from_u16(code.parse().unwrap_or(500)).unwrap(),
            Bytes::new(),
        )
    } else if path == "/hsts" {
        let mut r = echo(&name, &req);
        r.headers_mut()
            .insert("strict-transport-security", "max-age=60".parse().unwrap());
        r
    } else if path == "/ws" {
        websocket(&mut req)
    } else {
        echo(&name, &req)
    };
    response
        .headers_mut()
        .insert("x-upstream", name.parse().unwrap());
    Ok(response)
}

fn echo(name: &str, req: &Request<Incoming>) -> Response<Body> {
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in req.headers() {
        headers
            .entry(k.to_string())
            .or_default()
            .push(String::from_utf8_lossy(v.as_bytes()).into_owned());
    }
    let body = serde_json::json!({
        "upstream": name,
        "method": req.method().as_str(),
        "path": req.uri().path(),
        "query": req.uri().query(),
        "version": format!("{:?}", req.version()),
        "headers": headers,
    });
    let mut r = full(StatusCode::OK, body.to_string());
    r.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    r.headers_mut()
        .insert("connection", "keep-alive".parse().unwrap());
    r.headers_mut()
        .insert("keep-alive", "timeout=30".parse().unwrap());
    r
}

fn download(total: u64) -> Response<Body> {
    const CHUNK: usize = 64 * 1024;
    let chunk = Bytes::from(vec![b'x'; CHUNK]);
    let stream = futures_util::stream::unfold(total, move |left| {
        let chunk = chunk.clone();
        async move {
            if left == 0 {
                return None;
            }
            let n = left.min(CHUNK as u64);
            Some((
                Ok::<_, Infallible>(Frame::data(chunk.slice(..n as usize))),
                left - n,
            ))
        }
    });
    let mut r = Response::new(BodyExt::boxed(StreamBody::new(stream)));
    r.headers_mut()
        .insert("content-length", total.to_string().parse().unwrap());
    r
}

fn websocket(req: &mut Request<Incoming>) -> Response<Body> {
    let Some(key) = req.headers().get("sec-websocket-key").cloned() else {
        return full(StatusCode::BAD_REQUEST, "not a websocket handshake");
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(req);
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let mut ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            Role::Server,
            None,
        )
        .await;
        while let Some(Ok(msg)) = ws.next().await {
            if msg.is_close() {
                break;
            }
            if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
                break;
            }
        }
    });
    let mut r = full(StatusCode::SWITCHING_PROTOCOLS, Bytes::new());
    r.headers_mut()
        .insert("connection", "upgrade".parse().unwrap());
    r.headers_mut()
        .insert("upgrade", "websocket".parse().unwrap());
    r.headers_mut()
        .insert("sec-websocket-accept", accept.parse().unwrap());
    r
}
