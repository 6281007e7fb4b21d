//! The session store's primary dies under load (issue 16, point 1): three gateways share a
//! Sentinel-managed Redis (a primary, a replica, three sentinels: `tests/support/sentinel.rs`),
//! people log in and use mail through all three, and the primary is killed (SIGKILL).
//!
//! Asserted: no session that a browser was told about (the login's 303 with the session
//! cookie) is lost, logins work again on every gateway within [`RECOVERY`] of the kill, and a
//! logout after the failover is refused on every gateway within the revocation bound. The
//! gateways confirm each new session with `WAIT` (`acknowledge_replicas = 1`), which is what
//! keeps the sessions of the last instant before the kill.
//!
//! `tests/scenarios/failover.sh` runs this test longer and with more load through the
//! variables below, against release builds, and prints its figures (`failover-figures` lines).
//!   PFORTE_FAILOVER_WORKERS   browsers logging in at once per gateway (default 1)
//!   PFORTE_FAILOVER_WARM      seconds of load before the kill (default 2)
//!   PFORTE_FAILOVER_ACK       acknowledge_replicas (default 1; 0 shows what WAIT costs)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pforte_e2e::browser::{Browser, absolute, hidden_value};
use pforte_e2e::gateway::{Gateway, GatewayBuilder, app_toml};
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
        };
        let mut gateways = Vec::new();
        for _ in 0..3 {
            gateways.push(replica().start_with_ca(ca.clone()).await);
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
    /// Whether the app then answered through the next gateway.
    used_app: bool,
}

/// Logs alice in through `gateways[i]` from the mail app, then asks mail through the next
/// gateway; never panics on a failed step (the failover makes some fail).
async fn attempt(gateways: &[Gateway], i: usize) -> Attempt {
    let gateway = &gateways[i];
    let started = Instant::now();
    let mut browser = Browser::new(gateway.https, gateway.root());
    let mut post = Duration::ZERO;
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
        if acknowledged {
            browser.follow_from(&action, reply).await;
        }
    }
    let mut used_app = false;
    if acknowledged {
        let next = &gateways[(i + 1) % gateways.len()];
        let mut elsewhere = browser.at(next.https, next.root());
        used_app = elsewhere.get(&format!("{MAIL}/inbox")).await.status == 200;
    }
    Attempt {
        gateway: i,
        started,
        finished: Instant::now(),
        acknowledged: acknowledged.then_some(browser),
        post,
        used_app,
    }
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
    // Recovered: every gateway has acknowledged a login begun after the kill.
    let recovered = loop {
        let got = attempts.lock().await;
        let firsts: Vec<Option<Instant>> = (0..gateways.len())
            .map(|g| {
                got.iter()
                    .filter(|a| a.gateway == g && a.started > killed && a.acknowledged.is_some())
                    .map(|a| a.finished)
                    .min()
            })
            .collect();
        if firsts.iter().all(Option::is_some) {
            break firsts.into_iter().flatten().collect::<Vec<_>>();
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
    let recovery = recovered
        .iter()
        .map(|at| at.saturating_duration_since(killed))
        .max()
        .unwrap();
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
         used_app={} recovery_ms={:.0} recovery_per_gateway_ms={:?} revocation_refused_ms={:?} \
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
        ms(recovery),
        recovered
            .iter()
            .map(|at| ms(at.saturating_duration_since(killed)).round())
            .collect::<Vec<_>>(),
        refused_ms.iter().map(|v| v.round()).collect::<Vec<_>>(),
        warm_logins as f64 / warm.as_secs_f64(),
        median_ms(warm_posts),
    );
    println!(
        "failover-sentinel-events\n{}",
        deployment.redis.failover_log()
    );
    assert_eq!(lost, 0, "acknowledged sessions lost in the failover");
    assert!(
        recovery <= RECOVERY,
        "logins worked again only {recovery:?} after the kill (goal {RECOVERY:?}); Sentinel:\n{}",
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
