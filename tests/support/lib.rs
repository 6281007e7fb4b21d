//! The end-to-end harness: a test CA, real upstream servers on 127.0.0.1, the real `pforte`
//! binary started with a generated config, and TLS clients that speak HTTP/1.1 and HTTP/2. Every
//! server binds a free loopback port; every file lives in a temporary folder.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]
// The harness waits for real servers and measures real time.
#![allow(clippy::disallowed_methods)]

pub mod browser;
pub mod client;
pub mod cut;
pub mod demo;
pub mod discovery;
pub mod faults_client;
pub mod faults_load;
pub mod faults_report;
pub mod faults_scenario;
pub mod faults_servers;
pub mod gateway;
pub mod hostile_idp;
pub mod in_process;
pub mod jwks;
pub mod monitored;
pub mod oidc;
pub mod person;
pub mod pki;
pub mod promql;
pub mod raw;
pub mod sentinel;
pub mod syslog;
pub mod upstream;
pub mod upstream_idp;

/// Ports handed to servers the tests start. They lie below the kernel's ephemeral range
/// (32768 and up), so no outgoing connection and no `bind(0)` can take one between the moment it
/// is handed out and the moment its server binds it; each is handed out once per test process.
const PORTS: std::ops::Range<u16> = 20_000..32_000;

/// A free TCP port on 127.0.0.1 for a server a test starts (checked by binding it once).
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    // Start where this process's id points, so concurrent test processes rarely meet.
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let span = PORTS.end - PORTS.start;
    let start = (std::process::id() % u32::from(span)) as u16;
    for _ in 0..span {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed).wrapping_add(start) % span;
        let port = PORTS.start + offset;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {PORTS:?}")
}

/// A Redis key prefix no other test (or earlier run) uses, so tests sharing the harness's Redis
/// never meet.
pub fn unique_prefix(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("pforte-e2e-{label}-{nanos:x}-{}:", std::process::id())
}

/// Installs the process-wide rustls provider once.
pub fn init_crypto() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Waits until `check` holds, polling every 100 ms; false when `within` passed first. For effects
/// that take a moment (file-change reloads, closed connections), never for measuring speed.
pub async fn eventually<F: AsyncFnMut() -> bool>(
    within: std::time::Duration,
    mut check: F,
) -> bool {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

/// A variable the harness (`./tests/run`) exports; missing means the suite runs outside it.
pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run under ./tests/run (or eval \"$(deploy/dev/services.sh env DIR)\")")
    })
}
