//! One logout, everywhere, within one second (issue 14): two gateways on one Redis, with the same
//! signing keys and clients as replicas in production. A person logs in through A and gets
//! tokens for two clients with back-channel logout URIs (one code flow through each replica).
//! Then the session ends in one of four ways: the portal's logout on A, RP-initiated logout
//! (`end_session`) on A, an admin's revocation on A's admin listener, or offboarding by
//! `pforte-admin users disable` (another process, which reaches only the directory and Redis).
//! Each way must bring every client a valid logout token for the session and make B refuse the
//! session cookie, both within [`BOUND`].
//!
//! Times are counted from the moment the logout is asked for (the request sent, the command
//! started) to the arrival of the relying party's first logout call, and to the first answer of
//! B that refuses the session (B is polled all along, and knows the session before). The bound
//! here is generous, because the suite runs tests side by side on a shared machine; the
//! one-second goal is measured by `tests/bench/logout.sh`, which runs these tests with
//! `PFORTE_LOGOUT_RUNS=N` (runs per kind, default 1) and reads the `logout-timing` lines they
//! print.
//!
//! A last test ends more sessions at once than a replica delivers at once, each with a client
//! that is down, and sees the next logout reach a client that is up within the bound.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use openidconnect::PkceCodeChallenge;
use pforte_e2e::browser::{Browser, hidden_value};
use pforte_e2e::client::{H1, plain};
use pforte_e2e::gateway::{Gateway, GatewayBuilder, UNLIMITED_RATES, app_toml};
use pforte_e2e::oidc::BackchannelRp;
use pforte_e2e::person::LdapPerson;
use pforte_e2e::pki::TestCa;
use pforte_e2e::upstream::Upstream;
use pforte_e2e::{env, eventually, free_port, unique_prefix};
use pforte_keys::{KeyDir, VerifyOptions};
use rustls_pki_types::CertificateDer;
use serde_json::Value;

use crate::admin_people::{Ldap, admin, admin_config};

/// What this test allows; the goal, one second, is the benchmark's to measure.
const BOUND: Duration = Duration::from_secs(5);

const ISSUER: &str = "https://login.gw.test";
const MAIL: &str = "https://mail.gw.test";
const SESSION_COOKIE: &str = "__Host-pforte";
const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The two clients, each with a back-channel logout endpoint of its own.
const CLIENTS: [&str; 2] = ["notes", "chat"];

const POLICY: &str = "[[rule]]\napps = [\"mail\"]\nallow = [\"authenticated\"]\n";

fn callback(client: &str) -> String {
    format!("http://127.0.0.1:8765/{client}/callback")
}

/// Public clients of the mail app, each `(id, backchannel_logout_uri)`.
fn clients_toml(clients: &[(&str, String)]) -> String {
    clients
        .iter()
        .map(|(id, logout_uri)| {
            format!(
                "[[client]]\nid = \"{id}\"\napp = \"mail\"\npublic = true\nredirect_uris = [\"{}\"]\n\
                 scopes = [\"openid\", \"profile\"]\nbackchannel_logout_uri = \"{logout_uri}\"\n\n",
                callback(id),
            )
        })
        .collect()
}

/// A replica: mail for anyone logged in, people from the test slapd, sessions in Redis under
/// `prefix`, the OIDC provider with `clients`.
fn replica(mail: &Upstream, prefix: &str, clients: &str) -> GatewayBuilder {
    Gateway::builder()
        .apps(app_toml("mail", "mail.gw.test", "/", &[mail.url()], ""))
        .policy(POLICY)
        .ldap(&[env("PFORTE_TEST_LDAP_URL")])
        .redis(prefix, "")
        .oidc(clients)
}

/// The ways a session ends.
#[derive(Clone, Copy, Debug)]
enum Logout {
    /// `POST /logout` on the login host of A.
    Portal,
    /// `GET /oidc/end_session?id_token_hint=…` on A.
    EndSession,
    /// `POST /sessions/revoke?sid=…` on A's admin listener.
    AdminRevoke,
    /// `pforte-admin users disable NAME`: the directory, then the person's sessions in Redis.
    Offboarding,
}

impl Logout {
    fn name(self) -> &'static str {
        match self {
            Self::Portal => "portal",
            Self::EndSession => "end_session",
            Self::AdminRevoke => "admin_revoke",
            Self::Offboarding => "offboarding",
        }
    }
}

