//! A partner's OpenID provider as far as discovery goes: an HTTPS server certified by the test
//! CA that serves fixed JSON documents by path (discovery documents and key sets), for
//! `pforte-admin idps test`. Several providers share one server, each under its own path
//! (`https://127.0.0.1:port/good` is an issuer, its document at
//! `/good/.well-known/openid-configuration`). Anything else is a 404.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::pki::TestCa;

/// The server; stops when dropped.
pub struct DiscoveryServer {
    port: u16,
    task: JoinHandle<()>,
}

impl Drop for DiscoveryServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DiscoveryServer {
    /// Serves `documents` (path → JSON text) on a free port of 127.0.0.1; `documents` gets the
    /// server's origin (`https://127.0.0.1:port`) to write issuers and URLs with.
    pub async fn start(
        ca: &TestCa,
        dir: &Path,
        documents: impl FnOnce(&str) -> HashMap<String, String>,
    ) -> Self {
        let acceptor = ca
            .leaf(dir, "discovery-server", &["127.0.0.1"])
            .acceptor(&[b"http/1.1"]);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let documents = Arc::new(documents(&format!("https://127.0.0.1:{port}")));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, documents) = (acceptor.clone(), documents.clone());
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(stream).await else {
                        return;
                    };
                    let service = service_fn(move |req: Request<Incoming>| {
                        let found = documents.get(req.uri().path()).cloned();
                        async move {
                            let (status, body) = match found {
                                Some(body) => (200, body),
                                None => (404, String::new()),
                            };
                            Ok::<_, Infallible>(
                                Response::builder()
                                    .status(status)
                                    .header("content-type", "application/json")
                                    .body(Full::new(Bytes::from(body)))
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
        Self { port, task }
    }

    /// `https://127.0.0.1:port`.
    pub fn origin(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

/// A discovery document for `issuer` with its endpoints below it, the key set at
/// `{issuer}/jwks.json`, and `extra` members (`"name": value` pairs, comma-led) added.
pub fn document(issuer: &str, extra: &str) -> String {
    format!(
        r#"{{"issuer":"{issuer}","authorization_endpoint":"{issuer}/authorize",
        "token_endpoint":"{issuer}/token","jwks_uri":"{issuer}/jwks.json",
        "response_types_supported":["code"],"subject_types_supported":["public"],
        "id_token_signing_alg_values_supported":["ES256"],
        "code_challenge_methods_supported":["S256"]{extra}}}"#
    )
}
