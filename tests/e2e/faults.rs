//! Faults under load, short: the checking load generator (tests/support/faults_load.rs) runs
//! while a server dies or a reload breaks, and every answer is judged against the policy and the
//! revocations. A wrong decision is never acceptable; what else must hold depends on the fault.
//! `tests/bench/faults.sh` runs the same faults longer and prints the figures.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pforte_e2e::browser::Browser;
use pforte_e2e::client::{H1, plain};
use pforte_e2e::faults_load::{self, Load};
use pforte_e2e::faults_report::Report;
use pforte_e2e::faults_scenario;
use pforte_e2e::faults_servers::{Nginx, Redis};
use pforte_e2e::gateway::{Gateway, OPEN_POLICY, pforte_admin_bin};
use pforte_e2e::upstream::Upstream;
use pforte_e2e::{env, unique_prefix};

/// Users of every test's load: one per person.
const USERS: usize = 4;

fn load(gateways: &[&Gateway]) -> Load {
    Load {
        replicas: gateways.iter().map(|g| g.https).collect(),
        root: gateways[0].root(),
        users: USERS,
        revoke_every: 3,
    }
}

/// The load, running until [`Running::stop`].
struct Running {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Report>,
}

fn start_load(load: Load) -> Running {
    let stop = Arc::new(AtomicBool::new(false));
    let task = tokio::spawn(faults_load::run(load, stop.clone()));
    Running { stop, task }
}

impl Running {
    async fn stop(self) -> Report {
        self.stop.store(true, Ordering::Relaxed);
        let report = self.task.await.unwrap();
        eprintln!("{}", report.line());
        for note in &report.notes {
            eprintln!("  {note}");
        }
        report
    }
}

async fn pause(seconds: f64) {
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
}

/// The sessions settings of a gateway on the test's own Redis.
fn own_redis(redis: &Redis) -> String {
    format!(
        "store = \"redis\"\n[sessions.redis]\nurl = {:?}\nkey_prefix = {:?}\n",
        redis.url(),
        unique_prefix("faults")
    )
}

fn assert_sound(report: &Report, gw: &Gateway) {
    assert_eq!(
        report.wrong,
        0,
        "wrong decisions: {:?}\n{}",
        report.notes,
        gw.log()
    );
    assert!(
        report.logins > 0 && report.refreshes > 0,
        "no load: {report:?}"
    );
}

/// After a fault that takes something down for a while: sound, no session lost, and every kind
/// of operation working again by the end.
fn assert_recovered_without_loss(report: &Report, gw: &Gateway) {
    assert_sound(report, gw);
    assert_eq!(report.lost, 0, "sessions lost: {:?}", report.notes);
    assert_ne!(
        report.recover,
        Some(None),
        "never recovered: {:?}",
        report.notes
    );
}

/// The judge itself: a gateway that lets everyone into every app is caught at once (bob in mail,
/// alice in finance), so a 0 in the other tests means something.
#[tokio::test]
async fn the_load_generator_catches_a_gateway_that_lets_everyone_in() {
    let upstream = Upstream::start("faults").await;
    let gw = faults_scenario::gateway(&upstream.url(), &[env("PFORTE_TEST_LDAP_URL")])
        .policy(OPEN_POLICY)
        .start()
        .await;
    let report = faults_load::run_for(load(&[&gw]), Duration::from_secs(2)).await;
    assert!(report.wrong > 0, "{report:?}");
    assert!(
        report.notes.iter().any(|n| n.contains(" let into ")),
        "{:?}",
        report.notes
    );
}

#[tokio::test]
async fn logins_keep_working_while_the_first_ldap_server_is_down() {
    let upstream = Upstream::start("faults").await;
    let gw = faults_scenario::gateway(
        &upstream.url(),
        &[env("PFORTE_TEST_LDAP2_URL"), env("PFORTE_TEST_LDAP_URL")],
    )
    .start()
    .await;
    let services = env("PFORTE_TEST_SERVICES_SCRIPT");
    let dir = env("PFORTE_TEST_SERVICES_DIR");
    /// Starts ldap2 again whatever happens, so later suites find it.
    struct Restart(String, String);
    impl Drop for Restart {
        fn drop(&mut self) {
            let _ = std::process::Command::new(&self.0)
                .args(["start-ldap", &self.1, "ldap2"])
                .output();
        }
    }
    let restart = Restart(services.clone(), dir.clone());

    let running = start_load(load(&[&gw]));
    pause(1.5).await;
    let stopped = std::process::Command::new(&services)
        .args(["stop-ldap", &dir, "ldap2"])
        .output()
        .unwrap();
    assert!(stopped.status.success(), "{stopped:?}");
    // A fresh login while the first server is down: the second one answers.
    let mut carol = Browser::new(gw.https, gw.root());
    let hops = carol
        .login("https://finance.gw.test/", "carol", "carolpw")
        .await;
    assert_eq!(hops[0].reply.status, 200, "{}", hops[0].reply.text());
    pause(2.0).await;
    drop(restart);
    pause(1.5).await;
    let report = running.stop().await;
    assert_recovered_without_loss(&report, &gw);
}

