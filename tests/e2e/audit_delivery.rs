//! Audit lines delivered to a SIEM: `Delivery` (the part of the audit log that sends each
//! chained line to syslog and journald) against a real TLS syslog receiver
//! (`pforte_e2e::syslog`) and a real systemd-journald.
//!
//! - lines reach a TLS receiver as RFC 5425 frames of RFC 5424 messages whose MSG is the line
//!   unchanged, including lines offered while the receiver was not there yet;
//! - a receiver that stops reading fills the bounded queue: offering never blocks, the drops
//!   are counted, exactly one drop opens the episode, and once the receiver reads again the
//!   sink reports the episode's count and sequence range once;
//! - journald's native protocol, read back with journalctl from a journald started in a mount
//!   namespace of its own (its sockets and journal on tmpfs, the machine's journal untouched);
//! - a real gateway with `[audit.syslog]`: a login's event and the shutdown's signed checkpoint
//!   reach the receiver, each message's MSG a line of the gateway's audit file, byte for byte;
//!   and while its receiver is away, the overflow and then exactly what the receiver lacks are
//!   recorded in the chain itself.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pforte::config::audit_delivery::{
    ClientAuth, Facility, JournaldTarget, SyslogTarget, SyslogTransport, TlsSyslog,
};
use pforte::telemetry::audit_log::counters::{Sink, counters};
use pforte::telemetry::audit_log::delivery::{Delivery, Dropped, Offered, OnRecovered};
use pforte_e2e::browser::Browser;
use pforte_e2e::gateway::Gateway;
use pforte_e2e::pki::TestCa;
use pforte_e2e::syslog::{SERVER_NAME, SyslogReceiver};
use serde_json::{Value, json};

/// A chained line as the writer makes it (the fields the sinks read, and padding to make it
/// `pad` bytes longer).
fn line(seq: u64, event: &str, level: &str, pad: usize) -> Arc<str> {
    let value = json!({
        "timestamp": "2026-12-07T22:01:02.123456Z",
        "level": level,
        "target": "pforte::audit",
        "event": event,
        "replica": "gw-test",
        "seq": seq,
        "pad": "x".repeat(pad),
        "hash": "0".repeat(64),
    });
    Arc::from(value.to_string())
}

fn tls_target(address: String, ca_file: PathBuf, queue: usize) -> SyslogTarget {
    SyslogTarget {
        transport: SyslogTransport::Tls(TlsSyslog {
            address,
            server_name: SERVER_NAME.into(),
            ca: Some(ca_file),
            client_auth: None,
        }),
        facility: Facility::Authpriv,
        queue,
    }
}

fn ignore_recovery() -> OnRecovered {
    Arc::new(|_| {})
}

/// Closes `delivery` off the runtime's threads (close waits).
async fn close(delivery: Arc<Delivery>) {
    close_within(delivery, Duration::from_secs(2)).await;
}

