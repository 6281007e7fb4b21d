//! The hash-chained audit log as a real gateway writes it, checked by `pforte-admin audit
//! verify` and read by `audit show`. One gateway run (logins good and bad, a refusal, a change by
//! `pforte-admin`, a signed checkpoint at shutdown) verifies, and every kind of tampering done to
//! a copy of it is found, of the right kind at the right line: an edited event, a deleted one, an
//! inserted copy, two swapped, an edit with the whole chain after it recomputed (the signed
//! checkpoint catches it), a tail cut off (a checkpoint kept elsewhere catches it), and a forged
//! or untrusted checkpoint. A log rotated while the gateway runs, a line torn as by a crash, a
//! gateway restarted on its folder and a log rotated while it was stopped verify as one chain
//! (the damage and the resumption as notices); two replicas' files verify together.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use aws_lc_rs::digest::{SHA256, digest};
use pforte_e2e::browser::Browser;
use pforte_e2e::gateway::{Gateway, GatewayBuilder, pforte_admin_bin};
use pforte_e2e::upstream::Upstream;
use serde_json::Value;
use tempfile::TempDir;

const MAIL: &str = "https://mail.gw.test";
const STAFF_MAIL: &str = "[[rule]]\napps = [\"mail\"]\nallow = [\"group:staff\"]\n";

/// A gateway writing a chained audit log as replica `replica`, with the demo people, `mail` for
/// staff only, and OIDC signing keys (so `pforte-admin keys generate` has something to change).
fn gateway(mail: &Upstream, replica: &str) -> GatewayBuilder {
    Gateway::builder()
        .app("mail", "mail.gw.test", &[mail.url()])
        .policy(STAFF_MAIL)
        .demo_people()
        .keys()
        .audit(&format!(
            "replica = {replica:?}\nkey_dir = \"audit-keys\"\nsync_interval = \"100ms\"\n"
        ))
}

/// `pforte-admin` changes: the next signing key made, then made active.
const GENERATE: Option<&[&str]> = Some(&["keys", "generate"]);
const ROTATE: Option<&[&str]> = Some(&["keys", "rotate", "--yes"]);

/// Events of every source: alice logs in, bob mistypes his password, logs in and is refused
/// mail (not staff), and an admin changes the signing keys with `pforte-admin` (its own chain,
/// `pforte-admin@<replica>`, in the same file).
async fn make_events(gw: &Gateway, change: Option<&[&str]>) {
    let mut alice = Browser::new(gw.https, gw.root());
    let hops = alice.login(&format!("{MAIL}/"), "alice", "alicepw").await;
    assert_eq!(hops[0].reply.status, 200, "alice reaches mail");
    let mut bob = Browser::new(gw.https, gw.root());
    let hops = bob.login(&format!("{MAIL}/"), "bob", "wrong").await;
    assert_eq!(hops[0].reply.status, 401, "the form again, with its alert");
    let hops = bob.login(&format!("{MAIL}/"), "bob", "bobpw").await;
    assert_eq!(hops[0].reply.status, 403, "bob is not staff");
    if let Some(change) = change {
        let out = admin(&[&["--config", path(&gw.config_path)], change].concat());
        assert!(out.status.success(), "{change:?}: {out:?}");
    }
}

/// Runs `pforte-admin ARGS` without a terminal and without an inherited config.
fn admin(args: &[&str]) -> Output {
    Command::new(pforte_admin_bin())
        .args(args)
        .stdin(Stdio::null())
        .env_remove("RUST_LOG")
        .env_remove("PFORTE_CONFIG")
        .output()
        .unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `audit verify --json --keys KEYS FILES.. EXTRA..`: the exit code and the report.
fn verify(keys: &Path, files: &[&Path], extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["audit", "verify", "--json", "--keys", path(keys)];
    args.extend(files.iter().map(|f| path(f)));
    args.extend(extra);
    let out = admin(&args);
    let code = out.status.code().unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("audit verify {args:?}: not a report ({e}): {out:?}"));
    (code, report)
}

/// Verifies and expects an intact log; returns the report.
fn intact(keys: &Path, files: &[&Path], extra: &[&str]) -> Value {
    let (code, report) = verify(keys, files, extra);
    assert_eq!(code, 0, "not intact: {report:#}");
    assert_eq!(report["breaks"], Value::Array(vec![]), "{report:#}");
    report
}