#[tokio::test]
async fn a_redis_restart_with_an_append_only_file_loses_no_session() {
    let upstream = Upstream::start("faults").await;
    let folder = tempfile::tempdir().unwrap();
    let mut redis = Redis::start(folder.path()).await;
    let gw = faults_scenario::gateway(&upstream.url(), &[env("PFORTE_TEST_LDAP_URL")])
        .sessions(&own_redis(&redis))
        .start()
        .await;

    let running = start_load(load(&[&gw]));
    pause(2.0).await;
    redis.kill();
    pause(1.0).await;
    redis.restart().await;
    pause(3.0).await;
    let report = running.stop().await;
    assert_recovered_without_loss(&report, &gw);
}

#[tokio::test]
async fn an_upstream_outage_answers_at_once_and_recovers() {
    let folder = tempfile::tempdir().unwrap();
    let mut nginx = Nginx::start(folder.path()).await;
    let gw = faults_scenario::gateway(&nginx.url(), &[env("PFORTE_TEST_LDAP_URL")])
        .start()
        .await;
    let mut alice = Browser::new(gw.https, gw.root());
    let hops = alice
        .login("https://mail.gw.test/", "alice", "alicepw")
        .await;
    assert_eq!(hops[0].reply.status, 200, "{}", hops[0].reply.text());

    let running = start_load(load(&[&gw]));
    pause(1.5).await;
    nginx.kill();
    // A clear page at once, not a hang.
    let asked = std::time::Instant::now();
    let down = tokio::time::timeout(
        Duration::from_secs(5),
        alice.get("https://mail.gw.test/inbox"),
    )
    .await
    .expect("an upstream outage must be answered, not hang");
    assert!(
        matches!(down.status, 502 | 503),
        "{} {}",
        down.status,
        down.text()
    );
    assert!(down.text().contains("<html"), "{}", down.text());
    eprintln!("answered {} after {:?}", down.status, asked.elapsed());
    pause(1.5).await;
    nginx.restart().await;
    pause(2.0).await;
    let report = running.stop().await;
    assert_sound(&report, &gw);
    assert_eq!(report.lost, 0, "{:?}", report.notes);
    assert_eq!(report.timeouts, 0, "hangs: {:?}", report.notes);
    assert!(
        matches!(report.recover, Some(Some(_))),
        "the outage was seen and ended: {report:?}"
    );
    assert_eq!(alice.get("https://mail.gw.test/inbox").await.status, 200);
}

#[tokio::test]
async fn sessions_survive_a_replica_killed_and_its_peer_takes_over() {
    let upstream = Upstream::start("faults").await;
    let prefix = unique_prefix("faults-replica");
    let a = faults_scenario::gateway(&upstream.url(), &[env("PFORTE_TEST_LDAP_URL")])
        .redis(&prefix, "")
        .start()
        .await;
    let b = faults_scenario::gateway(&upstream.url(), &[env("PFORTE_TEST_LDAP_URL")])
        .redis(&prefix, "")
        .shared_keys(&a.path("keys"))
        .start_with_ca(a.ca.clone())
        .await;

    let running = start_load(load(&[&a, &b]));
    pause(2.5).await;
    a.signal("KILL");
    pause(3.0).await;
    let report = running.stop().await;
    assert_recovered_without_loss(&report, &b);
}

/// Replaces `file` atomically (a file beside it renamed over it), as deploy tools do.
fn replace(file: &Path, content: &[u8]) {
    let tmp = file.with_extension("faults-tmp");
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

/// The private key file of the signing key in use (its metadata says `state = "active"`), as
/// a name in the gateway's folder.
fn active_signing_key(keys: &Path) -> String {
    let meta = std::fs::read_dir(keys)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            path.extension().is_some_and(|e| e == "toml")
                && std::fs::read_to_string(path)
                    .unwrap()
                    .contains("state = \"active\"")
        })
        .expect("an active signing key");
    format!(
        "keys/{}",
        meta.with_extension("pem")
            .file_name()
            .unwrap()
            .to_string_lossy()
    )
}

