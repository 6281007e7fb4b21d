//! The session store's primary dies under load (issue 16, point 1): three gateways share a
//! Sentinel-managed Redis (a primary, a replica, three sentinels: `tests/support/sentinel.rs`),
//! people log in and use mail through all three, and the primary is killed (SIGKILL).
//!
//! Each person also gets tokens for an OIDC client (the code through the gateway they logged
//! in on, the code exchanged on the next, the refresh token rotated on the third).
//!
//! Asserted: no session that a browser was told about (the login's 303 with the session
//! cookie) is lost, nor any refresh rotation a client was told about (its new refresh token
//! still works); logins and token grants work again on every gateway within [`RECOVERY`] of
//! the kill; and a logout after the failover is refused on every gateway within the
//! revocation bound. The gateways confirm these writes with `WAIT` (`acknowledge_replicas =
//! 1`), which is what keeps those of the last instant before the kill.
//!
//! `tests/scenarios/failover.sh` runs this test longer and with more load through the
//! variables below, against release builds, and prints its figures (`failover-figures` lines).
//!   PFORTE_FAILOVER_WORKERS   browsers logging in at once per gateway (default 1)
//!   PFORTE_FAILOVER_WARM      seconds of load before the kill (default 2)
//!   PFORTE_FAILOVER_ACK       acknowledge_replicas (default 1; 0 shows what WAIT costs)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use openidconnect::PkceCodeChallenge;
use pforte_e2e::browser::{Browser, absolute, hidden_value};
use pforte_e2e::client::{H1, Reply};
use pforte_e2e::gateway::{Gateway, GatewayBuilder, UNLIMITED_RATES, app_toml};
use pforte_e2e::pki::TestCa;
use pforte_e2e::sentinel::SentinelSet;
use pforte_e2e::upstream::Upstream;
use pforte_e2e::{env, unique_prefix};
use tokio::sync::Mutex;

/// The goal for logins after the primary dies.
const RECOVERY: Duration = Duration::from_secs(5);

/// The revocation bound every gateway keeps (the Redis store's default).
const REVOCATION_BOUND: Duration = Duration::from_secs(1);

/// How long the test waits for recovery before it gives up (beyond the goal, to report it).
const GIVE_UP: Duration = Duration::from_secs(30);

const LOGIN: &str = "https://login.gw.test";
const MAIL: &str = "https://mail.gw.test";
const SESSION_COOKIE: &str = "__Host-pforte";
const POLICY: &str = "[[rule]]\napps = [\"mail\"]\nallow = [\"authenticated\"]\n";
const CALLBACK: &str = "http://127.0.0.1:8765/notes/callback";

