//! testssl.sh (Debian's `/usr/bin/testssl`) against the real gateway, once per `[tls] profile`,
//! both runs at once: the demo as an evaluator starts it (`bsi`, the default) and a gateway with
//! `profile = "modern"`. Any finding of severity LOW or above, or a warning that a check could
//! not run, fails the test, except those a self-signed test certificate must raise
//! ([`CERTIFICATE_ONLY`], mirrored in docs/deployment.md "TLS (BSI TR-02102-2)"). The profiles'
//! important properties are asserted from the same scans.
//!
//! The checks are chosen to keep both runs under a minute and a half of wall time together:
//! protocols, the server's cipher order, forward secrecy (suites and curves), the server
//! defaults (certificate, session resumption), the HTTP headers (HSTS) and the known
//! vulnerabilities; the per-cipher listing and the client simulation are left out.

use std::path::Path;
use std::time::Duration;

use pforte_e2e::demo::Demo;
use pforte_e2e::gateway::Gateway;
use serde_json::Value;

/// The checks each run makes.
const CHECKS: [&str; 6] = [
    "--protocols",
    "--server-preference",
    "--fs",
    "--server-defaults",
    "--headers",
    "--vulnerable",
];

/// The findings a self-signed (or private-CA) test certificate raises whatever the server does:
/// it chains to no public root, names no CRL or OCSP responder, is valid for decades (rcgen's
/// and the demo's), and `localhost` names have no CAA record.
const CERTIFICATE_ONLY: [&str; 4] = [
    "cert_chain_of_trust",
    "cert_revocation",
    "cert_validityPeriod",
    "DNS_CAArecord",
];

/// testssl's own notices about the machine it runs on, not about the server.
const ABOUT_TESTSSL: [&str; 1] = ["engine_problem"];

/// testssl 3.0.8's session-ticket check: its `openssl s_client -sess_out`, with nothing to send,
/// closes right after its Finished, and Pforte's TLS 1.3 ticket, sent after that Finished is
/// read, often arrives too late for it (by hand against the demo: 13 of 30 such runs saved a
/// session; against nginx 30 of 30), so testssl reports a "connect problem". Why rustls' ticket
/// leaves later than OpenSSL's is not found yet; a client that sends a request gets its tickets
/// (99.95 % resumed in tests/bench/handshakes.sh), and tests/e2e/tls_resumption.rs asserts
/// resumption. Let pass so the suite does not fail at random on a known, documented finding.
const TICKET_CHECK_RACE: (&str, &str) = (
    "sessionresumption_ticket",
    "check failed because of connect problem",
);

/// One finding of a scan.
#[derive(Debug, Clone)]
struct Finding {
    id: String,
    severity: String,
    finding: String,
}

/// Runs testssl against `https://{host}:{port}{path}`, connecting to 127.0.0.1, and returns
/// its findings (all severities; the test judges them).
async fn testssl(host: &str, port: u16, path: &str, out: &Path) -> Vec<Finding> {
    let json = out.join(format!("testssl-{host}.json"));
    let log = out.join(format!("testssl-{host}.log"));
    let run = tokio::process::Command::new("testssl")
        .args([
            "--quiet",
            "--warnings",
            "off",
            "--color",
            "0",
            "--ip",
            "127.0.0.1",
        ])
        .args(CHECKS)
        .arg("--jsonfile")
        .arg(&json)
        .arg(format!("https://{host}:{port}{path}"))
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .status();
    let status = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("testssl did not finish in 5 minutes")
        .expect("testssl (Debian's testssl.sh) is installed by tests/run");
    let text = std::fs::read_to_string(&json).unwrap_or_default();
    let parsed: Vec<Value> = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "testssl ({status}) wrote no JSON ({e}):\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    parsed
        .iter()
        .map(|f| Finding {
            id: f["id"].as_str().unwrap_or_default().to_string(),
            severity: f["severity"].as_str().unwrap_or_default().to_string(),
            finding: f["finding"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}

/// Findings of severity LOW or above, warnings and fatal scan problems, that no test
/// certificate explains.
fn unexplained(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| {
            matches!(
                f.severity.as_str(),
                "LOW" | "MEDIUM" | "HIGH" | "CRITICAL" | "WARN" | "FATAL"
            )
        })
        .filter(|f| !CERTIFICATE_ONLY.contains(&f.id.as_str()))
        .filter(|f| !ABOUT_TESTSSL.contains(&f.id.as_str()))
        .filter(|f| (f.id.as_str(), f.finding.as_str()) != TICKET_CHECK_RACE)
        .collect()
}

fn one<'f>(findings: &'f [Finding], id: &str) -> &'f Finding {
    findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no {id} in {findings:#?}"))
}

#[tokio::test]
async fn testssl_finds_nothing_but_the_test_certificate_under_either_profile() {
    let out = tempfile::tempdir().unwrap();
    let demo = Demo::start(&[]).await;
    let modern = Gateway::builder().tls("profile = \"modern\"").start().await;
    let (bsi, modern) = tokio::join!(
        testssl("login.localhost", demo.https.port(), "/login", out.path()),
        testssl("login.gw.test", modern.https.port(), "/login", out.path()),
    );

    for (profile, findings) in [("bsi", &bsi), ("modern", &modern)] {
        let left = unexplained(findings);
        assert!(left.is_empty(), "{profile}: {left:#?}");
        assert_eq!(one(findings, "cipher_order").finding, "server", "{profile}");
        let hsts = one(findings, "HSTS_time");
        assert_eq!(hsts.severity, "OK", "{profile}: {hsts:?}");
        assert!(hsts.finding.contains("31536000"), "{profile}: {hsts:?}");
        let tls13 = one(findings, "TLS1_3");
        assert!(tls13.finding.starts_with("offered"), "{profile}: {tls13:?}");
    }

    // bsi: AES-GCM on the NIST curves only.
    assert_eq!(
        one(&bsi, "PFS_ECDHE_curves").finding,
        "prime256v1 secp384r1"
    );
    let suites = &one(&bsi, "PFS_ciphers").finding;
    assert!(!suites.contains("CHACHA20"), "{suites}");
    assert!(suites.split(' ').all(|s| s.contains("GCM")), "{suites}");
    // modern: ChaCha20-Poly1305 and X25519 as well.
    let curves = &one(&modern, "PFS_ECDHE_curves").finding;
    assert!(
        curves.contains("X25519") && curves.contains("prime256v1"),
        "{curves}"
    );
    let suites = &one(&modern, "PFS_ciphers").finding;
    assert!(suites.contains("CHACHA20"), "{suites}");
}
