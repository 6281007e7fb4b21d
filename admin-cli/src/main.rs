//! `pforte-admin`: the administrators' command line for Pforte. Its commands (users, groups,
//! sessions, clients, keys, policy, status) arrive with the issues that build those parts; this
//! binary already shares the gateway's version and help conventions.

use clap::Parser;

/// Manage the users, groups, sessions, OIDC clients, keys and policies of a Pforte gateway.
#[derive(Parser)]
#[command(name = "pforte-admin", version, about, long_about = None)]
struct Cli {
    /// The gateway config file, shared with the gateway.
    #[arg(
        long,
        short,
        env = "PFORTE_CONFIG",
        default_value = "/etc/pforte/gateway.toml"
    )]
    config: std::path::PathBuf,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = pforte::config::Config::load(&cli.config)?;
    println!(
        "{}: OK; no commands yet: see `pforte-admin --help`",
        config.source.display()
    );
    Ok(())
}
