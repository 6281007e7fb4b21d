//! Load driver for `tests/bench/oidc.sh`: one OAuth grant, over and over, on N keep-alive
//! HTTPS connections for a fixed time, against any OpenID provider found by discovery.
//!
//! ```text
//! discovery ─▶ N workers (one connection each; refresh: each its own token chain; exchange:
//!              each its own access token to trade)
//!           ─▶ warm-up ─▶ measured window (ops, latencies, CPU of the given processes) ─▶ report
//! ```
//!
//! The report is `key=value` lines on standard output: `ops_per_second`, `errors`, `p50_ms`,
//! `p99_ms`, `driver_cpu_share`, and for every `--pid NAME=PID` `cpu_share_NAME` (CPU seconds
//! per second of the window) and `ops_per_cpu_second_NAME` (grants per CPU second: the
//! per-core figure), and with several `ops_per_cpu_second_all` (their CPU added up).

mod conn;
mod cpu;
mod grants;
mod worker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use http::Uri;

use crate::conn::Target;
use crate::grants::Client;
use crate::worker::{Shared, Worker};

/// Which grant to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Grant {
    /// `grant_type=client_credentials` with Basic authentication.
    ClientCredentials,
    /// `grant_type=refresh_token`, each connection rotating its own chain.
    Refresh,
    /// authorization request with the session cookie, then the code for tokens (PKCE).
    Code,
    /// token exchange (RFC 8693): each connection trades one access token, got by a code
    /// exchange during warm-up, again and again for one to `--audience`.
    Exchange,
}

#[derive(Debug, Parser)]
#[command(about = "OAuth grants per second against an OpenID provider")]
struct Args {
    /// The grant to measure.
    #[arg(long, value_enum)]
    grant: Grant,
    /// The provider's issuer URL (discovery is fetched from it; its host is used for SNI,
    /// the certificate check and `Host`).
    #[arg(long)]
    issuer: Uri,
    /// Where to connect (the issuer's name need not resolve).
    #[arg(long)]
    connect: SocketAddr,
    /// PEM file of the CA that signed the provider's certificate.
    #[arg(long)]
    ca: PathBuf,
    /// The client's id.
    #[arg(long)]
    client_id: String,
    /// The client's secret (client_secret_basic).
    #[arg(long)]
    client_secret: String,
    /// The client's registered redirect URI; authorization responses must come back to it.
    #[arg(long)]
    redirect_uri: String,
    /// Scopes asked for at the authorization endpoint.
    #[arg(long, default_value = "openid profile email")]
    scope: String,
    /// Scope asked for with client_credentials.
    #[arg(long)]
    service_scope: Option<String>,
    /// The client id a token exchange asks a token for (the exchange grant).
    #[arg(long)]
    audience: Option<String>,
    /// File with one `Cookie` header value per line, each an SSO session (code and refresh
    /// grants); worker i uses line i modulo their number, as people with their own sessions.
    #[arg(long)]
    cookies: Option<PathBuf>,
    /// Keep-alive connections, one worker each.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds of warm-up before measuring (refresh chains start here).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// `NAME=PID` of a process whose CPU use to report (repeatable).
    #[arg(long = "pid")]
    pids: Vec<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pids = args
        .pids
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(n, p)| (n.to_owned(), p.to_owned()))
                .with_context(|| format!("--pid {p}: write NAME=PID"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let target = Arc::new(Target::new(args.connect, &args.issuer, &args.ca)?);
    let (authorize_path, token_path) = discover(&target, &args.issuer).await?;
    let cookies = match &args.cookies {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading {}", path.display()))?
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        None => Vec::new(),
    };
    if args.grant != Grant::ClientCredentials && cookies.is_empty() {
        bail!(
            "the {:?} grant needs --cookies with at least one session",
            args.grant
        );
    }
    let client = Arc::new(Client {
        basic: Client::basic_auth(&args.client_id, &args.client_secret),
        id: args.client_id,
        redirect_uri: args.redirect_uri,
        scope: args.scope,
        service_scope: args.service_scope,
        audience: args.audience,
        authorize_path,
        token_path,
    });

    let shared = Arc::new(Shared::default());
    let workers = (0..args.connections)
        .map(|i| {
            let cookie = cookies
                .get(i % cookies.len().max(1))
                .cloned()
                .unwrap_or_default();
            let worker = Worker::new(
                target.clone(),
                client.clone(),
                shared.clone(),
                args.grant,
                cookie,
            );
            tokio::spawn(worker.run())
        })
        .collect::<Vec<_>>();

    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    let cpu_before = cpu_seconds(&pids)?;
    let self_before = cpu::seconds("self")?;
    let started = Instant::now();
    shared.measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs_f64(args.duration)).await;
    shared.measuring.store(false, Ordering::Relaxed);
    let window = started.elapsed().as_secs_f64();
    let cpu_after = cpu_seconds(&pids)?;
    let self_used = cpu::seconds("self")? - self_before;
    shared.stop.store(true, Ordering::Relaxed);

    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await?);
    }
    latencies.sort_unstable();
    let ops = latencies.len();
    let percentile = |p: f64| -> f64 {
        let i = ((ops as f64 * p) as usize).min(ops.saturating_sub(1));
        latencies.get(i).map_or(0.0, |us| f64::from(*us) / 1000.0)
    };
    println!("ops_per_second={:.0}", ops as f64 / window);
    println!("errors={}", shared.errors.load(Ordering::Relaxed));
    println!("p50_ms={:.2}", percentile(0.5));
    println!("p99_ms={:.2}", percentile(0.99));
    println!("driver_cpu_share={:.2}", self_used / window);
    let per_cpu = |used: f64| if used > 0.0 { ops as f64 / used } else { 0.0 };
    let mut used_by_all = 0.0;
    for ((name, _), (before, after)) in pids.iter().zip(cpu_before.iter().zip(&cpu_after)) {
        let used = after - before;
        used_by_all += used;
        println!("cpu_share_{name}={:.2}", used / window);
        println!("ops_per_cpu_second_{name}={:.0}", per_cpu(used));
    }
    if pids.len() > 1 {
        println!("ops_per_cpu_second_all={:.0}", per_cpu(used_by_all));
    }
    if ops == 0 {
        bail!("no grant completed");
    }
    Ok(())
}

/// The authorization and token endpoints' paths, from the provider's discovery document.
async fn discover(target: &Target, issuer: &Uri) -> anyhow::Result<(String, String)> {
    let mut conn = target.connect().await?;
    let base = issuer.path().trim_end_matches('/');
    let reply = conn
        .get(&format!("{base}/.well-known/openid-configuration"), None)
        .await?;
    if !reply.status.is_success() {
        bail!("discovery answered {}", reply.status);
    }
    let doc: serde_json::Value = serde_json::from_slice(&reply.body)?;
    let path_of = |member: &str| -> anyhow::Result<String> {
        let url: Uri = doc
            .get(member)
            .and_then(|v| v.as_str())
            .with_context(|| format!("discovery lacks {member}"))?
            .parse()?;
        if url.authority() != issuer.authority() {
            bail!("{member} is on another host: {url}");
        }
        Ok(url.path().to_owned())
    };
    Ok((
        path_of("authorization_endpoint")?,
        path_of("token_endpoint")?,
    ))
}

fn cpu_seconds(pids: &[(String, String)]) -> anyhow::Result<Vec<f64>> {
    pids.iter().map(|(_, pid)| cpu::seconds(pid)).collect()
}