/// Two replicas, the relying parties' back-channel endpoints, and a config for `pforte-admin`
/// with the directory's admin account.
struct Replicas {
    _load: Load,
    a: Gateway,
    b: Gateway,
    rps: [BackchannelRp; 2],
    admin_config: PathBuf,
    _mail: Upstream,
    _dir: tempfile::TempDir,
}

/// A person's session, seen from both replicas.
struct SignedIn {
    at_a: Browser,
    at_b: Browser,
    sid: String,
    sub: String,
    id_token: String,
}

/// With `PFORTE_LOGOUT_LOAD=CONNECTIONS` (the benchmark's `LOAD`), wrk keeps each replica
/// busy with that many connections asking for mail without a session (each answered with the
/// way to the login) for as long as the replicas run; at a lower priority than the test, whose
/// core it shares. When it stops, its summary is printed as a `logout-load` line.
struct Load(Vec<(std::process::Child, tempfile::NamedTempFile)>);

impl Load {
    fn start(gateways: &[&Gateway]) -> Self {
        let Ok(connections) = std::env::var("PFORTE_LOGOUT_LOAD") else {
            return Self(Vec::new());
        };
        let start = |gw: &&Gateway| {
            let out = tempfile::NamedTempFile::new().unwrap();
            let wrk = std::process::Command::new("nice")
                .args(["-n", "10", "wrk", "-t1", "-c", &connections, "-d1h"])
                .args(["-H", "Host: mail.gw.test"])
                .arg(format!("https://127.0.0.1:{}/inbox", gw.https.port()))
                .stdout(out.reopen().unwrap())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("wrk (PFORTE_LOGOUT_LOAD)");
            (wrk, out)
        };
        Self(gateways.iter().map(start).collect())
    }
}

impl Drop for Load {
    /// Stops wrk with SIGINT, on which it prints its summary.
    fn drop(&mut self) {
        for (wrk, out) in &mut self.0 {
            let _ = std::process::Command::new("kill")
                .args(["-INT", &wrk.id().to_string()])
                .status();
            let _ = wrk.wait();
            let summary = std::fs::read_to_string(out.path()).unwrap_or_default();
            let figures: Vec<&str> = summary
                .lines()
                .map(str::trim)
                .filter(|l| {
                    ["Requests/sec", "Non-2xx", "Socket errors"]
                        .iter()
                        .any(|start| l.starts_with(start))
                        || l.contains("requests in")
                })
                .collect();
            println!("logout-load {}", figures.join("; "));
        }
    }
}

/// How long after the logout was asked for each effect was seen.
struct Timing {
    first_delivery: Duration,
    all_delivered: Duration,
    refused_on_b: Duration,
}

impl Replicas {
    async fn start(label: &str) -> Self {
        let mail = Upstream::start("mail").await;
        let ca = TestCa::new();
        let dir = tempfile::tempdir().unwrap();
        let rps = [
            relying_party(&ca, dir.path(), CLIENTS[0]).await,
            relying_party(&ca, dir.path(), CLIENTS[1]).await,
        ];
        let prefix = unique_prefix(label);
        let clients = clients_toml(&[(CLIENTS[0], rps[0].uri()), (CLIENTS[1], rps[1].uri())]);
        let a = replica(&mail, &prefix, &clients)
            .start_with_ca(ca.clone())
            .await;
        let b = replica(&mail, &prefix, &clients)
            .shared_keys(&a.path("keys"))
            .start_with_ca(ca)
            .await;
        let ldap = Ldap::new();
        let admin_config = admin_config(
            &a,
            "admin.toml",
            &ldap.admin_section(&ldap.admin_dn, &env("PFORTE_TEST_LDAP_ADMIN_PW_FILE")),
        );
        Self {
            _load: Load::start(&[&a, &b]),
            a,
            b,
            rps,
            admin_config,
            _mail: mail,
            _dir: dir,
        }
    }

