//! The `pforte` binary: parses the command line and hands over to the library.

mod keys;
mod policy;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use pforte::config::{Config, LogFormat};
use pforte::{demo, reload, server, telemetry};

/// Pforte: the identity and single-sign-on gateway for the sovereign workplace.
#[derive(Parser)]
#[command(name = "pforte", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The config file option every command that reads `gateway.toml` takes.
#[derive(Args)]
struct ConfigArg {
    /// The gateway config file.
    #[arg(
        long,
        short,
        env = "PFORTE_CONFIG",
        default_value = "/etc/pforte/gateway.toml"
    )]
    config: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Serve: terminate TLS and route every request to its app.
    Run(ConfigArg),
    /// Validate the config file, the apps file, the policy and the certificates; exit 1 with
    /// every problem.
    Check(ConfigArg),
    /// Check a policy, explain a decision, or show who gains or loses which app.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// List, generate, rotate or retire the signing keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Run a complete demo workplace on this machine (https://login.localhost:8443).
    Demo {
        /// Where the demo keeps its certificate and files.
        #[arg(long)]
        state_dir: Option<PathBuf>,
        /// HTTPS listen address.
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// Admin listen address (metrics, health).
        #[arg(long, default_value = "127.0.0.1:9090")]
        admin: SocketAddr,
        /// Use this apps file instead of the built-in demo apps.
        #[arg(long)]
        apps: Option<PathBuf>,
        /// Use this policy (entry file) instead of the built-in demo policy.
        #[arg(long)]
        policy: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The one process-wide rustls provider, installed before anything builds a TLS config.
    if rustls::crypto::CryptoProvider::install_default((*server::tls::provider()).clone()).is_err()
    {
        eprintln!("pforte: a TLS crypto provider was already installed");
        return ExitCode::FAILURE;
    }
    match cli.command {
        Command::Check(ConfigArg { config }) => check(&config),
        Command::Policy(command) => policy::run(command),
        Command::Keys(command) => keys::run(command),
        Command::Run(ConfigArg { config }) => {
            let loaded = match Config::load(&config) {
                Ok(loaded) => loaded,
                Err(errors) => return report(&errors),
            };
            let log = &loaded.log;
            if let Err(e) = telemetry::init(log.format, &log.level, log.audit_file.as_deref()) {
                return report(&e);
            }
            block_on(async move { server::run(&config).await.map_err(anyhow::Error::from) })
        }
        Command::Demo {
            state_dir,
            listen,
            admin,
            apps,
            policy,
        } => {
            if let Err(e) = telemetry::init(LogFormat::Text, "info", None) {
                return report(&e);
            }
            let options = demo::DemoOptions {
                state_dir: state_dir.unwrap_or_else(demo::default_state_dir),
                listen,
                admin,
                apps_file: apps,
                policy_file: policy,
            };
            block_on(async move { demo::run(options).await.map_err(anyhow::Error::from) })
        }
    }
}

fn check(config: &std::path::Path) -> ExitCode {
    let provider = server::tls::provider();
    let metrics = match telemetry::Metrics::new(env!("CARGO_PKG_VERSION")) {
        Ok(metrics) => metrics,
        Err(e) => return report(&e),
    };
    match reload::load(config, &provider, &metrics, None) {
        Ok(set) => {
            for warning in &set.policy_warnings {
                eprintln!("{warning}");
            }
            let snapshot = &set.snapshot;
            println!(
                "{}: OK ({} apps, {} policy rules, {} certificates)",
                config.display(),
                snapshot.apps.len(),
                snapshot.policy.rule_count(),
                snapshot.config.certificates.len()
            );
            ExitCode::SUCCESS
        }
        Err(errors) => report(&errors),
    }
}

fn report(errors: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("{errors}");
    ExitCode::FAILURE
}

fn block_on(work: impl std::future::Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("pforte: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The whole chain, each cause once (most of our errors also print their source).
            eprintln!("pforte: {}", telemetry::error_chain(&*e));
            ExitCode::FAILURE
        }
    }
}
