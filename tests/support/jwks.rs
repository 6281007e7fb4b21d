//! A `private_key_jwt` client's side: its signing key and the assertions it signs (with the
//! `jsonwebtoken` crate, not Pforte's code), and the HTTPS server that publishes its public
//! keys at `jwks_uri`, whose keys a test replaces to rotate them and whose fetches it counts.

use std::convert::Infallible;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::pki::TestCa;

/// The assertion type of RFC 7523.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An ES256 key a client signs its assertions with.
pub struct ClientKey {
    pub kid: String,
    encoding: EncodingKey,
    /// The public half as a JWK.
    pub jwk: serde_json::Value,
}

impl ClientKey {
    pub fn generate(kid: &str) -> Self {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = pair.public_key().as_ref();
        Self {
            kid: kid.to_owned(),
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk: serde_json::json!({
                "kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            }),
        }
    }

    /// A JWKS of these keys, as JSON text.
    pub fn set(keys: &[&ClientKey]) -> String {
        serde_json::json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
            .to_string()
    }

    /// Signs `claims` as an ES256 JWT naming this key.
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        self.sign_typed("JWT", claims)
    }

    /// Signs `claims` as an ES256 JWT naming this key, with header `typ` (a provider's logout
    /// token is `logout+jwt`).
    pub fn sign_typed(&self, typ: &str, claims: &serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }

    /// A fresh assertion of `client` for `audience`: a minute long, with a new `jti`.
    pub fn assertion(&self, client: &str, audience: &str) -> String {
        self.sign(&assertion_claims(client, audience))
    }
}

/// The claims of a fresh assertion; tests change them to make bad ones.
pub fn assertion_claims(client: &str, audience: &str) -> serde_json::Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let jti = URL_SAFE_NO_PAD.encode(rand_bytes());
    serde_json::json!({
        "iss": client, "sub": client, "aud": audience,
        "iat": now, "exp": now + 60, "jti": jti,
    })
}

fn rand_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    bytes
}

/// A client's key set at https://127.0.0.1:port/jwks.json, certified by the test CA.
pub struct JwksServer {
    port: u16,
    body: Arc<Mutex<String>>,
    fetches: Arc<AtomicUsize>,
    failing: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl JwksServer {
    pub async fn start(ca: &TestCa, dir: &Path, body: String) -> Self {
        let acceptor = ca
            .leaf(dir, "jwks-server", &["127.0.0.1"])
            .acceptor(&[b"http/1.1"]);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let body = Arc::new(Mutex::new(body));
        let fetches = Arc::new(AtomicUsize::new(0));
        let failing = Arc::new(AtomicBool::new(false));
        let (served, counted, fails) = (body.clone(), fetches.clone(), failing.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, served, counted, fails) = (
                    acceptor.clone(),
                    served.clone(),
                    counted.clone(),
                    fails.clone(),
                );
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(stream).await else {
                        return;
                    };
                    let service = service_fn(move |req: Request<Incoming>| {
                        let (served, counted, fails) =
                            (served.clone(), counted.clone(), fails.clone());
                        async move {
                            counted.fetch_add(1, Ordering::SeqCst);
                            let (status, body) = if fails.load(Ordering::SeqCst) {
                                (503, String::new())
                            } else if req.uri().path() == "/jwks.json" {
                                (200, served.lock().unwrap().clone())
                            } else {
                                (404, String::new())
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
        Self {
            port,
            body,
            fetches,
            failing,
            task,
        }
    }

    pub fn uri(&self) -> String {
        format!("https://127.0.0.1:{}/jwks.json", self.port)
    }

    /// Publishes `body` from now on (a key rotation).
    pub fn publish(&self, body: String) {
        *self.body.lock().unwrap() = body;
    }

    /// Answers 503 from now on (or again 200).
    pub fn fail(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// How many requests it has answered.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}