    /// `person` logs in to mail through A; the first client gets its tokens through A, the
    /// second through B; B lets the session into mail.
    async fn sign_in(&self, person: &LdapPerson) -> SignedIn {
        let mut at_a = Browser::new(self.a.https, self.a.root());
        let hops = at_a
            .login(&format!("{MAIL}/"), &person.username, &person.password)
            .await;
        assert_eq!(hops[0].reply.status, 200, "{}", hops[0].reply.text());
        let mut at_b = at_a.at(self.b.https, self.b.root());
        let first = tokens(&self.a, &mut at_a, CLIENTS[0]).await;
        let second = tokens(&self.b, &mut at_b, CLIENTS[1]).await;
        let id_token = first["id_token"].as_str().unwrap().to_owned();
        let claims = self.verify(&id_token, CLIENTS[0], "JWT");
        let sid = claims["sid"].as_str().unwrap().to_owned();
        let sub = claims["sub"].as_str().unwrap().to_owned();
        let other = self.verify(second["id_token"].as_str().unwrap(), CLIENTS[1], "JWT");
        assert_eq!(other["sid"], sid.as_str(), "one session, two clients");
        assert_eq!(
            at_b.get(&format!("{MAIL}/inbox")).await.status,
            200,
            "B lets the session in before the logout"
        );
        SignedIn {
            at_a,
            at_b,
            sid,
            sub,
            id_token,
        }
    }

    /// Ends the session the `kind` way; returns the moment the logout was asked for.
    async fn log_out(&self, kind: Logout, signed: &mut SignedIn, person: &LdapPerson) -> Instant {
        match kind {
            Logout::Portal => {
                let portal = signed.at_a.get(&format!("{ISSUER}/")).await.text();
                let csrf = hidden_value(&portal, "csrf").expect("the portal's logout form");
                let asked = Instant::now();
                let reply = signed
                    .at_a
                    .post(&format!("{ISSUER}/logout"), &[("csrf", &csrf)])
                    .await;
                assert_eq!(reply.status, 200, "{}", reply.text());
                asked
            }
            Logout::EndSession => {
                let url = format!(
                    "{ISSUER}/oidc/end_session?id_token_hint={}",
                    signed.id_token
                );
                let asked = Instant::now();
                let reply = signed.at_a.get(&url).await;
                assert_eq!(reply.status, 200, "{}", reply.text());
                assert!(!reply.text().contains("confirm"), "ended without asking");
                asked
            }
            Logout::AdminRevoke => {
                let path = format!("/sessions/revoke?sid={}", signed.sid);
                let asked = Instant::now();
                let reply = plain(self.a.admin, "POST", &path, &[]).await;
                assert_eq!(reply.status, 200, "{}", reply.text());
                let revoked = reply.json()["revoked"].as_array().map(Vec::len);
                assert_eq!(revoked, Some(1), "{}", reply.text());
                asked
            }
            Logout::Offboarding => {
                let (config, name) = (self.admin_config.clone(), person.username.clone());
                let asked = Instant::now();
                let out = tokio::task::spawn_blocking(move || {
                    admin(&config, &["users", "disable", &name], "")
                })
                .await
                .unwrap();
                assert!(out.status.success(), "pforte-admin users disable: {out:?}");
                let said = String::from_utf8_lossy(&out.stdout);
                assert!(said.contains("ended 1 session(s)"), "{said}");
                asked
            }
        }
    }

    /// The claims of `token` after checking its signature with the replicas' keys, its issuer,
    /// its audience `client` and its `typ`.
    fn verify(&self, token: &str, client: &str, typ: &str) -> Value {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let keys = KeyDir::new(self.a.path("keys")).load(now).unwrap();
        let options = VerifyOptions::new(ISSUER, [client]).with_typ(typ);
        keys.verify(token, &options, now)
            .unwrap_or_else(|e| panic!("{typ} for {client}: {e}"))
    }

    /// The logout tokens each client received for `sid`, with their arrival.
    fn logout_tokens(&self, sid: &str) -> [Vec<(Instant, String)>; 2] {
        self.rps.each_ref().map(|rp| {
            rp.received_at()
                .into_iter()
                .filter(|(_, token)| claims_of(token)["sid"] == sid)
                .collect()
        })
    }

