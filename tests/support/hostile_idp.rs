//! A hostile upstream OpenID provider for the federation tests: a real HTTPS server (a leaf of
//! the test CA for 127.0.0.1, on a free port) that speaks the authorization code flow the way a
//! provider does, except where the test's [`Scenario`] tells it to lie. A real provider cannot
//! be made to send a wrong `iss`, a forged signature or another login's nonce; this one exists
//! so that each of Pforte's checks on an upstream's answers is seen refusing one.
//!
//! ```text
//!  browser ── GET /authorize ──▶ 302 redirect_uri?code&state&iss     (each changeable)
//!  Pforte  ── GET /.well-known/openid-configuration, GET /jwks       (fetches counted)
//!  Pforte  ── POST /token (client_secret_basic, PKCE S256 checked) ─▶ ID token (each claim,
//!                                                                     the key and alg changeable)
//!  Pforte  ── GET /userinfo (bearer) · browser ── GET /logout (recorded)
//!  test    ── HostileIdp::down / up: the port refuses connections, then serves again
//! ```
//!
//! The scenario is read at each request, so a test changes it between two requests with
//! [`HostileIdp::set`]. Tokens are ES256, signed by the harness's [`ClientKey`] (the
//! `jsonwebtoken` crate, not Pforte's code).

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Request;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::jwks::ClientKey;
use crate::pki::TestCa;
pub use endpoints::s256;
use endpoints::{Grant, answer, jwks_body, now, random_token, sign};

/// The `events` claim that makes a JWT a back-channel logout token.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// What the provider puts in one parameter of its redirect or one claim of its ID token: the
/// value an honest provider would send, nothing, or another value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Field {
    /// The honest value.
    #[default]
    Genuine,
    /// Left out.
    Omitted,
    /// This value instead.
    Forged(String),
}

impl Field {
    /// The value to send, given the honest one (`None` when there is none to send).
    fn pick(&self, genuine: Option<&str>) -> Option<String> {
        match self {
            Field::Genuine => genuine.map(str::to_owned),
            Field::Omitted => None,
            Field::Forged(value) => Some(value.clone()),
        }
    }
}

/// How the ID token is signed: the ways a token can claim to come from the provider without
/// its key having signed it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Signer {
    /// The provider's current key, whose kid is in the JWKS.
    #[default]
    Genuine,
    /// A key whose kid the JWKS never lists (not even after a refetch).
    UnknownKey,
    /// Another key under the kid of the published one: the signature does not verify.
    BadSignature,
    /// `alg: none` and an empty signature.
    AlgNone,
}

/// Everything a test can make the provider do wrong, read at each request. The default is an
/// honest provider whose user is the guest `paula` of the partner ministry's staff.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The redirect's `code`.
    pub code: Field,
    /// The redirect's `state` (genuine: the one the authorization request carried).
    pub state: Field,
    /// The redirect's `iss` (RFC 9207; genuine: this provider's issuer).
    pub iss: Field,
    /// An `error` (e.g. `access_denied`) sent instead of a code.
    pub error: Option<String>,
    /// The `error_description` sent with `error` (a hostile one carries markup).
    pub error_description: Option<String>,
    /// The ID token's `iss`.
    pub issuer: Field,
    /// The ID token's `aud` (genuine: the client id).
    pub audience: Field,
    /// The ID token's `nonce` (genuine: the authorization request's).
    pub nonce: Field,
    /// Seconds from now to the ID token's `exp`; negative makes it expired.
    pub expires_in: i64,
    /// Which key signs the ID token.
    pub signer: Signer,
    /// The user's `sub`.
    pub sub: String,
    /// `email`, when the user has one.
    pub email: Option<String>,
    /// `email_verified` as JSON (`true`, `false`, or a string a lax provider sends); none when
    /// `None`.
    pub email_verified: Option<Value>,
    /// `groups`, when sent.
    pub groups: Option<Vec<String>>,
    /// `preferred_username`, when sent.
    pub preferred_username: Option<String>,
    /// Further claims, set last (a `null` removes one).
    pub extra_claims: serde_json::Map<String, Value>,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            code: Field::Genuine,
            state: Field::Genuine,
            iss: Field::Genuine,
            error: None,
            error_description: None,
            issuer: Field::Genuine,
            audience: Field::Genuine,
            nonce: Field::Genuine,
            expires_in: 300,
            signer: Signer::Genuine,
            sub: "paula-0001".into(),
            email: Some("paula@partner.example".into()),
            email_verified: Some(Value::Bool(true)),
            groups: Some(vec!["partner-ministry/staff".into()]),
            preferred_username: Some("paula".into()),
            extra_claims: serde_json::Map::new(),
        }
    }
}

