//! The audit log's format is what docs/audit.md says, so that another tool can verify it: the
//! Python verifier and the OpenSSL commands printed there are run, as written, on the log of a
//! real gateway (logins, a refusal, the signed checkpoint of its shutdown), and the Python one
//! must also catch an edited line.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use pforte_e2e::browser::Browser;
use pforte_e2e::gateway::Gateway;

const POLICY: &str = "[[rule]]\napps = [\"mail\"]\nallow = [\"group:staff\"]\n";

/// The fenced block of `language` that follows the first line containing `after` in docs/audit.md.
fn docs_block(after: &str, language: &str) -> String {
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/audit.md"))
            .unwrap();
    let from = docs
        .find(after)
        .unwrap_or_else(|| panic!("docs/audit.md: no {after:?}"));
    let rest = &docs[from..];
    let fence = format!("```{language}\n");
    let start = rest.find(&fence).unwrap() + fence.len();
    let end = start + rest[start..].find("```").unwrap();
    // Blocks inside a list are indented; the indentation is not part of the code.
    let indent = rest[..start - fence.len()]
        .rsplit('\n')
        .next()
        .map_or(0, |line| line.len() - line.trim_start().len());
    rest[start..end]
        .lines()
        .map(|line| line.get(indent..).unwrap_or(line.trim_start()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_documented_python_and_openssl_verify_a_gateway_log() {
    let mut gw = Gateway::builder()
        .app("mail", "mail.gw.test", &["http://127.0.0.1:9".to_owned()])
        .policy(POLICY)
        .demo_people()
        .audit_log()
        .start()
        .await;
    for (user, password) in [("alice", "wrong"), ("bob", "bobpw")] {
        let mut browser = Browser::new(gw.https, gw.root());
        browser
            .login("https://login.gw.test/login", user, password)
            .await;
        browser.follow("https://mail.gw.test/").await;
    }
    gw.signal("TERM");
    assert!(gw.wait_exit(Duration::from_secs(20)).await.is_some());
    let log = gw.path("audit.jsonl");
    let events = gw.audit();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert!(
        kinds.contains(&"login_failure") && kinds.contains(&"access_denied"),
        "{kinds:?}"
    );
    assert_eq!(
        kinds.last(),
        Some(&"audit_checkpoint"),
        "shutdown signs the head"
    );

    let python = docs_block("This Python checks one chain", "python");
    let run = |file: &Path| {
        Command::new("python3")
            .arg("-c")
            .arg(&python)
            .arg(file)
            .output()
            .unwrap()
    };
    let intact = run(&log);
    assert!(
        intact.status.success(),
        "{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    assert!(String::from_utf8_lossy(&intact.stdout).starts_with("intact:"));
    let edited = gw.path("edited.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&edited, text.replacen("\"alice\"", "\"mallory\"", 1)).unwrap();
    let caught = run(&edited);
    assert!(!caught.status.success());
    assert!(String::from_utf8_lossy(&caught.stderr).contains("line 1: changed"));

    let checkpoint = text.lines().last().unwrap();
    let kid = events.last().unwrap()["checkpoint"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("line.json"), checkpoint).unwrap();
    std::fs::copy(
        gw.path(&format!("audit-keys/{kid}.pub")),
        work.path().join(format!("{kid}.pub")),
    )
    .unwrap();
    let shell = docs_block("OpenSSL reads:", "sh").replace("35e0273b959752b4", &kid);
    let verified = Command::new("sh")
        .arg("-ec")
        .arg(&shell)
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(
        verified.status.success()
            && String::from_utf8_lossy(&verified.stdout)
                .contains("Signature Verified Successfully"),
        "{shell}\n{}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
}
