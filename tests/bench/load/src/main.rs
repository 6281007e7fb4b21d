//! Load driver of the benchmarks that need a steady, known load rather than a maximum:
//!
//! * `rate`: requests at a fixed rate on keep-alive connections, latencies counted from when
//!   each request was due (tests/bench/latency.sh, tests/bench/soak.sh);
//! * `handshakes`: new TLS connections, full or resumed, as fast as the server takes them
//!   (tests/bench/handshakes.sh).
//!
//! The report is `key=value` lines on standard output, for the scripts to read.

mod handshakes;
mod rate;
mod target;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use http::Uri;

use crate::target::{Resume, Target};

#[derive(Debug, Parser)]
#[command(about = "A fixed request rate, or TLS handshakes, against one server")]
struct Args {
    /// The URL asked for; its host is used for SNI, the certificate check and `Host`.
    #[arg(long)]
    url: Uri,
    /// Where to connect (the URL's name need not resolve).
    #[arg(long)]
    connect: SocketAddr,
    /// PEM file of the CA that signed the server's certificate (https:// URLs).
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Seconds before the measured window.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Requests at a fixed rate; reports latency percentiles.
    Rate {
        /// Requests per second, over all connections.
        #[arg(long)]
        rate: f64,
        /// Keep-alive connections.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Requests on a connection before it is opened again (0: never).
        #[arg(long, default_value_t = 0)]
        per_connection: u64,
        /// An extra header, `Name: value` (repeatable).
        #[arg(long = "header")]
        headers: Vec<String>,
    },
    /// New connections as fast as they complete; reports connections per second.
    Handshakes {
        /// Clients connecting at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Resume TLS sessions (tickets or session ids from earlier connections).
        #[arg(long)]
        resume: bool,
    },
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(drive(args))
}

async fn drive(args: Args) -> anyhow::Result<()> {
    let warmup = Duration::try_from_secs_f64(args.warmup).context("--warmup")?;
    let duration = Duration::try_from_secs_f64(args.duration).context("--duration")?;
    match args.mode {
        Mode::Rate {
            rate,
            connections,
            per_connection,
            headers,
        } => {
            anyhow::ensure!(
                rate > 0.0 && connections > 0,
                "--rate and --connections must be positive"
            );
            let headers = headers
                .iter()
                .map(|h| {
                    let (name, value) = h
                        .split_once(':')
                        .with_context(|| format!("--header {h:?}: not Name: value"))?;
                    Ok((name.trim().to_owned(), value.trim().to_owned()))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let target = Arc::new(Target::new(
                &args.url,
                args.connect,
                args.ca.as_deref(),
                Resume::Allowed,
            )?);
            let plan = Arc::new(rate::Plan {
                rate,
                connections,
                warmup,
                duration,
                per_connection,
                headers,
            });
            let outcome = rate::run(target, plan).await?;
            let h = &outcome.latency;
            let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
            println!("requests={}", h.len());
            println!(
                "achieved_rps={:.0}",
                h.len() as f64 / duration.as_secs_f64()
            );
            println!("bad_status={}", outcome.bad_status);
            println!("errors={}", outcome.errors);
            println!("p50_ms={:.3}", ms(0.5));
            println!("p99_ms={:.3}", ms(0.99));
            println!("p999_ms={:.3}", ms(0.999));
            println!("max_ms={:.3}", h.max() as f64 / 1000.0);
        }
        Mode::Handshakes {
            concurrency,
            resume,
        } => {
            let resume = if resume {
                Resume::Allowed
            } else {
                Resume::Never
            };
            let targets = (0..concurrency)
                .map(|_| Target::new(&args.url, args.connect, args.ca.as_deref(), resume))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let outcome = handshakes::run(targets, warmup, duration).await?;
            println!("connections={}", outcome.completed);
            println!(
                "per_second={:.0}",
                outcome.completed as f64 / duration.as_secs_f64()
            );
            println!("resumed={}", outcome.resumed);
            println!("errors={}", outcome.errors);
        }
    }
    Ok(())
}