/// The provider's mutable state, shared by its connections and the test.
struct Shared {
    issuer: String,
    client_id: String,
    client_secret: String,
    /// The upstream session id every ID token and logout token names.
    sid: String,
    scenario: Mutex<Scenario>,
    key: Mutex<ClientKey>,
    rotations: AtomicUsize,
    codes: Mutex<HashMap<String, Grant>>,
    access_tokens: Mutex<HashMap<String, Value>>,
    authorizations: Mutex<Vec<BTreeMap<String, String>>>,
    end_sessions: Mutex<Vec<BTreeMap<String, String>>>,
    token_refusals: Mutex<Vec<String>>,
    jwks_fetches: AtomicUsize,
    discovery_fetches: AtomicUsize,
}

/// Tells the serving task to stop or resume listening, and says when it has.
enum Switch {
    Down(oneshot::Sender<()>),
    Up(oneshot::Sender<()>),
}

/// The running provider. Dropping it stops the server.
pub struct HostileIdp {
    addr: SocketAddr,
    shared: Arc<Shared>,
    switch: mpsc::UnboundedSender<Switch>,
    task: JoinHandle<()>,
}

impl Drop for HostileIdp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HostileIdp {
    /// Serves on a free loopback port with a certificate `ca` signed (written into `dir`), for
    /// the client `client_id` with `client_secret` (client_secret_basic).
    pub async fn start(ca: &TestCa, dir: &Path, client_id: &str, client_secret: &str) -> Self {
        let port = crate::free_port();
        let acceptor = ca
            .leaf(dir, &format!("hostile-idp-{port}"), &["127.0.0.1"])
            .acceptor(&[b"http/1.1"]);
        let listener = bind(port).await;
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            issuer: format!("https://127.0.0.1:{port}"),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            sid: random_token(),
            scenario: Mutex::new(Scenario::default()),
            key: Mutex::new(ClientKey::generate("idp-key-0")),
            rotations: AtomicUsize::new(0),
            codes: Mutex::default(),
            access_tokens: Mutex::default(),
            authorizations: Mutex::default(),
            end_sessions: Mutex::default(),
            token_refusals: Mutex::default(),
            jwks_fetches: AtomicUsize::new(0),
            discovery_fetches: AtomicUsize::new(0),
        });
        let (switch, commands) = mpsc::unbounded_channel();
        let task = tokio::spawn(serve(listener, acceptor, shared.clone(), commands));
        Self {
            addr,
            shared,
            switch,
            task,
        }
    }

    /// The issuer, exactly as idps.toml must name it.
    pub fn issuer(&self) -> String {
        self.shared.issuer.clone()
    }

    /// Where a browser reaches it (for [`crate::browser::Browser::elsewhere`]).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The upstream session id its tokens carry as `sid`.
    pub fn sid(&self) -> String {
        self.shared.sid.clone()
    }

    /// Changes the scenario; the next request sees the change.
    pub fn set(&self, change: impl FnOnce(&mut Scenario)) {
        change(&mut self.shared.scenario.lock().unwrap());
    }

    /// Back to an honest provider (the key stays as it is).
    pub fn reset(&self) {
        *self.shared.scenario.lock().unwrap() = Scenario::default();
    }

    /// Replaces the signing key by a new one under a new kid, and publishes only the new one:
    /// a relying party that cached the JWKS must fetch it again. Returns the new kid.
    pub fn rotate_key(&self) -> String {
        let n = self.shared.rotations.fetch_add(1, Ordering::SeqCst) + 1;
        let kid = format!("idp-key-{n}");
        *self.shared.key.lock().unwrap() = ClientKey::generate(&kid);
        kid
    }

    /// The kid of the key that signs now.
    pub fn kid(&self) -> String {
        self.shared.key.lock().unwrap().kid.clone()
    }

    /// The JWKS it publishes, as JSON text.
    pub fn jwks(&self) -> String {
        jwks_body(&self.shared)
    }

    /// How many times its JWKS was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.shared.jwks_fetches.load(Ordering::SeqCst)
    }

    /// How many times its discovery document was fetched.
    pub fn discovery_fetches(&self) -> usize {
        self.shared.discovery_fetches.load(Ordering::SeqCst)
    }

    /// The query of every authorization request, in order (what Pforte asked for).
    pub fn authorizations(&self) -> Vec<BTreeMap<String, String>> {
        self.shared.authorizations.lock().unwrap().clone()
    }

    /// The query of every visit to the end-session endpoint, in order.
    pub fn end_sessions(&self) -> Vec<BTreeMap<String, String>> {
        self.shared.end_sessions.lock().unwrap().clone()
    }

    /// Why the token endpoint refused each call it refused (a broken client, not a scenario:
    /// wrong secret, PKCE verifier, redirect URI, reused code).
    pub fn token_refusals(&self) -> Vec<String> {
        self.shared.token_refusals.lock().unwrap().clone()
    }

    /// Stops listening and closes every open connection: from now on connections are refused,
    /// as from a provider that is down. Returns once the port is closed.
    pub async fn down(&self) {
        let (ack, done) = oneshot::channel();
        self.switch.send(Switch::Down(ack)).unwrap();
        done.await.unwrap();
    }

    /// Listens again on the same port after [`Self::down`]. Returns once it accepts.
    pub async fn up(&self) {
        let (ack, done) = oneshot::channel();
        self.switch.send(Switch::Up(ack)).unwrap();
        done.await.unwrap();
    }

    /// The claims of a correct back-channel logout token for the provider's session (`sid`
    /// and `sub` of the scenario's user); tests remove or change some to make bad ones.
    pub fn logout_claims(&self) -> Value {
        let sub = self.shared.scenario.lock().unwrap().sub.clone();
        json!({
            "iss": self.shared.issuer,
            "aud": self.shared.client_id,
            "iat": now(),
            "exp": now() + 120,
            "jti": random_token(),
            "sid": self.shared.sid,
            "sub": sub,
            "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
        })
    }

    /// A correct back-channel logout token, for POSTing to Pforte's
    /// `/federation/{id}/backchannel-logout`.
    pub fn logout_token(&self) -> String {
        self.sign_logout(&self.logout_claims(), Signer::Genuine)
    }

    /// `claims` as a logout token (`typ: logout+jwt`) signed as `signer` says.
    pub fn sign_logout(&self, claims: &Value, signer: Signer) -> String {
        sign(&self.shared, claims, signer, "logout+jwt")
    }
}

