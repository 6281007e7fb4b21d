//! `pforte-admin`: the administrators' command line for Pforte. One binary, the gateway's own
//! config file, a table for people and `--json` for scripts.
//!
//! ```text
//! args (opt) ─▶ completions | man            no config needed
//!           └─▶ cmd::Ctx (config read when named, or when a command needs it;
//!                         its audit log opened then) ─▶ cmd::{policy,keys,users,groups,...}
//!                                                        └─▶ exit code (error::Exit)
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod audit;
mod cmd;
mod confirm;
mod docs;
mod error;
mod listener;
mod opt;
mod output;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use pforte::crypto;

use crate::error::{CmdError, Exit};
use crate::opt::{Cli, Command, MfaKeyCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Completions { shell } => {
            docs::completions(shell, &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        Command::Mfa(MfaKeyCommand::GenerateKey) => {
            // Needs no config: a key is made before the config that names it.
            return match pforte_factors::seal::generate_key() {
                Ok(key) => {
                    println!("{key}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("pforte-admin: {e}");
                    ExitCode::from(Exit::NO.0)
                }
            };
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
    let Cli {
        config,
        yes,
        command,
    } = cli;
    // `audit verify|show` only read the audit log: they must not need to write it.
    let open = if matches!(command, Command::Audit(_)) {
        cmd::Ctx::reading_the_log
    } else {
        cmd::Ctx::new
    };
    let ctx = match open(config, yes, audit::admin_name()) {
        Ok(ctx) => ctx,
        Err(e) => return failed(&e),
    };
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")
        .map(|runtime| runtime.block_on(cmd::run(&ctx, command)));
    // The command's events are chained and signed with a last checkpoint before the exit.
    pforte::telemetry::audit_log::close();
    match outcome {
        Ok(Ok(exit)) => ExitCode::from(exit.0),
        Ok(Err(e)) => failed(&e),
        Err(e) => {
            eprintln!("pforte-admin: {e:#}");
            ExitCode::from(Exit::NO.0)
        }
    }
}

fn failed(e: &CmdError) -> ExitCode {
    eprintln!("pforte-admin: {e}");
    ExitCode::from(e.exit().0)
}