/// A public client of mail, with refresh tokens.
fn clients_toml() -> String {
    format!(
        "[[client]]\nid = \"notes\"\napp = \"mail\"\npublic = true\nredirect_uris = [\"{CALLBACK}\"]\n\
         scopes = [\"openid\", \"profile\"]\ngrant_types = [\"authorization_code\", \"refresh_token\"]\n"
    )
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Three gateways on one Sentinel-managed Redis.
struct Deployment {
    redis: SentinelSet,
    gateways: Vec<Gateway>,
    _mail: Upstream,
}

impl Deployment {
    async fn start(acknowledge_replicas: u32) -> Self {
        let redis = SentinelSet::start().await;
        let mail = Upstream::start("mail").await;
        let ca = TestCa::new();
        let sessions = redis.sessions_toml(&unique_prefix("failover"), acknowledge_replicas);
        let replica = || -> GatewayBuilder {
            Gateway::builder()
                .apps(app_toml("mail", "mail.gw.test", "/", &[mail.url()], ""))
                .policy(POLICY)
                .ldap(&[env("PFORTE_TEST_LDAP_URL")])
                .sessions(&sessions)
                .limits(UNLIMITED_RATES)
        };
        let first = replica()
            .oidc(&clients_toml())
            .start_with_ca(ca.clone())
            .await;
        let keys = first.path("keys");
        let mut gateways = vec![first];
        for _ in 0..2 {
            let builder = replica().oidc(&clients_toml()).shared_keys(&keys);
            gateways.push(builder.start_with_ca(ca.clone()).await);
        }
        Self {
            redis,
            gateways,
            _mail: mail,
        }
    }
}

/// One login attempt through the form.
struct Attempt {
    gateway: usize,
    started: Instant,
    finished: Instant,
    /// The browser, when the login was acknowledged (303 with the session cookie).
    acknowledged: Option<Browser>,
    /// How long the form's POST took (the session's creation, with its WAIT, is in it).
    post: Duration,
    /// When the POST was answered with the session, if it was.
    answered: Option<Instant>,
    /// Whether the app then answered through the next gateway.
    used_app: bool,
    /// When the code was exchanged for tokens (on the next gateway), if it was.
    granted: Option<Instant>,
    /// The refresh token a rotation (on the third gateway) handed out, if it did.
    rotated: Option<String>,
}

/// Logs alice in through `gateways[i]` from the mail app, then asks mail through the next
/// gateway, gets tokens there and refreshes them on the third; never panics on a failed step
/// (the failover makes some fail).
async fn attempt(gateways: &[Gateway], i: usize) -> Attempt {
    let gateway = &gateways[i];
    let started = Instant::now();
    let mut browser = Browser::new(gateway.https, gateway.root());
    let mut post = Duration::ZERO;
    let mut answered = None;
    let mut acknowledged = false;
    let hops = browser.follow(&format!("{MAIL}/inbox")).await;
    let form = &hops[0];
    let page = form.reply.text();
    if form.reply.status == 200
        && let Some(csrf) = hidden_value(&page, "csrf")
    {
        let return_to = hidden_value(&page, "return_to").unwrap_or_default();
        let action = absolute(&form.url, "/login");
        let fields = [
            ("username", "alice"),
            ("password", "alicepw"),
            ("csrf", csrf.as_str()),
            ("return_to", return_to.as_str()),
        ];
        let sent = Instant::now();
        let reply = browser.post(&action, &fields).await;
        post = sent.elapsed();
        acknowledged =
            reply.status == 303 && browser.cookie("login.gw.test", SESSION_COOKIE).is_some();
        answered = acknowledged.then(Instant::now);
        if acknowledged {
            browser.follow_from(&action, reply).await;
        }
    }
    let (mut used_app, mut granted, mut rotated) = (false, None, None);
    if acknowledged {
        let next = &gateways[(i + 1) % gateways.len()];
        let mut elsewhere = browser.at(next.https, next.root());
        used_app = elsewhere.get(&format!("{MAIL}/inbox")).await.status == 200;
        if let Some(refresh) = tokens(&mut browser, next).await {
            granted = Some(Instant::now());
            let third = &gateways[(i + 2) % gateways.len()];
            rotated = refreshed(third, &refresh).await;
        }
    }
    Attempt {
        gateway: i,
        started,
        finished: Instant::now(),
        acknowledged: acknowledged.then_some(browser),
        post,
        answered,
        used_app,
        granted,
        rotated,
    }
}

/// A code from the browser's session (on its gateway), exchanged on `gateway`: the refresh
/// token, or `None` when a step failed.
async fn tokens(browser: &mut Browser, gateway: &Gateway) -> Option<String> {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", "notes")
        .append_pair("redirect_uri", CALLBACK)
        .append_pair("scope", "openid profile")
        .append_pair("state", "st")
        .append_pair("code_challenge", challenge.as_str())
        .append_pair("code_challenge_method", "S256")
        .finish();
    let reply = browser
        .get(&format!("{LOGIN}/oidc/authorize?{query}"))
        .await;
    let location = reply.header("location")?.to_owned();
    let code = form_urlencoded::parse(location.split_once('?')?.1.as_bytes())
        .find(|(k, _)| k == "code")?
        .1
        .into_owned();
    let reply = token_request(
        gateway,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("client_id", "notes"),
            ("code_verifier", verifier.secret()),
        ],
    )
    .await;
    refresh_token_of(&reply)
}

/// The refresh token a refresh with `token` on `gateway` hands out, if it succeeds.
async fn refreshed(gateway: &Gateway, token: &str) -> Option<String> {
    let reply = token_request(
        gateway,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", "notes"),
        ],
    )
    .await;
    refresh_token_of(&reply)
}

fn refresh_token_of(reply: &Reply) -> Option<String> {
    (reply.status == 200)
        .then(|| reply.json()["refresh_token"].as_str().map(str::to_owned))
        .flatten()
}

