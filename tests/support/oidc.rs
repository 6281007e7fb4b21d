//! The relying-party side for OIDC tests: an HTTP client for the `openidconnect` crate that
//! sends every request to the gateway over TLS (trusting the test CA, with the URL's host as
//! SNI), and a relying party's back-channel logout endpoint that records the logout tokens it
//! receives (with the moment each arrived) and can answer the next calls with a failure.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::CertificateDer;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::client::H1;
use crate::pki::TestCa;

/// An `openidconnect` HTTP client that talks to the gateway at `addr`.
pub fn rp_http(
    addr: SocketAddr,
    root: CertificateDer<'static>,
) -> impl Fn(
    openidconnect::HttpRequest,
) -> std::pin::Pin<
    Box<dyn Future<Output = Result<openidconnect::HttpResponse, std::io::Error>> + Send>,
> {
    move |request: openidconnect::HttpRequest| {
        let root = root.clone();
        Box::pin(async move {
            let uri = request.uri().clone();
            let host = uri.host().unwrap_or("login.gw.test").to_string();
            let mut h1 = H1::connect(addr, &host, &root).await;
            let (parts, body) = request.into_parts();
            let mut builder = Request::builder()
                .method(parts.method)
                .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
                .header("host", &host);
            for (name, value) in &parts.headers {
                builder = builder.header(name, value);
            }
            let reply = h1
                .send(builder.body(Full::new(Bytes::from(body))).unwrap())
                .await;
            let mut response = Response::builder().status(reply.status);
            for (name, value) in &reply.headers {
                response = response.header(name, value);
            }
            Ok(response.body(reply.body.to_vec()).unwrap())
        })
    }
}

/// A relying party's back-channel logout endpoint on https://127.0.0.1:port/backchannel.
pub struct BackchannelRp {
    pub addr: SocketAddr,
    /// Every logout token posted, in order, with the moment its call arrived, including those
    /// answered with a failure.
    tokens: Arc<Mutex<Vec<(Instant, String)>>>,
    /// How many of the next calls with a logout token are answered with `fail_status`.
    failing: Arc<AtomicUsize>,
    /// The status of a failed call: 503 unless [`Self::refuse_next`] said otherwise.
    fail_status: Arc<AtomicU16>,
    task: JoinHandle<()>,
}

impl Drop for BackchannelRp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl BackchannelRp {
    /// Serves with a certificate for 127.0.0.1 signed by `ca`.
    pub async fn start(ca: &TestCa, dir: &Path) -> Self {
        let acceptor = ca
            .leaf(dir, "backchannel-rp", &["127.0.0.1"])
            .acceptor(&[b"http/1.1"]);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tokens = Arc::new(Mutex::new(Vec::new()));
        let failing = Arc::new(AtomicUsize::new(0));
        let fail_status = Arc::new(AtomicU16::new(503));
        let seen = tokens.clone();
        let to_fail = failing.clone();
        let failure = fail_status.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, seen, to_fail, failure) = (
                    acceptor.clone(),
                    seen.clone(),
                    to_fail.clone(),
                    failure.clone(),
                );
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(stream).await else {
                        return;
                    };
                    let service = service_fn(move |req: Request<Incoming>| {
                        let (seen, to_fail, failure) =
                            (seen.clone(), to_fail.clone(), failure.clone());
                        async move {
                            let arrived = Instant::now();
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let token = form_urlencoded::parse(&body)
                                .find(|(k, _)| k == "logout_token")
                                .map(|(_, v)| v.into_owned());
                            let status = match token {
                                Some(token) => {
                                    seen.lock().unwrap().push((arrived, token));
                                    let fail = to_fail
                                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                                            n.checked_sub(1)
                                        })
                                        .is_ok();
                                    if fail {
                                        failure.load(Ordering::SeqCst)
                                    } else {
                                        200
                                    }
                                }
                                None => 400,
                            };
                            Ok::<_, Infallible>(
                                Response::builder()
                                    .status(status)
                                    .body(Full::new(Bytes::new()))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            tokens,
            failing,
            fail_status,
            task,
        }
    }

    /// Answers the next `calls` logout calls with 503 Service Unavailable, as a relying party
    /// that is restarting would (their tokens are still recorded).
    pub fn fail_next(&self, calls: usize) {
        self.failing.store(calls, Ordering::SeqCst);
    }

    /// Answers the next `calls` logout calls with `status` (a 4xx: the gateway gives the call
    /// up at once instead of retrying).
    pub fn refuse_next(&self, calls: usize, status: u16) {
        self.fail_status.store(status, Ordering::SeqCst);
        self.failing.store(calls, Ordering::SeqCst);
    }

    pub fn uri(&self) -> String {
        format!("https://127.0.0.1:{}/backchannel", self.addr.port())
    }

    /// Every logout token posted so far, including those answered with a failure.
    pub fn received(&self) -> Vec<String> {
        self.received_at().into_iter().map(|(_, t)| t).collect()
    }

    /// Every logout token posted so far with the moment its call arrived (before its body was
    /// read), for measuring how soon a logout reaches the relying party.
    pub fn received_at(&self) -> Vec<(Instant, String)> {
        self.tokens.lock().unwrap().clone()
    }
}
