//! `pforte-load`: the fault-injection scenario for `tests/bench/faults.sh`.
//!
//!   pforte-load setup --dir DIR --replicas 2 --upstream URL --ldap URL --ldap URL [--redis PREFIX]
//!       writes one gateway folder per replica (DIR/r0, DIR/r1: config, apps, policy, clients,
//!       certificates from one CA, a shared signing-key folder, a second certificate for the
//!       rotation as `default-next.crt`/`.key`), DIR/ca.pem, and prints `export` lines with each
//!       replica's folder and addresses. The LDAP bind settings come from the harness variables
//!       (`deploy/dev/services.sh env`), Redis from `PFORTE_TEST_REDIS_URL`.
//!   pforte-load run --ca FILE --replica ADDR [--replica ADDR] --seconds N [--users N]
//!       runs the checking load (tests/support/faults_load.rs) and prints one `key=value` line;
//!       what went wrong, in words, goes to stderr.
//!   pforte-load nginx-conf --dir DIR --port PORT
//!       prints the upstream's nginx configuration (the echo the load generator checks).
#![allow(clippy::unwrap_used, clippy::expect_used)]
// A load generator measures real time.
#![allow(clippy::disallowed_methods)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use pforte_e2e::faults_load::{self, Load};
use pforte_e2e::faults_scenario;
use pforte_e2e::pki::TestCa;

#[derive(Parser)]
#[command(about = "Fault-injection load generator for Pforte (tests/bench/faults.sh)")]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Writes the replicas' folders and prints their addresses as `export` lines.
    Setup {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 2)]
        replicas: usize,
        /// The apps' upstream, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        upstream: String,
        /// LDAP servers in the order the gateways try them.
        #[arg(long, required = true)]
        ldap: Vec<String>,
        /// Sessions in Redis (PFORTE_TEST_REDIS_URL) under this key prefix; else the memory store.
        #[arg(long)]
        redis: Option<String>,
    },
    /// Runs the checking load and prints its counts.
    Run {
        /// The CA certificate (PEM) the replicas' certificates chain to.
        #[arg(long)]
        ca: PathBuf,
        /// A replica's HTTPS address; requests go to each in turn.
        #[arg(long, required = true)]
        replica: Vec<SocketAddr>,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 8)]
        users: usize,
        /// A user logs out in one cycle out of this many.
        #[arg(long, default_value_t = 4)]
        revoke_every: u32,
    },
    /// Prints the upstream's nginx configuration.
    NginxConf {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        port: u16,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Args::parse().command {
        Cmd::Setup {
            dir,
            replicas,
            upstream,
            ldap,
            redis,
        } => setup(&dir, replicas, &upstream, &ldap, redis.as_deref()),
        Cmd::Run {
            ca,
            replica,
            seconds,
            users,
            revoke_every,
        } => {
            let pem = std::fs::read(&ca).with_context(|| format!("reading {}", ca.display()))?;
            let root = <rustls_pki_types::CertificateDer as rustls_pki_types::pem::PemObject>::from_pem_slice(&pem)
                .with_context(|| format!("{} holds no certificate", ca.display()))?;
            let load = Load {
                replicas: replica,
                root,
                users,
                revoke_every,
            };
            let report = faults_load::run_for(load, Duration::from_secs(seconds)).await;
            for note in &report.notes {
                eprintln!("pforte-load: {note}");
            }
            println!("{}", report.line());
            Ok(())
        }
        Cmd::NginxConf { dir, port } => {
            print!("{}", pforte_e2e::faults_servers::nginx_conf(&dir, port));
            Ok(())
        }
    }
}

fn setup(
    dir: &std::path::Path,
    replicas: usize,
    upstream: &str,
    ldap: &[String],
    redis: Option<&str>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let ca = TestCa::new();
    ca.write_pem(&dir.join("ca.pem"));
    println!("export CA={:?}", dir.join("ca.pem"));
    let mut keys: Option<PathBuf> = None;
    for i in 0..replicas {
        let mut builder = faults_scenario::gateway(upstream, ldap);
        if let Some(prefix) = redis {
            builder = builder.redis(prefix, "");
        }
        if let Some(shared) = &keys {
            builder = builder.shared_keys(shared);
        }
        let folder = builder.write_folder(&ca);
        let target = dir.join(format!("r{i}"));
        let made = folder.dir.keep();
        std::fs::rename(&made, &target)
            .or_else(|_| copy_dir(&made, &target))
            .with_context(|| format!("moving {} to {}", made.display(), target.display()))?;
        // The config names its files relative to its folder, except a shared key folder.
        if keys.is_none() {
            keys = Some(target.join("keys"));
        }
        ca.leaf(&target, "default-next", &["*.gw.test"]);
        println!("export R{i}_DIR={target:?}");
        println!("export R{i}_HTTPS={}", folder.https);
        println!("export R{i}_ADMIN={}", folder.admin);
    }
    Ok(())
}

/// A folder copied (when a rename crosses file systems), then removed.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    std::fs::remove_dir_all(from)
}
