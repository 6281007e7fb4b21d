//! `pforte-admin`: the administrators' command line for Pforte. One binary, the gateway's own
//! config file, a table for people and `--json` for scripts.
//!
//! ```text
//! args (opt) ─▶ completions | man            no config needed
//!           └─▶ Config::load ─▶ telemetry (audit log) ─▶ cmd::{policy,keys,sessions,users}
//!                                                          └─▶ exit code (error::Exit)
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod audit;
mod cmd;
mod confirm;
mod docs;
mod error;
mod opt;
mod output;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use pforte::config::Config;
use pforte::{crypto, telemetry};

use crate::error::{CmdError, Exit};
use crate::opt::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Completions { shell } => {
            docs::completions(shell, &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        Command::Man => {
            return match docs::man(&mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => failed(&e.into()),
            };
        }
        _ => {}
    }
    if let Err(e) = crypto::install() {
        eprintln!("pforte-admin: {e}");
        return ExitCode::from(Exit::NO.0);
    }
    let ctx = match setup(&cli) {
        Ok(ctx) => ctx,
        Err(e) => return failed(&e),
    };
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")
        .map(|runtime| runtime.block_on(cmd::run(&ctx, cli.command)));
    match outcome {
        Ok(Ok(exit)) => ExitCode::from(exit.0),
        Ok(Err(e)) => failed(&e),
        Err(e) => {
            eprintln!("pforte-admin: {e:#}");
            ExitCode::from(Exit::NO.0)
        }
    }
}

/// Reads the config and opens the audit log, as the gateway does.
fn setup(cli: &Cli) -> Result<cmd::Ctx, CmdError> {
    let config = Config::load(&cli.config)?;
    let log = &config.log;
    telemetry::init(log.format, &log.level, log.audit_file.as_deref())?;
    Ok(cmd::Ctx {
        config,
        yes: cli.yes,
        by: audit::admin_name(),
    })
}

fn failed(e: &CmdError) -> ExitCode {
    eprintln!("pforte-admin: {e}");
    ExitCode::from(e.exit().0)
}
