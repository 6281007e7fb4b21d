//! Health an operator alerts on, against the real gateway, a real slapd and a redis-server of
//! the test's own: `/readyz` follows the session store (503 with the reason while it is down),
//! and the backends' metrics carry real values (certificate expiry as the served certificate
//! says, directory exchanges per server with a failover, store operations counted, sessions,
//! key age), refused reloads are counted by the part at fault, and the readiness answer is
//! reused for two seconds of the gateway's (manual) clock.

use std::sync::atomic::Ordering;
use std::time::Duration;

use pforte_e2e::browser::Browser;
use pforte_e2e::client::plain;
use pforte_e2e::faults_servers::Redis;
use pforte_e2e::gateway::Gateway;
use pforte_e2e::monitored::gateway_with_traffic;
use pforte_e2e::pki::TestCa;
use pforte_e2e::{env, eventually, free_port};
use pforte_session::Timestamp;

async fn readyz(gw: &Gateway) -> (u16, String) {
    let reply = plain(gw.admin, "GET", "/readyz", &[]).await;
    (reply.status, reply.text())
}

#[tokio::test]
async fn readyz_follows_the_session_store_and_metrics_show_the_backends() {
    let dir = tempfile::tempdir().unwrap();
    let mut redis = Redis::start(dir.path()).await;
    // The first server refuses connections: every login fails over to the second.
    let dead = format!("ldap://127.0.0.1:{}", free_port());
    let live = env("PFORTE_TEST_LDAP_URL");
    let (gw, scrape) =
        gateway_with_traffic(&[dead.clone(), live.clone()], &redis.url(), "health:").await;

    // The served certificate's notAfter, as the gateway's clock sees it now.
    let (_, leaf) = x509_parser::parse_x509_certificate(gw.certs[0].der.as_ref()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as f64;
    let left = leaf.validity().not_after.timestamp() as f64 - now;
    let series = |name: &str| {
        scrape.lines().find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            (series == name).then(|| value.parse::<f64>().unwrap())
        })
    };
    let expiry = series("pforte_tls_certificate_expiry_seconds{name=\"*.gw.test\"}")
        .unwrap_or_else(|| panic!("no certificate expiry:\n{scrape}"));
    assert!(
        (expiry - left).abs() < 60.0,
        "{expiry} s left, the certificate says {left}"
    );

    // Per server: the dead one failed and is down, the live one answered the login and is up.
    let count = |server: &str, result: &str| {
        series(&format!(
            "pforte_directory_request_duration_seconds_count{{result=\"{result}\",server=\"{server}\"}}"
        ))
        .unwrap_or_else(|| panic!("no series for {server} {result}:\n{scrape}"))
    };
    assert!(count(&dead, "error") >= 1.0, "{scrape}");
    assert!(
        count(&live, "ok") >= 2.0,
        "a login searches and binds: {scrape}"
    );
    assert_eq!(
        series(&format!("pforte_directory_up{{server=\"{dead}\"}}")),
        Some(0.0)
    );
    assert_eq!(
        series(&format!("pforte_directory_up{{server=\"{live}\"}}")),
        Some(1.0)
    );

    // The store: up, alice's one session counted, the key just made.
    assert_eq!(series("pforte_session_store_up"), Some(1.0));
    // Counted in the background once the first scrape found no count: a later scrape has it.
    let mut active = None;
    assert!(
        eventually(Duration::from_secs(5), async || {
            active = gw.metric("pforte_sessions_active").await;
            active == Some(1.0)
        })
        .await,
        "active sessions {active:?}"
    );
    let age = series("pforte_signing_key_age_seconds").unwrap();
    assert!((0.0..120.0).contains(&age), "key age {age}");

    // Store operations are timed: a page with the session cookie reads it.
    let gets = "pforte_session_store_request_duration_seconds_count{operation=\"get\"}";
    let before = gw.metric(gets).await.unwrap();
    let mut browser = Browser::new(gw.https, gw.root());
    browser
        .login("https://login.gw.test/login", "alice", "alicepw")
        .await;
    browser.get("https://login.gw.test/").await;
    let after = gw.metric(gets).await.unwrap();
    assert!(after > before, "get count {before} -> {after}");

    // Redis stops: the replica leaves the load balancer, and says why.
    assert_eq!(readyz(&gw).await.0, 200);
    redis.kill();
    let mut last = (0, String::new());
    assert!(
        eventually(Duration::from_secs(8), async || {
            last = readyz(&gw).await;
            last.0 == 503
        })
        .await,
        "still {last:?}"
    );
    assert!(
        last.1.contains("session store unreachable: "),
        "the body says why: {}",
        last.1
    );
    assert_eq!(gw.metric("pforte_session_store_up").await, Some(0.0));
    let errors = "pforte_session_store_errors_total{operation=\"ping\"}";
    assert!(gw.metric(errors).await.unwrap() >= 1.0);

    // Redis is back: ready again.
    redis.restart().await;
    assert!(
        eventually(Duration::from_secs(8), async || readyz(&gw).await.0 == 200).await,
        "not ready again: {:?}",
        readyz(&gw).await
    );
    assert_eq!(gw.metric("pforte_session_store_up").await, Some(1.0));
}

