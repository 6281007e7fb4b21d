//! The `pforte` binary: parses the command line and hands over to the library.

mod moved;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pforte::cli::ConfigArg;
use pforte::config::{Config, LogFormat};
use pforte::telemetry::audit_log::{self, Role};
use pforte::{crypto, demo, reload, server, telemetry};

/// Pforte: the identity and single-sign-on gateway for the sovereign workplace.
#[derive(Parser)]
#[command(
    name = "pforte",
    version,
    about,
    long_about = None,
    after_help = "Policies, keys, users, groups, sessions and OpenID Connect clients: pforte-admin."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve: terminate TLS and route every request to its app.
    Run(ConfigArg),
    /// Validate the config file, the apps file, the policy and the certificates; exit 1 with
    /// every problem.
    Check(ConfigArg),
    /// Moved to `pforte-admin policy`.
    #[command(hide = true, disable_help_flag = true)]
    Policy(moved::Rest),
    /// Moved to `pforte-admin keys`.
    #[command(hide = true, disable_help_flag = true)]
    Keys(moved::Rest),
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
    if let Err(e) = crypto::install() {
        eprintln!("pforte: {e}");
        return ExitCode::FAILURE;
    }
    match cli.command {
        Command::Check(config) => check(config.path()),
        Command::Policy(rest) => moved::run("policy", &rest),
        Command::Keys(rest) => moved::run("keys", &rest),
        Command::Run(config) => {
            let config = config.path().to_path_buf();
            let loaded = match Config::load(&config) {
                Ok(loaded) => loaded,
                Err(errors) => return report(&errors),
            };
            let log = &loaded.log;
            let audit = Some((&loaded.audit, Role::Gateway));
            if let Err(e) = telemetry::init(log.format, &log.level, audit) {
                return report(&e);
            }
            let code =
                block_on(async move { server::run(&config).await.map_err(anyhow::Error::from) });
            audit_log::close();
            code
        }
        Command::Demo {
            state_dir,
            listen,
            admin,
            apps,
            policy,
        } => {
            // The demo writes these paths into its gateway.toml, where a relative path would be
            // read against the state folder: made absolute against the working folder here.
            let absolute = |path: std::path::PathBuf| {
                std::path::absolute(&path).map_err(|e| format!("{}: {e}", path.display()))
            };
            let paths = (
                absolute(state_dir.unwrap_or_else(demo::default_state_dir)),
                apps.map(absolute).transpose(),
                policy.map(absolute).transpose(),
            );
            let (state_dir, apps_file, policy_file) = match paths {
                (Ok(state), Ok(apps), Ok(policy)) => (state, apps, policy),
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return report(&e),
            };
            let audit = match demo::audit_settings(&state_dir) {
                Ok(audit) => audit,
                Err(e) => return report(&e),
            };
            if let Err(e) = telemetry::init(LogFormat::Text, "info", Some((&audit, Role::Gateway)))
            {
                return report(&e);
            }
            let options = demo::DemoOptions {
                state_dir,
                listen,
                admin,
                apps_file,
                policy_file,
            };
            let code =
                block_on(async move { demo::run(options).await.map_err(anyhow::Error::from) });
            audit_log::close();
            code
        }
    }
}

fn check(config: &std::path::Path) -> ExitCode {
    let provider = crypto::client_provider();
    let clock = pforte_session::Clock::system();
    let now = clock.now();
    let metrics = match telemetry::Metrics::new(env!("CARGO_PKG_VERSION"), clock) {
        Ok(metrics) => metrics,
        Err(e) => return report(&e),
    };
    match reload::load(config, &provider, &metrics, None, now) {
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