    /// One whole run: a new person logs in, gets tokens, and is logged out the `kind` way; the
    /// times are printed as a `logout-timing` line.
    async fn run(&self, kind: Logout) {
        let person = LdapPerson::add(&format!("bound-{}", kind.name().replace('_', "-")));
        let mut signed = self.sign_in(&person).await;
        // B is asked all along, from before the logout: its first refusal is the moment it
        // learnt of the logout (to within one request's time, about a millisecond).
        let cookie = signed
            .at_b
            .cookie("mail.gw.test", SESSION_COOKIE)
            .expect("mail's session cookie");
        let poller = tokio::spawn(first_refusal(
            self.b.https,
            self.b.root(),
            format!("{SESSION_COOKIE}={cookie}"),
            Instant::now() + BOUND * 2,
        ));
        let asked = self.log_out(kind, &mut signed, &person).await;
        let refused = poller.await.unwrap();
        let refused_on_b = refused
            .map(|at| at.saturating_duration_since(asked))
            .unwrap_or_else(|| panic!("{kind:?}: B still lets the session in after {BOUND:?}"));
        let delivered = eventually(BOUND, async || {
            self.logout_tokens(&signed.sid)
                .iter()
                .all(|got| !got.is_empty())
        })
        .await;
        assert!(
            delivered,
            "{kind:?}: a client got no logout token within {BOUND:?}"
        );
        let got = self.logout_tokens(&signed.sid);
        let mut firsts = Vec::new();
        for (client, received) in CLIENTS.iter().zip(&got) {
            assert_eq!(received.len(), 1, "{kind:?}: {client} told once");
            let (at, token) = &received[0];
            let claims = self.verify(token, client, "logout+jwt");
            assert_eq!(claims["sid"], signed.sid.as_str());
            assert_eq!(claims["sub"], signed.sub.as_str());
            assert!(claims["events"][BACKCHANNEL_EVENT].is_object(), "{claims}");
            assert!(claims.get("nonce").is_none(), "a logout token has no nonce");
            firsts.push(at.saturating_duration_since(asked));
        }
        let timing = Timing {
            first_delivery: firsts.iter().copied().min().unwrap(),
            all_delivered: firsts.iter().copied().max().unwrap(),
            refused_on_b,
        };
        println!(
            "logout-timing kind={} first_delivery_ms={:.1} all_delivered_ms={:.1} refused_on_b_ms={:.1}",
            kind.name(),
            millis(timing.first_delivery),
            millis(timing.all_delivered),
            millis(timing.refused_on_b),
        );
        assert!(
            timing.all_delivered <= BOUND && timing.refused_on_b <= BOUND,
            "{kind:?}: delivered after {:?}, refused on B after {:?}, beyond {BOUND:?}",
            timing.all_delivered,
            timing.refused_on_b,
        );
        // The session's cookie is refused on B's login host too.
        let portal = signed.at_b.get(&format!("{ISSUER}/")).await;
        assert_eq!(
            portal.status, 303,
            "{kind:?}: B's portal still shows the session"
        );
    }
}

/// The back-channel logout endpoint of `client`, its certificate in a folder of its own.
async fn relying_party(ca: &TestCa, dir: &std::path::Path, client: &str) -> BackchannelRp {
    let folder = dir.join(client);
    std::fs::create_dir(&folder).unwrap();
    BackchannelRp::start(ca, &folder).await
}