/// Reloads through the admin listener; the answer's status.
async fn reload(gw: &Gateway) -> u16 {
    plain(gw.admin, "POST", "/reload", &[]).await.status
}

#[tokio::test]
async fn broken_reloads_keep_the_last_good_state_under_load() {
    let upstream = Upstream::start("faults").await;
    let gw = faults_scenario::gateway(&upstream.url(), &[env("PFORTE_TEST_LDAP_URL")])
        .start()
        .await;
    let next = gw.ca.leaf(gw.dir.path(), "default-next", &["*.gw.test"]);
    let wrong_key = std::fs::read(&next.key).unwrap();
    let signing_key = active_signing_key(&gw.path("keys"));
    let broken: [(&str, Vec<u8>); 6] = [
        (
            "policy.toml",
            b"[[rule]]\napps = [\"nowhere\"]\nallow = [\"everyone\"]\n".to_vec(),
        ),
        ("gateway.toml", b"[server\nlisten = \n".to_vec()),
        (
            "default.crt",
            b"-----BEGIN CERTIFICATE-----\nbroken\n".to_vec(),
        ),
        ("default.key", wrong_key),
        ("clients.toml", b"[[client]]\nid = \"docs\"\n".to_vec()),
        (
            &signing_key,
            b"-----BEGIN PRIVATE KEY-----\nbroken\n".to_vec(),
        ),
    ];

    let running = start_load(load(&[&gw]));
    pause(1.0).await;
    for (file, bad) in &broken {
        let good = std::fs::read(gw.path(file)).unwrap();
        replace(&gw.path(file), bad);
        assert_eq!(reload(&gw).await, 422, "{file}: a broken file is refused");
        pause(0.8).await;
        replace(&gw.path(file), &good);
        assert_eq!(reload(&gw).await, 200, "{file}: {}", gw.log());
    }
    pause(0.5).await;
    let report = running.stop().await;
    assert_sound(&report, &gw);
    assert_eq!(
        report.failed, 0,
        "the last good state serves: {:?}",
        report.notes
    );
    assert_eq!(report.lost, 0, "{:?}", report.notes);
}

#[tokio::test]
async fn certificate_and_key_rotation_fail_no_request() {
    let upstream = Upstream::start("faults").await;
    let gw = faults_scenario::gateway(&upstream.url(), &[env("PFORTE_TEST_LDAP_URL")])
        .start()
        .await;
    let first_leaf = H1::connect(gw.https, "mail.gw.test", &gw.root()).await.leaf;

    let running = start_load(load(&[&gw]));
    pause(1.0).await;
    // A new certificate, put in place as deploy tools do (each file renamed over the old one).
    let next = gw.ca.leaf(gw.dir.path(), "default-next", &["*.gw.test"]);
    gw.replace_file("default.key", std::fs::read(&next.key).unwrap());
    gw.replace_file("default.crt", std::fs::read(&next.cert).unwrap());
    assert_eq!(reload(&gw).await, 200, "{}", gw.log());
    pause(1.0).await;
    // The signing key: the next one made, then made active.
    let keys = gw.path("keys");
    for step in ["generate", "rotate"] {
        let out = std::process::Command::new(pforte_admin_bin())
            .args(["keys", step, "--dir"])
            .arg(&keys)
            .arg("--yes")
            .env_remove("PFORTE_CONFIG")
            .output()
            .unwrap();
        assert!(out.status.success(), "keys {step}: {out:?}");
    }
    assert_eq!(reload(&gw).await, 200, "{}", gw.log());
    pause(1.5).await;
    let report = running.stop().await;
    assert_sound(&report, &gw);
    assert_eq!(
        report.failed, 0,
        "requests failed across the rotations: {:?}",
        report.notes
    );
    assert_eq!(report.lost, 0, "{:?}", report.notes);
    let served = H1::connect(gw.https, "mail.gw.test", &gw.root()).await.leaf;
    assert_ne!(served, first_leaf, "the new certificate is served");
    assert_eq!(served, next.der);
    let jwks = gw
        .get("login.gw.test", "/.well-known/jwks.json")
        .await
        .json();
    assert!(jwks["keys"].as_array().unwrap().len() >= 2, "{jwks}");
}