/// A POST to the token endpoint of `gateway`.
async fn token_request(gateway: &Gateway, form: &[(&str, &str)]) -> Reply {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut h1 = H1::connect(gateway.https, "login.gw.test", &gateway.root()).await;
    let request = h1
        .request("POST", "/oidc/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.into())
        .unwrap();
    h1.send(request).await
}

/// Whether the session of `browser` is still there, asked through `gateway`'s login host (its
/// portal page, 200 with a session, 303 to the login without).
async fn alive(browser: &Browser, gateway: &Gateway) -> bool {
    let mut there = browser.at(gateway.https, gateway.root());
    match there.get(&format!("{LOGIN}/")).await.status {
        200 => true,
        303 => false,
        other => panic!("the portal answered {other}"),
    }
}

/// Milliseconds, for the figures.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Milliseconds as `12,3,4`: one word for the scenario's parsing.
fn list(values: impl Iterator<Item = f64>) -> String {
    values
        .map(|v| format!("{v:.0}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The median of some durations, in milliseconds.
fn median_ms(mut values: Vec<Duration>) -> f64 {
    values.sort();
    values.get(values.len() / 2).map_or(0.0, |d| ms(*d))
}

#[tokio::test]
async fn sessions_survive_the_primary_dying_under_load() {
    let acknowledge = u32::try_from(setting("PFORTE_FAILOVER_ACK", 1)).unwrap();
    let workers = setting("PFORTE_FAILOVER_WORKERS", 1) as usize;
    let warm = Duration::from_secs(setting("PFORTE_FAILOVER_WARM", 2));
    let mut deployment = Deployment::start(acknowledge).await;
    let gateways = Arc::new(std::mem::take(&mut deployment.gateways));

    // Load: browsers logging in through every gateway, until told to stop.
    let attempts = Arc::new(Mutex::new(Vec::<Attempt>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for i in 0..gateways.len() * workers {
        let (gateways, attempts, stop) = (gateways.clone(), attempts.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let done = attempt(&gateways, i % gateways.len()).await;
                attempts.lock().await.push(done);
            }
        }));
    }
    tokio::time::sleep(warm).await;
    let before = attempts.lock().await.len();
    assert!(before > 0, "no login finished before the kill");

    let killed = Instant::now();
    deployment.redis.primary.kill();
    // Recovered: every gateway has acknowledged a login begun after the kill, and a token
    // grant of such a login has gone through (on the next gateway).
    let (recovered, granted) = loop {
        let got = attempts.lock().await;
        let after: Vec<&Attempt> = got.iter().filter(|a| a.started > killed).collect();
        let logins: Vec<Option<Instant>> = (0..gateways.len())
            .map(|g| {
                let of_g = after.iter().filter(|a| a.gateway == g);
                of_g.filter_map(|a| a.answered).min()
            })
            .collect();
        let grants: Vec<Option<Instant>> = (0..gateways.len())
            .map(|g| {
                let on_g = after
                    .iter()
                    .filter(|a| (a.gateway + 1) % gateways.len() == g);
                on_g.filter_map(|a| a.granted).min()
            })
            .collect();
        if logins.iter().chain(&grants).all(Option::is_some) {
            let flat = |v: Vec<Option<Instant>>| v.into_iter().flatten().collect::<Vec<_>>();
            break (flat(logins), flat(grants));
        }
        drop(got);
        assert!(
            killed.elapsed() < GIVE_UP,
            "logins did not work again on every gateway within {GIVE_UP:?} of the kill"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // A little more load after the failover, then stop.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let attempts = std::mem::take(&mut *attempts.lock().await);
    let new_master = deployment.redis.master_port().await;
    assert_eq!(
        new_master,
        Some(deployment.redis.replica.port),
        "Sentinel did not promote the replica"
    );

    // No acknowledged session lost: each is still there, asked through another gateway.
    let acknowledged: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.acknowledged.is_some())
        .collect();
    let mut lost = 0;
    for a in &acknowledged {
        let browser = a.acknowledged.as_ref().unwrap();
        if !alive(browser, &gateways[(a.gateway + 2) % gateways.len()]).await {
            lost += 1;
        }
    }
    // No acknowledged refresh rotation lost: each new refresh token still works (once).
    let rotations: Vec<&String> = attempts.iter().filter_map(|a| a.rotated.as_ref()).collect();
    let mut lost_rotations = 0;
    for (n, token) in rotations.iter().enumerate() {
        if refreshed(&gateways[n % gateways.len()], token)
            .await
            .is_none()
        {
            lost_rotations += 1;
        }
    }
    let since_kill = |at: &Instant| at.saturating_duration_since(killed);
    let recovery = recovered.iter().map(since_kill).max().unwrap();
    let grant_recovery = granted.iter().map(since_kill).max().unwrap();
    let failed_after = attempts
        .iter()
        .filter(|a| a.started > killed + recovery && a.acknowledged.is_none())
        .count();
    let warm_posts: Vec<Duration> = attempts
        .iter()
        .filter(|a| a.finished < killed && a.acknowledged.is_some())
        .map(|a| a.post)
        .collect();
    let warm_logins = warm_posts.len();

    // A logout after the failover reaches every gateway within the bound.
    let person = attempts
        .iter()
        .rev()
        .find_map(|a| a.acknowledged.as_ref())
        .expect("a session acknowledged after the failover");
    for gateway in gateways.iter() {
        assert!(
            alive(person, gateway).await,
            "every gateway knows the session"
        );
    }
    let revoked = log_out(person, &gateways[0]).await;
    // Each gateway asked at once, from the logout on: when it first refused.
    let firsts = futures_util::future::join_all(
        gateways
            .iter()
            .map(|gateway| first_refusal(person, gateway, revoked)),
    )
    .await;
    let refused_ms: Vec<f64> = firsts.iter().map(|d| ms(*d)).collect();
    // Whatever the polling's own pace, a request sent once the bound has passed must be refused
    // by every gateway: that is the guarantee, not a race.
    tokio::time::sleep_until((revoked + REVOCATION_BOUND).into()).await;
    for gateway in gateways.iter() {
        assert!(
            !alive(person, gateway).await,
            "a gateway still lets the session in {REVOCATION_BOUND:?} after the logout"
        );
    }

    println!(
        "failover-figures acknowledge_replicas={acknowledge} gateways={} workers_per_gateway={workers} \
         attempts={} acknowledged={} lost={lost} failed_before_recovery={} failed_after_recovery={failed_after} \
         used_app={} token_grants={} rotations={} lost_rotations={lost_rotations} \
         login_recovery_ms={:.0} login_recovery_per_gateway_ms={} grant_recovery_ms={:.0} \
         revocation_refused_ms={} \
         warm_logins={warm_logins} warm_login_rate_per_s={:.1} login_post_p50_ms={:.2}",
        gateways.len(),
        attempts.len(),
        acknowledged.len(),
        attempts
            .iter()
            .filter(|a| a.started > killed && a.acknowledged.is_none())
            .count()
            - failed_after,
        attempts.iter().filter(|a| a.used_app).count(),
        attempts.iter().filter(|a| a.granted.is_some()).count(),
        rotations.len(),
        ms(recovery),
        list(recovered.iter().map(|at| ms(since_kill(at)))),
        ms(grant_recovery),
        list(refused_ms.iter().copied()),
        warm_logins as f64 / warm.as_secs_f64(),
        median_ms(warm_posts),
    );
    println!(
        "failover-sentinel-events\n{}",
        deployment.redis.failover_log()
    );
    // Without WAIT (the scenario's comparison run) nothing is promised.
    if acknowledge > 0 {
        assert_eq!(lost, 0, "acknowledged sessions lost in the failover");
        assert_eq!(lost_rotations, 0, "acknowledged refresh rotations lost");
    }
    assert!(!rotations.is_empty(), "no refresh rotation went through");
    assert!(
        recovery <= RECOVERY && grant_recovery <= RECOVERY,
        "logins worked again {recovery:?} and token grants {grant_recovery:?} after the kill \
         (goal {RECOVERY:?}); Sentinel:\n{}",
        deployment.redis.failover_log()
    );
    drop(deployment);
}

/// Logs the browser's person out through `gateway`'s portal; returns when the logout answered.
async fn log_out(browser: &Browser, gateway: &Gateway) -> Instant {
    let mut there = browser.at(gateway.https, gateway.root());
    let portal = there.get(&format!("{LOGIN}/")).await.text();
    let csrf = hidden_value(&portal, "csrf").expect("the portal's logout form");
    let reply = there
        .post(&format!("{LOGIN}/logout"), &[("csrf", &csrf)])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    Instant::now()
}

/// How long after `revoked` the gateway first refused the session (polled from then on).
async fn first_refusal(browser: &Browser, gateway: &Gateway, revoked: Instant) -> Duration {
    let deadline = revoked + REVOCATION_BOUND * 5;
    loop {
        let sent = Instant::now();
        if !alive(browser, gateway).await {
            return sent.saturating_duration_since(revoked);
        }
        assert!(
            Instant::now() < deadline,
            "the logout never reached a gateway"
        );
    }
}