/// A code for `client` in the browser's session, exchanged for tokens on `gateway`.
async fn tokens(gateway: &Gateway, browser: &mut Browser, client: &str) -> Value {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let redirect = callback(client);
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client)
        .append_pair("redirect_uri", &redirect)
        .append_pair("scope", "openid profile")
        .append_pair("state", "st")
        .append_pair("code_challenge", challenge.as_str())
        .append_pair("code_challenge_method", "S256")
        .finish();
    let reply = browser
        .get(&format!("{ISSUER}/oidc/authorize?{query}"))
        .await;
    let location = reply.header("location").unwrap_or_default();
    assert!(
        location.starts_with(&redirect),
        "{}: {}",
        reply.status,
        reply.text()
    );
    let code = form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("redirect_uri", &redirect)
        .append_pair("client_id", client)
        .append_pair("code_verifier", verifier.secret())
        .finish();
    let mut h1 = H1::connect(gateway.https, "login.gw.test", &gateway.root()).await;
    let request = h1
        .request("POST", "/oidc/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.into())
        .unwrap();
    let reply = h1.send(request).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

/// Asks B for mail with the session's cookie, over one kept-alive connection, until it refuses
/// (302 to the login); the moment the refusing answer arrived, or `None` by `deadline`.
async fn first_refusal(
    b: SocketAddr,
    root: CertificateDer<'static>,
    cookie: String,
    deadline: Instant,
) -> Option<Instant> {
    let mut h1 = H1::connect(b, "mail.gw.test", &root).await;
    while Instant::now() < deadline {
        let request = h1
            .request("GET", "/inbox")
            .header("cookie", &cookie)
            .body(Default::default())
            .unwrap();
        let reply = h1.send(request).await;
        match reply.status {
            302 => return Some(Instant::now()),
            200 => tokio::time::sleep(Duration::from_millis(2)).await,
            other => panic!("B answered {other}: {}", reply.text()),
        }
    }
    None
}

fn claims_of(jwt: &str) -> Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs per kind: 1 in the suite; the benchmark sets more.
fn runs() -> usize {
    std::env::var("PFORTE_LOGOUT_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

async fn every_run(kind: Logout) {
    let replicas = Replicas::start(&format!("logout-{}", kind.name())).await;
    for _ in 0..runs() {
        replicas.run(kind).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_logout_reaches_every_client_and_replica() {
    every_run(Logout::Portal).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_session_reaches_every_client_and_replica() {
    every_run(Logout::EndSession).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_revocation_reaches_every_client_and_replica() {
    every_run(Logout::AdminRevoke).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offboarding_reaches_every_client_and_replica() {
    every_run(Logout::Offboarding).await;
}

/// A client that is down (nothing listens on its port) fails the first logout call of every
/// session it had tokens in, and those calls are retried for minutes. More such logouts than a
/// replica delivers at once (256) must not hold up the next logout's call to a client that is up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_is_down_holds_up_no_other_clients_logouts() {
    const SESSIONS: usize = 300;
    let mail = Upstream::start("mail").await;
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let up = relying_party(&ca, dir.path(), CLIENTS[0]).await;
    let down = format!("https://127.0.0.1:{}/backchannel", free_port());
    let clients = clients_toml(&[(CLIENTS[0], up.uri()), (CLIENTS[1], down)]);
    // 300 logins and token grants from this one address within seconds: the rate limits per
    // address (issue 16) are off for it.
    let gw = replica(&mail, &unique_prefix("logout-down"), &clients)
        .limits(format!(
            "header_read_timeout = \"3s\"\nshutdown_grace = \"10s\"\n{UNLIMITED_RATES}"
        ))
        .start_with_ca(ca)
        .await;
    let person = LdapPerson::add("down-client");
    let login = format!("{ISSUER}/login");
    let session_with_tokens = async |clients: &[&str]| {
        let mut browser = Browser::new(gw.https, gw.root());
        browser
            .login(&login, &person.username, &person.password)
            .await;
        let mut id_token = Value::Null;
        for client in clients {
            id_token = tokens(&gw, &mut browser, client).await["id_token"].take();
        }
        (browser, id_token)
    };

    // Many sessions with tokens for the client that is down, ended at once.
    let (_, id_token) = session_with_tokens(&[CLIENTS[1]]).await;
    let sub = claims_of(id_token.as_str().unwrap())["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    futures_util::future::join_all((0..4).map(|_| async {
        for _ in 0..SESSIONS / 4 {
            session_with_tokens(&[CLIENTS[1]]).await;
        }
    }))
    .await;
    let reply = plain(
        gw.admin,
        "POST",
        &format!("/sessions/revoke?subject={sub}"),
        &[],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let revoked = reply.json()["revoked"].as_array().map(Vec::len);
    assert_eq!(revoked, Some(SESSIONS + 1), "{}", reply.text());

    // The next logout reaches the client that is up at once.
    let (mut browser, id_token) = session_with_tokens(&CLIENTS).await;
    let sid = claims_of(id_token.as_str().unwrap())["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let portal = browser.get(&format!("{ISSUER}/")).await.text();
    let csrf = hidden_value(&portal, "csrf").expect("the portal's logout form");
    let asked = Instant::now();
    let reply = browser
        .post(&format!("{ISSUER}/logout"), &[("csrf", &csrf)])
        .await;
    assert_eq!(reply.status, 200);
    let told = eventually(BOUND, async || {
        up.received()
            .iter()
            .any(|token| claims_of(token)["sid"] == sid.as_str())
    })
    .await;
    assert!(
        told,
        "the client that is up was not told within {BOUND:?} of the logout ({:?} ago)",
        asked.elapsed()
    );
}
