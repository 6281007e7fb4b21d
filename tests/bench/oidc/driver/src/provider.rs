//! A stub OpenID provider for `--login federated`: the partner's provider Pforte is a relying
//! party of, served by the driver itself (on its own thread, so its CPU time is told apart)
//! and only as far as Pforte talks to it: discovery, the key set (one ES256 key) and the token
//! endpoint. Its authorization endpoint is never visited: the simulated browser makes the code
//! itself (see [`code_for`]), as if the person had logged in there at once.
//!
//! ```text
//! Pforte ─GET /.well-known/openid-configuration─▶ the document (fetched once, then cached)
//!        ─GET /jwks─▶ the key set (fetched once, then cached)
//!        ─POST /token (Basic, code, redirect_uri, code_verifier)─▶ client and PKCE checked
//!                                        ─▶ an ID token for the code's nonce, signed (ES256)
//! ```
//!
//! The code carries what a real provider would have kept from the authorization request:
//! `{code_challenge}.{nonce}.{person}`; the token endpoint checks the verifier against that
//! challenge, so a code exchange without the right verifier fails as it would anywhere.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail, ensure};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{ServerConfig, crypto};

use crate::grants::Client;

/// How long the ID tokens it signs are valid.
const TOKEN_LIFETIME_SECS: u64 = 300;

/// The largest token request read.
const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// The upstream group every person has; the benchmark's `idps.toml` maps it to a local one.
pub const GROUP: &str = "partner-ministry/staff";

/// What the stub is told on the command line.
pub struct Settings {
    /// Its issuer, `https://HOST:PORT`; it listens on HOST:PORT (an IP address).
    pub issuer: Uri,
    /// Its certificate chain (PEM).
    pub cert: PathBuf,
    /// The certificate's key (PEM).
    pub key: PathBuf,
    /// The ID tokens' signing key (PEM, PKCS#8, P-256), the same in every run so that Pforte's
    /// cached key set stays right.
    pub signing_key: PathBuf,
    /// Pforte's client id at the provider.
    pub client_id: String,
    /// Pforte's client secret there (client_secret_basic).
    pub client_secret: String,
    /// Pforte's callback, the only redirect URI accepted.
    pub redirect_uri: String,
}

/// What the stub counted since it started.
#[derive(Default)]
pub struct Counts {
    /// Connections accepted (each a TLS handshake).
    pub connections: AtomicU64,
    /// Codes exchanged for an ID token.
    pub tokens: AtomicU64,
    /// Requests refused (wrong client, verifier, redirect URI, path).
    pub refused: AtomicU64,
}

/// The running stub.
pub struct Running {
    /// Its counters.
    pub counts: Arc<Counts>,
    /// `/proc` path (below `/proc/`) of its thread, for its CPU time.
    pub thread: String,
}

/// The code the simulated browser brings back to Pforte's callback, as if the provider had
/// issued it for this authorization request.
pub fn code_for(challenge: &str, nonce: &str, person: usize) -> String {
    format!("{challenge}.{nonce}.{person}")
}

/// Starts the stub on a thread of its own (a single-threaded runtime); returns once it listens.
pub fn start(settings: Settings) -> anyhow::Result<Running> {
    let authority = settings
        .issuer
        .authority()
        .context("the provider's issuer has no host")?;
    let addr: SocketAddr = authority.as_str().parse().with_context(|| {
        format!("the provider's issuer must be https://IP:PORT, not {authority}")
    })?;
    let listener = std::net::TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
    listener.set_nonblocking(true)?;
    let acceptor = TlsAcceptor::from(Arc::new(tls_config(&settings.cert, &settings.key)?));
    let stub = Arc::new(Stub::new(settings)?);
    let counts = stub.counts.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("stub-provider".into())
        .spawn(move || {
            let thread = std::fs::read_link("/proc/thread-self")
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| "self".into());
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let runtime = match runtime {
                Ok(runtime) => runtime,
                Err(error) => {
                    let _ = tx.send(Err(anyhow::Error::from(error)));
                    return;
                }
            };
            runtime.block_on(async move {
                let listener = match TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(error) => {
                        let _ = tx.send(Err(error.into()));
                        return;
                    }
                };
                let _ = tx.send(Ok(thread));
                serve(listener, acceptor, stub).await;
            });
        })?;
    let thread = rx.recv().context("the stub provider's thread ended")??;
    Ok(Running { counts, thread })
}

fn tls_config(cert: &Path, key: &Path) -> anyhow::Result<ServerConfig> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()?;
    let key =
        PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading {}", key.display()))?;
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

