//! New connections, as fast as the server takes them: each one a TCP connect, a TLS handshake
//! (full, or resumed from a ticket an earlier connection received), one small request with
//! `Connection: close`, and the answer read to its end (which is also when a TLS 1.3 client
//! receives the tickets it resumes with next time). Each client keeps its own tickets, as each
//! browser does: rustls' client store keeps at most 8 tickets per server, and one store shared by
//! more clients than that runs dry whenever more than 8 of them start at once.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use tokio_rustls::rustls::HandshakeKind;

use crate::target::{Stream, Target};

/// What the measured window saw.
#[derive(Default)]
pub struct Outcome {
    /// Connections completed (handshake, request and answer).
    pub completed: u64,
    /// Of those, the ones whose handshake was a resumption.
    pub resumed: u64,
    /// Connections that failed.
    pub errors: u64,
}

/// Keeps one client per target (each with its own TLS session store) connecting for `warmup`
/// and then `duration`, and counts the window's connections.
pub async fn run(
    targets: Vec<Target>,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<Outcome> {
    let measured_from = Instant::now() + warmup;
    let end = measured_from + duration;
    let mut clients = Vec::with_capacity(targets.len());
    for target in targets {
        clients.push(tokio::spawn(client(Arc::new(target), measured_from, end)));
    }
    let mut total = Outcome::default();
    for client in clients {
        let outcome = client.await?;
        total.completed += outcome.completed;
        total.resumed += outcome.resumed;
        total.errors += outcome.errors;
    }
    Ok(total)
}

async fn client(target: Arc<Target>, measured_from: Instant, end: Instant) -> Outcome {
    let mut outcome = Outcome::default();
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        target.path, target.authority
    );
    while Instant::now() < end {
        let result = one(&target, request.as_bytes()).await;
        if Instant::now() < measured_from {
            continue;
        }
        match result {
            Ok(resumed) => {
                outcome.completed += 1;
                outcome.resumed += u64::from(resumed);
            }
            Err(e) => {
                if outcome.errors == 0 {
                    eprintln!("first failed connection: {e:#}");
                }
                outcome.errors += 1;
            }
        }
    }
    outcome
}

/// One connection; true when its handshake was a resumption.
async fn one(target: &Target, request: &[u8]) -> anyhow::Result<bool> {
    let Stream::Tls(mut tls) = target.connect().await? else {
        anyhow::bail!("handshakes need an https:// URL");
    };
    let resumed = tls.get_ref().1.handshake_kind() == Some(HandshakeKind::Resumed);
    tls.write_all(request).await?;
    let mut answer = Vec::with_capacity(512);
    tls.read_to_end(&mut answer).await?;
    if !answer.starts_with(b"HTTP/1.1 ") {
        anyhow::bail!("not an HTTP answer");
    }
    Ok(resumed)
}