#[tokio::test]
async fn refused_reloads_are_counted_by_the_part_at_fault() {
    let gw = Gateway::builder().start().await;
    let part = |part: &str| format!("pforte_reload_errors_total{{part=\"{part}\"}}");
    for name in [
        "config",
        "certificates",
        "upstreams",
        "policy",
        "keys",
        "clients",
    ] {
        assert_eq!(
            gw.metric(&part(name)).await,
            Some(0.0),
            "{name} from the start"
        );
    }
    let reload = async || plain(gw.admin, "POST", "/reload", &[]).await.status;
    // The file watch may reload a changed file once more by itself: at least one each.
    let counted = async |name: &str| gw.metric(&part(name)).await.unwrap_or(0.0);

    let policy = std::fs::read_to_string(gw.path("policy.toml")).unwrap();
    gw.replace_file("policy.toml", "[[rule]\nbroken");
    assert_eq!(reload().await, 422);
    assert!(counted("policy").await >= 1.0);
    gw.replace_file("policy.toml", policy);
    assert_eq!(reload().await, 200);

    std::fs::write(&gw.certs[0].cert, "not a certificate").unwrap();
    assert_eq!(reload().await, 422);
    assert!(counted("certificates").await >= 1.0);
    for name in ["config", "upstreams", "keys", "clients"] {
        assert_eq!(counted(name).await, 0.0, "{name} was not at fault");
    }
    let refused = "pforte_config_reloads_total{result=\"error\"}";
    assert!(gw.metric(refused).await.unwrap() >= 2.0);
}

#[tokio::test]
async fn a_readiness_answer_is_reused_for_two_seconds_of_the_gateways_clock() {
    let dir = tempfile::tempdir().unwrap();
    let mut redis = Redis::start(dir.path()).await;
    let gw = Gateway::builder()
        .sessions(&format!(
            "store = \"redis\"\n[sessions.redis]\nurl = {:?}\nkey_prefix = \"ready:\"\n",
            redis.url()
        ))
        .assemble(TestCa::new(), Timestamp::now())
        .await;
    gw.shared.ready.store(true, Ordering::Release);
    assert_eq!(gw.admin("GET", "/readyz").await.0, 200);

    redis.kill();
    assert_eq!(
        gw.admin("GET", "/readyz").await.0,
        200,
        "the answer of a moment ago is reused: probes do not hammer the store"
    );
    gw.advance(Duration::from_secs(2));
    let (status, body) = gw.admin("GET", "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("session store unreachable: "), "{body}");

    redis.restart().await;
    assert_eq!(
        gw.admin("GET", "/readyz").await.0,
        503,
        "still the cached answer"
    );
    gw.advance(Duration::from_secs(2));
    assert_eq!(gw.admin("GET", "/readyz").await.0, 200);
}