/// Binds `127.0.0.1:port`, retrying for a moment (a port just closed by [`HostileIdp::down`]).
async fn bind(port: u16) -> TcpListener {
    for _ in 0..50 {
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await {
            return listener;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("cannot bind 127.0.0.1:{port} again")
}

/// Accepts connections until switched down; then holds no socket until switched up.
async fn serve(
    mut listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    mut commands: mpsc::UnboundedReceiver<Switch>,
) {
    let port = listener.local_addr().unwrap().port();
    loop {
        let mut connections = JoinSet::new();
        let went_down = loop {
            tokio::select! {
                accepted = listener.accept() => {
                    if let Ok((stream, _)) = accepted {
                        connections.spawn(connection(stream, acceptor.clone(), shared.clone()));
                    }
                }
                Some(_) = connections.join_next() => {}
                command = commands.recv() => match command {
                    Some(Switch::Down(ack)) => break ack,
                    Some(Switch::Up(ack)) => { let _ = ack.send(()); }
                    None => return,
                },
            }
        };
        connections.shutdown().await;
        drop(listener);
        let _ = went_down.send(());
        let came_up = loop {
            match commands.recv().await {
                Some(Switch::Up(ack)) => break ack,
                Some(Switch::Down(ack)) => {
                    let _ = ack.send(());
                }
                None => return,
            }
        };
        listener = bind(port).await;
        let _ = came_up.send(());
    }
}

/// One TLS connection, HTTP/1.1.
async fn connection(stream: TcpStream, acceptor: TlsAcceptor, shared: Arc<Shared>) {
    let Ok(stream) = acceptor.accept(stream).await else {
        return;
    };
    let service = service_fn(move |req: Request<Incoming>| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(answer(&shared, req).await) }
    });
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

mod endpoints;
#[cfg(test)]
mod tests;