/// Verifies and expects the first break to be of `kind` at `file:line` (1-based).
fn broken(keys: &Path, files: &[&Path], extra: &[&str], kind: &str, at: (&Path, usize)) {
    let (code, report) = verify(keys, files, extra);
    assert_eq!(code, 1, "{kind} not found: {report:#}");
    let first = &report["breaks"][0];
    assert_eq!(first["kind"], kind, "{report:#}");
    assert_eq!(first["place"]["file"], path(at.0), "{kind}: {report:#}");
    assert_eq!(first["place"]["line"], at.1, "{kind}: {report:#}");
}

/// The audit log's lines.
fn lines(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The 0-based index of the first line with `event` (any event: `None`) of `replica` (any:
/// `None`), from line `from` on.
fn find(lines: &[String], event: Option<&str>, replica: Option<&str>, from: usize) -> usize {
    from + lines[from..]
        .iter()
        .position(|l| {
            event.is_none_or(|e| field(l, "event") == e)
                && replica.is_none_or(|r| field(l, "replica") == r)
        })
        .unwrap_or_else(|| panic!("no {event:?} of {replica:?} from line {from}: {lines:#?}"))
}

/// How many lines belong to `replica`'s chain.
fn count(lines: &[String], replica: &str) -> usize {
    lines
        .iter()
        .filter(|l| field(l, "replica") == replica)
        .count()
}

/// The report's chain of `replica`.
fn chain<'a>(report: &'a Value, replica: &str) -> &'a Value {
    report["chains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["replica"] == replica)
        .unwrap_or_else(|| panic!("no chain {replica}: {report:#}"))
}

/// The chains' replica names, sorted.
fn replicas(report: &Value) -> Vec<String> {
    let mut names: Vec<String> = report["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["replica"].as_str().unwrap().to_string())
        .collect();
    names.sort_unstable();
    names
}

/// Writes `lines` into a new file `name` in `dir`, as a tamperer would leave it.
fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    file
}

/// A field of a line, as JSON (null for a line that is not JSON).
fn field(line: &str, name: &str) -> Value {
    serde_json::from_str::<Value>(line).map_or(Value::Null, |v| v[name].clone())
}

/// The line with its `hash` made right for its content again: SHA-256 of the line before
/// `,"hash":` followed by `}` (the canonical JSON of the event without its hash).
fn rehash(line: &str) -> String {
    let at = line.rfind(",\"hash\":\"").expect("a chained line");
    let body = &line[..at];
    let hash = hex(digest(&SHA256, format!("{body}}}").as_bytes()).as_ref());
    format!("{body},\"hash\":\"{hash}\"}}")
}

/// Recomputes `replica`'s chain from line `from` on, as a tamperer who knows the format would:
/// each of its lines' `prev` is the hash of its line before, and its own hash is made again.
fn rechain(lines: &mut [String], replica: &str, from: usize) {
    let mut prev_hash: Option<Value> = None;
    for (i, line) in lines.iter_mut().enumerate() {
        if field(line, "replica") != replica {
            continue;
        }
        if i >= from {
            if let Some(prev_hash) = &prev_hash {
                let old = format!("\"prev\":{}", field(line, "prev"));
                *line = line.replacen(&old, &format!("\"prev\":{prev_hash}"), 1);
            }
            *line = rehash(line);
        }
        prev_hash = Some(field(line, "hash"));
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A folder with one Ed25519 public key that signed nothing of this log (`<kid>.pub`, PEM SPKI).
fn foreign_keys(dir: &Path) -> PathBuf {
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
    use base64::Engine;
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let raw = pair.public_key().as_ref();
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    spki.extend_from_slice(raw);
    let kid = &hex(digest(&SHA256, raw).as_ref())[..16];
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(&spki)
    );
    let keys = dir.join("foreign-keys");
    std::fs::create_dir(&keys).unwrap();
    std::fs::write(keys.join(format!("{kid}.pub")), pem).unwrap();
    keys
}

/// `audit show FILE ARGS.. --json`: the matching events.
fn show(file: &Path, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["audit", "show", path(file), "--json"];
    all.extend(args);
    let out = admin(&all);
    assert!(out.status.success(), "audit show {args:?}: {out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn events(shown: &[Value]) -> Vec<&str> {
    shown.iter().map(|e| e["event"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_gateways_log_verifies_and_every_kind_of_tampering_is_found_at_its_line() {
    let mail = Upstream::start("mail").await;
    let mut gw = gateway(&mail, "gw-a").start().await;
    make_events(&gw, GENERATE).await;
    gw.stop().await;
    let log = gw.path("audit.jsonl");
    let keys = gw.path("audit-keys");
    let original = lines(&log);
    let scratch = TempDir::new().unwrap();
    let dir = scratch.path();

    // Intact; verifying only reads (also with the config, whose [audit] key_dir it uses).
    let report = intact(&keys, &[&log], &[]);
    assert_eq!(
        replicas(&report),
        ["gw-a", "pforte-admin@gw-a"],
        "{report:#}"
    );
    assert_eq!(chain(&report, "gw-a")["events"], count(&original, "gw-a"));
    assert!(
        chain(&report, "gw-a")["checkpoints"].as_u64().unwrap() >= 1,
        "the shutdown checkpoint: {report:#}"
    );
    let out = admin(&[
        "--config",
        path(&gw.config_path),
        "audit",
        "verify",
        path(&log),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        text.contains("replica gw-a:") && text.contains("intact"),
        "{text}"
    );
    assert!(
        text.contains("kept off the host"),
        "keys from the host: {text}"
    );
    assert_eq!(lines(&log), original, "verify wrote to the log");

    let failure = find(&original, Some("login_failure"), None, 0);
    // The gateway's next checkpoint (pforte-admin's chain has its own).
    let checkpoint = find(&original, Some("audit_checkpoint"), Some("gw-a"), failure);
    // The gateway's event after bob's failure: where a deletion shows.
    let next = find(&original, None, Some("gw-a"), failure + 1);

    // An edited event: bob's failed login blamed on someone else.
    let mut edited = original.clone();
    edited[failure] = edited[failure].replace("\"username\":\"bob\"", "\"username\":\"eve\"");
    assert_ne!(edited[failure], original[failure]);
    let file = write(dir, "edited.jsonl", &edited);
    broken(&keys, &[&file], &[], "edited", (&file, failure + 1));
    let out = admin(&["audit", "verify", "--keys", path(&keys), path(&file)]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        text.contains(&format!(
            "BROKEN: {}:{}: edited",
            file.display(),
            failure + 1
        )),
        "one sentence with file:line and the kind: {text}"
    );

    // A deleted event: the next one now sits at its line and does not follow its predecessor.
    let mut deleted = original.clone();
    deleted.remove(failure);
    let file = write(dir, "deleted.jsonl", &deleted);
    broken(&keys, &[&file], &[], "deleted", (&file, next));

    // An inserted event: a copy of a line, replayed right after it.
    let mut inserted = original.clone();
    inserted.insert(failure + 1, original[failure].clone());
    let file = write(dir, "inserted.jsonl", &inserted);
    broken(&keys, &[&file], &[], "inserted", (&file, failure + 2));

    // Two events swapped.
    let mut swapped = original.clone();
    swapped.swap(failure, next);
    let file = write(dir, "swapped.jsonl", &swapped);
    broken(&keys, &[&file], &[], "reordered", (&file, failure + 1));

    // An edit with every hash after it recomputed: the chain holds, the signed checkpoint does
    // not, found at the event it names as the head (the gateway's last before it), its own line
    // in the sentence.
    let mut recomputed = edited.clone();
    rechain(&mut recomputed, "gw-a", failure);
    let file = write(dir, "recomputed.jsonl", &recomputed);
    let head = original[..checkpoint]
        .iter()
        .rposition(|l| field(l, "replica") == "gw-a")
        .unwrap();
    broken(
        &keys,
        &[&file],
        &[],
        "checkpoint_mismatch",
        (&file, head + 1),
    );
    let (_, report) = verify(&keys, &[&file], &[]);
    let detail = report["breaks"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("{}:{}", file.display(), checkpoint + 1)),
        "{detail}"
    );

    // A tail cut off with its checkpoint: whole as far as the log goes, caught by the
    // checkpoint kept elsewhere (a syslog copy: the JSON starts at its first brace).
    let cut = original[..failure].to_vec();
    let file = write(dir, "cut.jsonl", &cut);
    intact(&keys, &[&file], &[]);
    let kept = write(
        dir,
        "siem.log",
        &[format!(
            "Dec  7 23:59:59 gw pforte[42]: {}",
            original[checkpoint]
        )],
    );
    let (code, report) = verify(&keys, &[&file], &["--checkpoints", path(&kept)]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["breaks"][0]["kind"], "truncated", "{report:#}");
    intact(&keys, &[&log], &["--checkpoints", path(&kept)]);

    // A forged checkpoint: its signature changed (its hash made right), or signed by a key that
    // is not among the trusted ones.
    let mut forged = original.clone();
    let signature = field(&forged[checkpoint], "signature");
    let signature = signature.as_str().unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    forged[checkpoint] = forged[checkpoint].replace(
        &format!("\"signature\":\"{signature}\""),
        &format!("\"signature\":\"{flipped}{}\"", &signature[1..]),
    );
    rechain(&mut forged, "gw-a", checkpoint);
    let file = write(dir, "forged.jsonl", &forged);
    broken(
        &keys,
        &[&file],
        &[],
        "forged_checkpoint",
        (&file, checkpoint + 1),
    );
    let foreign = foreign_keys(dir);
    let first_checkpoint = find(&original, Some("audit_checkpoint"), None, 0);
    broken(
        &foreign,
        &[&log],
        &[],
        "forged_checkpoint",
        (&log, first_checkpoint + 1),
    );

    // Nothing to check is bad input, not a break.
    let out = admin(&[
        "audit",
        "verify",
        "--keys",
        path(&keys),
        "/nonexistent/audit.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/audit.jsonl"));

    // `audit show`: by person, by kind, by time.
    let bobs = show(&log, &["--person", "bob"]);
    assert_eq!(
        events(&bobs),
        ["login_failure", "login_success", "access_denied"],
        "{bobs:#?}"
    );
    let logins = show(&log, &["--kind", "login_*"]);
    assert_eq!(
        events(&logins),
        ["login_success", "login_failure", "login_success"]
    );
    assert_eq!(
        show(&log, &["--person", "alice", "--kind", "login_success"]).len(),
        1
    );
    let admins = show(&log, &["--kind", "key_generated"]);
    assert_eq!(admins.len(), 1, "the change by pforte-admin");
    assert_eq!(show(&log, &["--since", "1h"]).len(), original.len());
    assert!(show(&log, &["--until", "1h"]).is_empty());
    assert!(show(&log, &["--since", "2100-01-01"]).is_empty());
    let raw = admin(&["audit", "show", path(&log), "--person", "bob", "--json"]);
    assert!(
        String::from_utf8_lossy(&raw.stdout)
            .lines()
            .all(|l| original.contains(&l.to_string())),
        "--json prints the lines unchanged"
    );
    let out = admin(&["audit", "show", path(&log), "--kind", "login_failure"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().count() == 1 && text.contains("gw-a") && text.contains(" bob "),
        "{text}"
    );
    let out = admin(&["audit", "show", path(&log), "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");

    // The config's log by default; reading never makes or writes it.
    let config = path(&gw.config_path);
    let out = admin(&[
        "--config",
        config,
        "audit",
        "show",
        "--kind",
        "login_failure",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), text, "{out:?}");
    let away = dir.join("away.jsonl");
    std::fs::rename(&log, &away).unwrap();
    let out = admin(&["--config", config, "audit", "show"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the audit log"));
    assert!(!log.exists(), "audit show made the log");
}

#[tokio::test]
async fn a_log_rotated_torn_and_restarted_verifies_as_one_chain_with_notices() {
    let mail = Upstream::start("mail").await;
    let mut gw = gateway(&mail, "gw-a").start().await;
    make_events(&gw, GENERATE).await;
    // Rotation as logrotate does it: the file renamed; the gateway follows within its sync
    // interval (100 ms here) and goes on in a new file at the configured path.
    let log = gw.path("audit.jsonl");
    let rotated = gw.path("audit.jsonl.1");
    std::fs::rename(&log, &rotated).unwrap();
    let followed = pforte_e2e::eventually(Duration::from_secs(3), async || log.exists()).await;
    assert!(followed, "no new audit.jsonl after the rotation");
    make_events(&gw, ROTATE).await;
    gw.stop().await;
    // A line torn as by a crash in the middle of a write: the gateway starting again ends it
    // and records it on its chain, which goes on.
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(
        &mut file,
        b"{\"event\":\"login_success\",\"replica\":\"gw-a",
    )
    .unwrap();
    drop(file);
    gw.start_again().await;
    make_events(&gw, ROTATE).await;
    gw.stop().await;
    // Rotated while the gateway is stopped: it finds its file behind its chain, goes on from
    // its head file and records that it resumed.
    let middle = gw.path("audit.jsonl.2");
    std::fs::rename(&log, &middle).unwrap();
    gw.start_again().await;
    make_events(&gw, None).await;
    gw.stop().await;

    let keys = gw.path("audit-keys");
    for file in [&rotated, &middle, &log] {
        assert!(!lines(file).is_empty(), "{}", file.display());
    }
    // Any order: the verifier follows the chain, not the file names.
    let report = intact(&keys, &[&log, &rotated, &middle], &[]);
    let notices: Vec<&Value> = report["notices"].as_array().unwrap().iter().collect();
    assert!(
        notices.iter().any(|n| n["kind"] == "damaged_tail"),
        "the torn line, as the gateway recorded it: {report:#}"
    );

    assert_eq!(
        replicas(&report),
        ["gw-a", "pforte-admin@gw-a"],
        "one chain each across rotation and restart: {report:#}"
    );
    let gw_a = chain(&report, "gw-a");
    assert_eq!(gw_a["first_seq"], 1);
    let total: usize = [&rotated, &middle, &log]
        .iter()
        .map(|f| count(&lines(f), "gw-a"))
        .sum();
    assert_eq!(gw_a["events"], total, "{report:#}");
    assert!(
        gw_a["checkpoints"].as_u64().unwrap() >= 2,
        "a checkpoint at each shutdown: {report:#}"
    );

    // `audit show` merges the files into one timeline, whatever the order they are given in:
    // the oldest file's events first, each file's in its own order (the torn line skipped).
    let events = |file: &Path| -> Vec<String> {
        lines(file)
            .into_iter()
            .filter(|l| field(l, "event").is_string())
            .collect()
    };
    let timeline = [events(&rotated), events(&middle), events(&log)].concat();
    for [a, b, c] in [[&log, &rotated, &middle], [&rotated, &middle, &log]] {
        let out = admin(&["audit", "show", "--json", path(a), path(b), path(c)]);
        assert!(out.status.success(), "{out:?}");
        let shown: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        assert!(shown == timeline, "{shown:#?}");
    }

    // A file alone whose earlier files are not given is said, not a break: the newest starts
    // where the gateway resumed, the middle one late.
    let notices = |file: &Path| -> Vec<String> {
        let report = intact(&keys, &[file], &[]);
        report["notices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        notices(&log).contains(&"resumed".to_string()),
        "{:?}",
        notices(&log)
    );
    assert!(notices(&middle).contains(&"starts_late".to_string()));
}

#[tokio::test]
async fn two_replicas_files_verify_together() {
    let mail = Upstream::start("mail").await;
    let mut a = gateway(&mail, "gw-a").start().await;
    let mut b = gateway(&mail, "gw-b").start().await;
    // pforte-admin writes into both files, as its own chain beside each gateway's
    // (pforte-admin@<replica>): two chains, not one started twice.
    make_events(&a, GENERATE).await;
    make_events(&b, GENERATE).await;
    a.stop().await;
    b.stop().await;
    // Each replica signs with its own key: the verifier trusts both.
    let scratch = TempDir::new().unwrap();
    let keys = scratch.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    for gw in [&a, &b] {
        for key in std::fs::read_dir(gw.path("audit-keys")).unwrap() {
            let key = key.unwrap().path();
            if key.extension().is_some_and(|e| e == "pub") {
                std::fs::copy(&key, keys.join(key.file_name().unwrap())).unwrap();
            }
        }
    }
    let (log_a, log_b) = (a.path("audit.jsonl"), b.path("audit.jsonl"));
    let report = intact(&keys, &[&log_b, &log_a], &[]);
    assert_eq!(
        replicas(&report),
        ["gw-a", "gw-b", "pforte-admin@gw-a", "pforte-admin@gw-b"],
        "{report:#}"
    );
    // One replica's key alone leaves the other's checkpoints unverified.
    let (code, report) = verify(&a.path("audit-keys"), &[&log_a, &log_b], &[]);
    assert_eq!(code, 1, "{report:#}");
}

/// A gateway killed outright (no shutdown, no last checkpoint) loses none of the events it
/// recorded (each is handed to the kernel as it happens), and its next start goes on with the
/// same chain: the log verifies as one chain, the events from before the kill are in it, and the
/// checkpoint of the next shutdown covers them all.
#[tokio::test]
async fn a_killed_gateway_goes_on_with_its_chain() {
    let mail = Upstream::start("mail").await;
    let mut gw = gateway(&mail, "gw-k").start().await;
    make_events(&gw, None).await;
    let log = gw.path("audit.jsonl");
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("\"access_denied\"")
    );
    let before = count(&lines(&log), "gw-k");
    gw.signal("KILL");
    assert!(gw.wait_exit(Duration::from_secs(10)).await.is_some());
    assert_eq!(
        count(&lines(&log), "gw-k"),
        before,
        "nothing lost to the kill"
    );
    gw.start_again().await;
    make_events(&gw, None).await;
    gw.stop().await;
    let report = intact(&gw.path("audit-keys"), &[&log], &[]);
    let gw_k = chain(&report, "gw-k");
    assert_eq!(gw_k["first_seq"], 1, "{report:#}");
    assert_eq!(gw_k["events"], count(&lines(&log), "gw-k"), "{report:#}");
    assert!(
        gw_k["events"].as_u64().unwrap() > before as u64 + 3,
        "{report:#}"
    );
    let last = lines(&log).last().cloned().unwrap();
    assert_eq!(field(&last, "event"), "audit_checkpoint");
}