async fn serve(listener: TcpListener, acceptor: TlsAcceptor, stub: Arc<Stub>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        stub.counts.connections.fetch_add(1, Ordering::Relaxed);
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let stub = stub.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = service_fn(move |request| {
                let stub = stub.clone();
                async move { Ok::<_, std::convert::Infallible>(stub.answer(request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

/// The stub's state: its documents, made once, and its signing key.
struct Stub {
    settings: Settings,
    basic: String,
    discovery: Bytes,
    jwks: Bytes,
    key: EcdsaKeyPair,
    kid: String,
    rng: SystemRandom,
    counts: Arc<Counts>,
}

impl Stub {
    fn new(settings: Settings) -> anyhow::Result<Self> {
        let der = PrivatePkcs8KeyDer::from_pem_file(&settings.signing_key)
            .with_context(|| format!("reading {}", settings.signing_key.display()))?;
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.secret_pkcs8_der())
                .map_err(|e| anyhow::anyhow!("the signing key is not a P-256 PKCS#8 key: {e}"))?;
        // The public key is the uncompressed point: 0x04, x, y.
        let point = key.public_key().as_ref();
        ensure!(point.len() == 65 && point[0] == 4, "unexpected public key");
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(point)[..8]);
        let issuer = settings.issuer.to_string().trim_end_matches('/').to_owned();
        let discovery = json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
        });
        let jwks = json!({"keys": [{
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        }]});
        Ok(Self {
            basic: Client::basic_auth(&settings.client_id, &settings.client_secret),
            discovery: Bytes::from(discovery.to_string()),
            jwks: Bytes::from(jwks.to_string()),
            key,
            kid,
            rng: SystemRandom::new(),
            counts: Arc::default(),
            settings,
        })
    }

    async fn answer(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let (method, path) = (request.method().clone(), request.uri().path().to_owned());
        let reply = match (&method, path.as_str()) {
            (&Method::GET, "/.well-known/openid-configuration") => {
                Ok(json_reply(StatusCode::OK, self.discovery.clone()))
            }
            (&Method::GET, "/jwks") => Ok(json_reply(StatusCode::OK, self.jwks.clone())),
            (&Method::POST, "/token") => self.token(request).await,
            _ => Err(anyhow::anyhow!("no such endpoint: {method} {path}")),
        };
        reply.unwrap_or_else(|error| {
            let seen = self.counts.refused.fetch_add(1, Ordering::Relaxed);
            if seen < 3 {
                eprintln!("stub provider refused a request: {error:#}");
            }
            let body = json!({"error": "invalid_grant", "error_description": error.to_string()});
            json_reply(StatusCode::BAD_REQUEST, Bytes::from(body.to_string()))
        })
    }

    /// The code exchange: the client's credentials, the redirect URI and PKCE checked; the ID
    /// token for the code's nonce.
    async fn token(&self, request: Request<Incoming>) -> anyhow::Result<Response<Full<Bytes>>> {
        let authorized = request
            .headers()
            .get(header::AUTHORIZATION)
            .is_some_and(|v| v.as_bytes() == self.basic.as_bytes());
        ensure!(authorized, "wrong or missing client credentials");
        let body = Limited::new(request.into_body(), MAX_REQUEST_BYTES)
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("reading the request: {e}"))?
            .to_bytes();
        let (mut grant, mut code, mut redirect, mut verifier) = (None, None, None, None);
        for (name, value) in form_urlencoded::parse(&body) {
            let slot = match &*name {
                "grant_type" => &mut grant,
                "code" => &mut code,
                "redirect_uri" => &mut redirect,
                "code_verifier" => &mut verifier,
                _ => continue,
            };
            *slot = Some(value.into_owned());
        }
        ensure!(
            grant.as_deref() == Some("authorization_code"),
            "not a code grant"
        );
        ensure!(
            redirect.as_deref() == Some(self.settings.redirect_uri.as_str()),
            "wrong redirect_uri {redirect:?}"
        );
        let code = code.context("no code")?;
        let mut parts = code.split('.');
        let (Some(challenge), Some(nonce), Some(person), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            bail!("not a code of this provider");
        };
        let verifier = verifier.context("no code_verifier")?;
        ensure!(
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge,
            "the code_verifier does not match the code_challenge"
        );
        let id_token = self.id_token(nonce, person)?;
        let body = json!({
            "access_token": URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>()),
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECS,
            "id_token": id_token,
        });
        self.counts.tokens.fetch_add(1, Ordering::Relaxed);
        Ok(json_reply(StatusCode::OK, Bytes::from(body.to_string())))
    }

    /// An ID token for person number `person`, with the claims a ministry's provider sends:
    /// name, verified e-mail, groups and its session id (for back-channel logout).
    fn id_token(&self, nonce: &str, person: &str) -> anyhow::Result<String> {
        // The provider's own clock, as a real one's: Pforte checks `iat` and `exp` against its.
        #[allow(clippy::disallowed_methods)]
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let claims = json!({
            "iss": self.settings.issuer.to_string().trim_end_matches('/'),
            "sub": format!("partner-person-{person}"),
            "aud": self.settings.client_id,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_SECS,
            "auth_time": now,
            "nonce": nonce,
            "sid": URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>()),
            "preferred_username": format!("paula{person}"),
            "name": format!("Paula {person}"),
            "email": format!("paula{person}@partner.example"),
            "email_verified": true,
            "groups": [GROUP],
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&self.rng, signing_input.as_bytes())
            .map_err(|_| anyhow::anyhow!("signing failed"))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

fn json_reply(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}
