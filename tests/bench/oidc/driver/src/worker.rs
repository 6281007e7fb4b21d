//! One worker: one connection, one grant (or login) after the other until told to stop, the
//! latency of each one completed inside the measured window recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::Grant;
use crate::conn::{Conn, Target};
use crate::grants::{self, Client};
use crate::logins::Login;

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

/// What the workers do, over and over.
#[derive(Clone)]
pub enum Work {
    /// An OAuth grant, as this client.
    Grant(Grant, Arc<Client>),
    /// A login at Pforte's login host.
    Login(Arc<Login>),
}

impl Work {
    /// What one step is, for error messages.
    fn what(&self) -> &'static str {
        match self {
            Self::Grant(..) => "grant",
            Self::Login(_) => "login",
        }
    }
}

/// A worker's state: its connection, its person (their SSO session for grants, their number
/// for logins) and, for refresh, the head of its token chain (for exchange, the access token
/// it trades).
pub struct Worker {
    target: Arc<Target>,
    work: Work,
    shared: Arc<Shared>,
    cookie: String,
    person: usize,
    conn: Option<Conn>,
    chain: Option<String>,
}

impl Worker {
    /// A worker that has not connected yet; `cookie` is its SSO session, `person` its number.
    pub fn new(
        target: Arc<Target>,
        work: Work,
        shared: Arc<Shared>,
        cookie: String,
        person: usize,
    ) -> Self {
        Self {
            target,
            work,
            shared,
            cookie,
            person,
            conn: None,
            chain: None,
        }
    }

    /// Runs until stopped; returns the latencies (µs) of the grants completed while measuring.
    pub async fn run(mut self) -> Vec<u32> {
        let mut latencies = Vec::new();
        while !self.shared.stop.load(Ordering::Relaxed) {
            // A latency is wall-clock time (the repository's clippy.toml asks for its Clock).
            #[allow(clippy::disallowed_methods)]
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
                        eprintln!("{} failed: {error:#}", self.work.what());
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

    /// One step: a measured grant or login (`Ok(true)`), or starting a refresh chain or getting
    /// the token to exchange (`Ok(false)`).
    async fn step(&mut self) -> anyhow::Result<bool> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => self.conn.insert(self.target.connect().await?),
        };
        let (grant, client) = match &self.work {
            Work::Grant(grant, client) => (*grant, client),
            Work::Login(login) => {
                login.once(conn, self.person).await?;
                return Ok(true);
            }
        };
        match grant {
            Grant::ClientCredentials => grants::client_credentials(conn, client).await?,
            Grant::Code => {
                grants::code_exchange(conn, client, &self.cookie).await?;
            }
            Grant::Refresh => match self.chain.take() {
                Some(token) => self.chain = Some(grants::refresh(conn, client, &token).await?),
                None => {
                    let first = grants::code_exchange(conn, client, &self.cookie).await?;
                    self.chain = Some(first.refresh.ok_or_else(|| {
                        anyhow::anyhow!("the code exchange gave no refresh token")
                    })?);
                    return Ok(false);
                }
            },
            Grant::Exchange => match &self.chain {
                Some(subject) => grants::token_exchange(conn, client, subject).await?,
                None => {
                    let first = grants::code_exchange(conn, client, &self.cookie).await?;
                    self.chain = Some(first.access);
                    return Ok(false);
                }
            },
        }
        Ok(true)
    }
}
