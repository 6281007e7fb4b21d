//! One worker: one connection, one grant after the other until told to stop, the latency of
//! each grant completed inside the measured window recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::Grant;
use crate::conn::{Conn, Target};
use crate::grants::{self, Client};

/// Errors printed in full; later ones are only counted.
const ERRORS_SHOWN: u64 = 3;

/// A grant that takes longer has failed (a stuck server must not hang the benchmark).
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// What the workers and the clock share.
#[derive(Default)]
pub struct Shared {
    /// Inside the measured window.
    pub measuring: AtomicBool,
    /// Time to stop.
    pub stop: AtomicBool,
    /// Failed grants (any time: a benchmark with errors is not a result).
    pub errors: AtomicU64,
}

/// A worker's state: its connection, its person's session and, for refresh, the head of its
/// token chain (for exchange, the access token it trades).
pub struct Worker {
    target: Arc<Target>,
    client: Arc<Client>,
    shared: Arc<Shared>,
    grant: Grant,
    cookie: String,
    conn: Option<Conn>,
    chain: Option<String>,
}

impl Worker {
    /// A worker that has not connected yet; `cookie` is its SSO session.
    pub fn new(
        target: Arc<Target>,
        client: Arc<Client>,
        shared: Arc<Shared>,
        grant: Grant,
        cookie: String,
    ) -> Self {
        Self {
            target,
            client,
            shared,
            grant,
            cookie,
            conn: None,
            chain: None,
        }
    }

    /// Runs until stopped; returns the latencies (µs) of the grants completed while measuring.
    pub async fn run(mut self) -> Vec<u32> {
        let mut latencies = Vec::new();
        while !self.shared.stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            let step = tokio::time::timeout(STEP_TIMEOUT, self.step())
                .await
                .unwrap_or_else(|_| Err(anyhow::anyhow!("no answer within {STEP_TIMEOUT:?}")));
            match step {
                Ok(true) if self.shared.measuring.load(Ordering::Relaxed) => {
                    let micros = started.elapsed().as_micros();
                    latencies.push(u32::try_from(micros).unwrap_or(u32::MAX));
                }
                Ok(_) => {}
                Err(error) => {
                    let seen = self.shared.errors.fetch_add(1, Ordering::Relaxed);
                    if seen < ERRORS_SHOWN {
                        eprintln!("grant failed: {error:#}");
                    }
                    // The connection may be broken, and a chain that failed is ended.
                    self.conn = None;
                    self.chain = None;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
        latencies
    }

    /// One step: a measured grant (`Ok(true)`), or starting a refresh chain or getting the
    /// token to exchange (`Ok(false)`).
    async fn step(&mut self) -> anyhow::Result<bool> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => self.conn.insert(self.target.connect().await?),
        };
        match self.grant {
            Grant::ClientCredentials => grants::client_credentials(conn, &self.client).await?,
            Grant::Code => {
                grants::code_exchange(conn, &self.client, &self.cookie).await?;
            }
            Grant::Refresh => match self.chain.take() {
                Some(token) => {
                    self.chain = Some(grants::refresh(conn, &self.client, &token).await?)
                }
                None => {
                    let first = grants::code_exchange(conn, &self.client, &self.cookie).await?;
                    self.chain = Some(first.refresh.ok_or_else(|| {
                        anyhow::anyhow!("the code exchange gave no refresh token")
                    })?);
                    return Ok(false);
                }
            },
            Grant::Exchange => match &self.chain {
                Some(subject) => grants::token_exchange(conn, &self.client, subject).await?,
                None => {
                    let first = grants::code_exchange(conn, &self.client, &self.cookie).await?;
                    self.chain = Some(first.access);
                    return Ok(false);
                }
            },
        }
        Ok(true)
    }
}
