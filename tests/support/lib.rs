//! The end-to-end harness: a test CA, real upstream servers on 127.0.0.1, the real `pforte`
//! binary started with a generated config, and TLS clients that speak HTTP/1.1 and HTTP/2. Every
//! server binds a free loopback port; every file lives in a temporary folder.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

pub mod browser;
pub mod client;
pub mod demo;
pub mod gateway;
pub mod pki;
pub mod upstream;

/// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