async fn close_within(delivery: Arc<Delivery>, within: Duration) {
    tokio::task::spawn_blocking(move || delivery.close(within))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_reach_a_tls_syslog_receiver_as_rfc5424_even_one_that_starts_late() {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    ca.write_pem(&ca_file);
    let port = pforte_e2e::free_port();
    let delivered_before = counters().values().delivered(Sink::Syslog);
    let delivery = Arc::new(
        Delivery::start(
            Some(tls_target(format!("127.0.0.1:{port}"), ca_file, 100)),
            None,
            ignore_recovery(),
        )
        .unwrap(),
    );
    let lines = [
        (line(1, "login_success", "INFO", 0), "login_success"),
        (line(2, "audit_checkpoint", "INFO", 0), "audit_checkpoint"),
        (
            line(3, "audit_delivery_dropped", "WARN", 0),
            "audit_delivery_dropped",
        ),
    ];
    // Nobody listens yet: the sink's first connections fail and the lines wait in its queue.
    for (seq, (text, event)) in (1..).zip(&lines[..2]) {
        assert_eq!(delivery.offer(text, seq, event), Offered::Queued);
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    let receiver = SyslogReceiver::start_on(port, &ca).await;
    assert_eq!(delivery.offer(&lines[2].0, 3, lines[2].1), Offered::Queued);
    let messages = receiver
        .wait_until(Duration::from_secs(10), "3 messages", |m| m.len() >= 3)
        .await;
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    for (message, (text, event)) in messages.iter().zip(&lines) {
        let warn = message.msgid == "audit_delivery_dropped";
        // authpriv (10) × 8 + info (6), or warning (4).
        assert_eq!(message.pri, if warn { 84 } else { 86 }, "{message:?}");
        assert_eq!(message.version, "1");
        assert_eq!(message.timestamp, "2026-12-07T22:01:02.123456Z");
        assert_eq!(message.hostname, hostname.trim());
        assert_eq!(message.app_name, "pforte");
        assert_eq!(message.procid, std::process::id().to_string());
        assert_eq!(message.msgid, *event);
        assert_eq!(message.structured_data, "-");
        assert_eq!(message.msg, **text, "MSG is the line, byte for byte");
    }
    assert_eq!(messages.len(), 3, "each line once");
    assert!(counters().values().delivered(Sink::Syslog) >= delivered_before + 3);
    close(delivery).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_requires_a_client_certificate_gets_lines_from_one_configured() {
    let client_ca = TestCa::new();
    let receiver = SyslogReceiver::start_requiring_client_cert(&client_ca).await;
    let dir = tempfile::tempdir().unwrap();
    let client = client_ca.leaf(dir.path(), "pforte-syslog", &["pforte.test"]);
    let mut target = tls_target(receiver.address(), receiver.ca_file(), 10);
    let without = Arc::new(Delivery::start(Some(target.clone()), None, ignore_recovery()).unwrap());
    if let SyslogTransport::Tls(tls) = &mut target.transport {
        tls.client_auth = Some(ClientAuth {
            cert: client.cert.clone(),
            key: client.key.clone(),
        });
    }
    let with = Arc::new(Delivery::start(Some(target), None, ignore_recovery()).unwrap());
    without.offer(&line(1, "login_success", "INFO", 0), 1, "login_success");
    with.offer(&line(2, "login_success", "INFO", 0), 2, "login_success");
    let messages = receiver
        .wait_until(
            Duration::from_secs(10),
            "the line of the sender with a certificate",
            |m| !m.is_empty(),
        )
        .await;
    // The sender without a certificate keeps failing its handshake (and keeps its line).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let seqs: Vec<u64> = receiver
        .messages()
        .iter()
        .map(|m| m.json()["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [2], "{messages:?}");
    close(with).await;
    // Its line was never counted delivered: closing gives it up as dropped.
    let dropped_before = counters().values().dropped(Sink::Syslog);
    close_within(without, Duration::from_millis(100)).await;
    assert!(counters().values().dropped(Sink::Syslog) > dropped_before);
}

/// Waits (on this thread) up to `within` for `check`, trying every millisecond.
fn within(within: Duration, check: impl Fn() -> bool) -> bool {
    poll(within, Duration::from_millis(1), check)
}

/// Waits (on this thread) up to `within` for `check`, trying every `every`.
fn poll(within: Duration, every: Duration, check: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(every);
    }
    check()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_stops_reading_costs_counted_drops_never_a_blocked_offer() {
    const QUEUE: usize = 8;
    const PAD: usize = 32 * 1024;
    let receiver = SyslogReceiver::start().await;
    let recovered: Arc<Mutex<Vec<Dropped>>> = Arc::default();
    let on_recovered: OnRecovered = {
        let recovered = recovered.clone();
        Arc::new(move |dropped| recovered.lock().unwrap().push(dropped))
    };
    let delivery = Arc::new(
        Delivery::start(
            Some(tls_target(receiver.address(), receiver.ca_file(), QUEUE)),
            None,
            on_recovered,
        )
        .unwrap(),
    );
    let dropped_before = counters().values().dropped(Sink::Syslog);
    receiver.pause();
    // On a thread of its own, bounded: an offer that blocked would hang here, not pass.
    let offering = tokio::task::spawn_blocking({
        let delivery = delivery.clone();
        move || {
            let queued = || delivery.queued()[0].1;
            // 1. Lines the connection still takes (the sink empties its queue at once), until
            //    the kernel's buffers are full and the sink's write blocks.
            let mut seq = 0;
            loop {
                seq += 1;
                let offered = delivery.offer(
                    &line(seq, "login_success", "INFO", PAD),
                    seq,
                    "login_success",
                );
                assert_eq!(offered, Offered::Queued);
                if !within(Duration::from_secs(1), || queued() == 0) {
                    break;
                }
                assert!(seq < 2_000, "the paused receiver never stopped the sender");
            }
            // 2. The queue fills, then every line is dropped: each offer returns at once.
            let mut results = Vec::new();
            let mut slowest = Duration::ZERO;
            for _ in 0..QUEUE + 30 {
                seq += 1;
                let text = line(seq, "login_success", "INFO", PAD);
                let started = Instant::now();
                let offered = delivery.offer(&text, seq, "login_success");
                slowest = slowest.max(started.elapsed());
                results.push((seq, offered));
            }
            (results, slowest)
        }
    });
    let (results, slowest) = tokio::time::timeout(Duration::from_secs(60), offering)
        .await
        .expect("offering lines to a stalled receiver blocked")
        .unwrap();
    assert!(
        slowest < Duration::from_millis(250),
        "an offer took {slowest:?}"
    );
    let first_drop = results
        .iter()
        .position(|(_, o)| *o != Offered::Queued)
        .expect("the queue never filled");
    assert!(first_drop < QUEUE, "{results:?}");
    let drops = &results[first_drop..];
    assert_eq!(
        drops[0].1,
        Offered::Dropped {
            episode_started: true
        }
    );
    assert!(
        drops[1..].iter().all(|(_, o)| *o
            == Offered::Dropped {
                episode_started: false
            }),
        "one episode, opened once: {results:?}"
    );
    let (first_seq, last_seq) = (drops[0].0, drops[drops.len() - 1].0);
    assert!(counters().values().dropped(Sink::Syslog) >= dropped_before + drops.len() as u64);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        recovered.lock().unwrap().is_empty(),
        "no recovery while the receiver is stalled"
    );

    // The receiver reads again: the backlog arrives, and the episode is reported once.
    receiver.resume();
    let before_drop = first_seq - 1;
    let messages = receiver
        .wait_until(Duration::from_secs(20), "the backlog", |m| {
            m.len() as u64 >= before_drop
        })
        .await;
    let seqs: Vec<u64> = messages
        .iter()
        .map(|m| m.json()["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=before_drop).collect::<Vec<_>>(),
        "in order, the dropped ones missing"
    );
    assert!(
        within(Duration::from_secs(5), || !recovered
            .lock()
            .unwrap()
            .is_empty()),
        "on_recovered was not called"
    );
    let next = last_seq + 1;
    assert_eq!(
        delivery.offer(
            &line(next, "audit_delivery_dropped", "WARN", 0),
            next,
            "audit_delivery_dropped"
        ),
        Offered::Queued
    );
    receiver
        .wait_until(Duration::from_secs(10), "the line after the episode", |m| {
            m.last()
                .is_some_and(|m| m.msgid == "audit_delivery_dropped")
        })
        .await;
    assert_eq!(
        *recovered.lock().unwrap(),
        [Dropped {
            sink: Sink::Syslog,
            count: drops.len() as u64,
            first_seq,
            last_seq,
        }]
    );
    close(delivery).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_too_large_for_a_datagram_is_dropped_counted_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The kernel refuses a datagram larger than the sender's buffer: at most twice
    // net.core.wmem_max, which the sink asks for (up to 8 MiB).
    let wmem_max: usize = std::fs::read_to_string("/proc/sys/net/core/wmem_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let too_large = 2 * wmem_max.min(8 << 20) + (1 << 20);
    let recovered: Arc<Mutex<Vec<Dropped>>> = Arc::default();
    let on_recovered: OnRecovered = {
        let recovered = recovered.clone();
        Arc::new(move |dropped| recovered.lock().unwrap().push(dropped))
    };
    let dropped_before = counters().values().dropped(Sink::Journald);
    let delivery = Arc::new(
        Delivery::start(
            None,
            Some(JournaldTarget {
                socket: path.clone(),
                queue: 10,
            }),
            on_recovered,
        )
        .unwrap(),
    );
    let big = line(7, "login_success", "INFO", too_large);
    assert_eq!(delivery.offer(&big, 7, "login_success"), Offered::Queued);
    let small = line(8, "login_success", "INFO", 0);
    assert_eq!(delivery.offer(&small, 8, "login_success"), Offered::Queued);
    let received = tokio::task::spawn_blocking(move || {
        let mut buffer = vec![0u8; 64 * 1024];
        let n = socket.recv(&mut buffer).unwrap();
        String::from_utf8(buffer[..n].to_vec()).unwrap()
    })
    .await
    .unwrap();
    assert!(received.contains("PFORTE_AUDIT_SEQ=8\n"), "{received}");
    assert!(
        within(Duration::from_secs(5), || !recovered
            .lock()
            .unwrap()
            .is_empty()),
        "the refused line was not reported"
    );
    assert_eq!(
        *recovered.lock().unwrap(),
        [Dropped {
            sink: Sink::Journald,
            count: 1,
            first_seq: 7,
            last_seq: 7
        }]
    );
    assert!(counters().values().dropped(Sink::Journald) > dropped_before);
    close(delivery).await;
}

/// A systemd-journald of the test's own: in a private mount namespace with tmpfs on
/// /run/systemd and /run/log, so its sockets and its journal are its own; reached through
/// /proc/<pid>/root. Stopped when dropped.
struct Journald {
    child: Child,
}

impl Journald {
    /// `None` when the test does not run as root (a mount namespace needs it).
    fn start() -> Option<Self> {
        let uid = Command::new("id").arg("-u").output().unwrap();
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            return None;
        }
        let binary = Path::new("/lib/systemd/systemd-journald");
        assert!(
            binary.exists(),
            "{} missing: install systemd (tests/run does)",
            binary.display()
        );
        let script = "mount -t tmpfs tmpfs /run/systemd && mkdir -p /run/systemd/journal /run/log \
                      && mount -t tmpfs tmpfs /run/log && exec /lib/systemd/systemd-journald";
        // unshare and sh exec: the child's pid is journald's.
        let child = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let journald = Self { child };
        let socket = journald.socket();
        assert!(
            within(Duration::from_secs(10), || socket.exists()),
            "journald did not make {}",
            socket.display()
        );
        Some(journald)
    }

    fn root(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root", self.child.id()))
    }

    fn socket(&self) -> PathBuf {
        self.root().join("run/systemd/journal/socket")
    }

    /// The entries Pforte sent, as journalctl shows them.
    fn entries(&self) -> Vec<Value> {
        let out = Command::new("journalctl")
            .arg("--directory")
            .arg(self.root().join("run/log/journal"))
            .args(["-o", "json", "--no-pager", "SYSLOG_IDENTIFIER=pforte"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for Journald {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_reach_a_real_journald_with_their_fields() {
    let Some(journald) = Journald::start() else {
        eprintln!("skipped: not root, so no journald in a mount namespace of its own");
        return;
    };
    let delivered_before = counters().values().delivered(Sink::Journald);
    let delivery = Arc::new(
        Delivery::start(
            None,
            Some(JournaldTarget {
                socket: journald.socket(),
                queue: 100,
            }),
            ignore_recovery(),
        )
        .unwrap(),
    );
    let lines = [
        line(41, "login_success", "INFO", 0),
        line(42, "audit_checkpoint", "INFO", 0),
        line(43, "audit_delivery_overflow", "WARN", 0),
    ];
    let events = [
        "login_success",
        "audit_checkpoint",
        "audit_delivery_overflow",
    ];
    for ((text, event), seq) in lines.iter().zip(events).zip(41..) {
        assert_eq!(delivery.offer(text, seq, event), Offered::Queued);
    }
    let journald_ref = &journald;
    assert!(
        poll(Duration::from_secs(10), Duration::from_millis(100), || {
            journald_ref.entries().len() >= 3
        }),
        "journald has {:?}",
        journald.entries()
    );
    let entries = journald.entries();
    assert_eq!(entries.len(), 3, "{entries:?}");
    for ((entry, text), (event, seq)) in entries.iter().zip(&lines).zip(events.iter().zip(41..)) {
        assert_eq!(entry["MESSAGE"], **text, "MESSAGE is the line unchanged");
        assert_eq!(entry["SYSLOG_IDENTIFIER"], "pforte");
        assert_eq!(entry["PFORTE_AUDIT_EVENT"], *event);
        assert_eq!(entry["PFORTE_AUDIT_SEQ"], seq.to_string());
        assert_eq!(entry["PFORTE_AUDIT_REPLICA"], "gw-test");
        let priority = if *event == "audit_delivery_overflow" {
            "4"
        } else {
            "6"
        };
        assert_eq!(entry["PRIORITY"], priority);
        assert_eq!(entry["_TRANSPORT"], "journal");
    }
    assert!(counters().values().delivered(Sink::Journald) >= delivered_before + 3);
    close(delivery).await;
}

#[tokio::test]
async fn a_gateway_sends_its_chained_lines_and_checkpoints_to_syslog() {
    let receiver = SyslogReceiver::start().await;
    let sections = people_and_syslog(
        &receiver.address(),
        &receiver.ca_file(),
        "facility = \"local4\"",
    );
    let mut gw = Gateway::builder()
        .app("mail", "mail.gw.test", &["http://127.0.0.1:9".to_owned()])
        .policy("[[rule]]\napps = [\"mail\"]\nallow = [\"group:staff\"]\n")
        .demo_people()
        .directory(sections)
        .audit_log()
        .start()
        .await;
    let mut browser = Browser::new(gw.https, gw.root());
    browser
        .login("https://login.gw.test/login", "bob", "bobpw")
        .await;
    receiver
        .wait_until(Duration::from_secs(10), "bob's login", |m| {
            m.iter().any(|m| m.msgid == "login_success")
        })
        .await;
    gw.signal("TERM");
    assert!(gw.wait_exit(Duration::from_secs(20)).await.is_some());
    let file = std::fs::read_to_string(gw.path("audit.jsonl")).unwrap();
    let last_line = file.lines().last().unwrap().to_owned();
    let messages = receiver
        .wait_until(Duration::from_secs(10), "the shutdown's checkpoint", |m| {
            m.last().is_some_and(|m| m.msg == last_line)
        })
        .await;
    assert_eq!(messages.last().unwrap().msgid, "audit_checkpoint");
    let lines: Vec<&str> = file.lines().collect();
    let first = lines
        .iter()
        .position(|l| *l == messages[0].msg)
        .expect("the first message is a line of the file");
    let received: Vec<&str> = messages.iter().map(|m| m.msg.as_str()).collect();
    assert_eq!(
        received,
        lines[first..],
        "every line since, in order, unchanged"
    );
    for message in &messages {
        assert_eq!(message.json()["replica"], "gw-syslog");
        // local4 (20) × 8 + info (6), or warning (4).
        assert!([164, 166].contains(&message.pri), "{message:?}");
        assert_eq!(message.msgid, message.json()["event"].as_str().unwrap());
    }
}

/// `[directory]` with the demo people and `[audit]` with `[audit.syslog]` (the builder has no
/// `[audit]` of its own: the section follows the file directory's).
fn people_and_syslog(address: &str, ca: &Path, extra: &str) -> String {
    format!(
        "[directory]\nbackend = \"file\"\nfile = \"people.toml\"\n\n\
         [audit]\nreplica = \"gw-syslog\"\n[audit.syslog]\naddress = {address:?}\n\
         ca = {ca:?}\nserver_name = {SERVER_NAME:?}\n{extra}\n"
    )
}

#[tokio::test]
async fn a_gateway_records_in_its_chain_what_an_absent_receiver_missed() {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    ca.write_pem(&ca_file);
    let port = pforte_e2e::free_port();
    let mut gw = Gateway::builder()
        .app("mail", "mail.gw.test", &["http://127.0.0.1:9".to_owned()])
        .policy("[[rule]]\napps = [\"mail\"]\nallow = [\"group:staff\"]\n")
        .demo_people()
        .directory(people_and_syslog(
            &format!("127.0.0.1:{port}"),
            &ca_file,
            "queue = 2",
        ))
        .audit_log()
        .start()
        .await;
    // Nobody listens: one line waits in the sink's hands, two in its queue, the rest is
    // dropped.
    for (user, password) in [
        ("alice", "wrong"),
        ("bob", "wrong"),
        ("carol", "wrong"),
        ("bob", "bobpw"),
        ("alice", "alicepw"),
    ] {
        let mut browser = Browser::new(gw.https, gw.root());
        browser
            .login("https://login.gw.test/login", user, password)
            .await;
    }
    let event = |events: &[Value], name: &str| events.iter().find(|e| e["event"] == name).cloned();
    let events = gw.audit();
    let overflow = event(&events, "audit_delivery_overflow")
        .unwrap_or_else(|| panic!("no overflow recorded: {events:#?}"));
    assert_eq!(overflow["sink"], "syslog");

    let receiver = SyslogReceiver::start_on(port, &ca).await;
    let messages = receiver
        .wait_until(Duration::from_secs(20), "the dropped lines' record", |m| {
            m.iter().any(|m| m.msgid == "audit_delivery_dropped")
        })
        .await;
    let dropped = event(&gw.audit(), "audit_delivery_dropped").expect("no drop recorded");
    let (first, last) = (
        dropped["first_seq"].as_u64().unwrap(),
        dropped["last_seq"].as_u64().unwrap(),
    );
    assert_eq!(dropped["sink"], "syslog");
    assert_eq!(
        dropped["count"].as_u64().unwrap(),
        last - first + 1,
        "{dropped}"
    );
    let received: Vec<u64> = messages
        .iter()
        .map(|m| m.json()["seq"].as_u64().unwrap())
        .collect();
    // The lines the sink held while nobody listened, then the record of the rest.
    let (record, held) = received.split_last().unwrap();
    assert_eq!(*record, dropped["seq"].as_u64().unwrap());
    assert!(
        !held.is_empty() && held.iter().all(|seq| *seq < first),
        "{received:?}"
    );
    // What the receiver lacks is exactly the recorded range.
    let missing: Vec<u64> = gw
        .audit()
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .filter(|seq| (held[0]..=*record).contains(seq) && !received.contains(seq))
        .collect();
    assert_eq!(missing, (first..=last).collect::<Vec<_>>());
    gw.signal("TERM");
    assert!(gw.wait_exit(Duration::from_secs(20)).await.is_some());
}
