//! `pforte policy check|explain|diff`: the command-line face of `pforte::policy::tools`, with
//! human output by default and `--json` for scripts. Exit codes are documented in
//! docs/policy.md and in each command's `--help`.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use pforte::policy::engine::{Decision, DiffOptions, ExplainQuery, LoginStrength};
use pforte::policy::tools::{self, PolicySource};
use serde::Serialize;

/// Exit code: the tool could not answer (unreadable files, bad input).
const TROUBLE: u8 = 2;

/// `pforte policy ...`
#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy: every error and warning with file, line and column.
    ///
    /// Exit code 0: loads; 1: errors (it would not load); 2: warnings only, with --strict.
    #[command(after_help = "Example:\n  pforte policy check policies/ --strict")]
    Check {
        /// The policy folder (with policy.toml and apps.toml) or entry file.
        #[arg(default_value = "policies")]
        policy: PathBuf,
        #[command(flatten)]
        common: Common,
        /// Treat warnings as failures (exit 2), for CI.
        #[arg(long)]
        strict: bool,
    },
    /// Show the decision for one request and the rule (file:line) that made it.
    ///
    /// Exit code 0: allowed; 1: not allowed (denied, login or step-up required); 2: the question
    /// could not be answered (the policy does not load, no app at the URL, ...).
    #[command(
        after_help = "Examples:\n  pforte policy explain --user alice --groups staff,admins --auth mfa \
--from 10.1.2.3 https://admin.localhost/settings\n  pforte policy explain https://mail.localhost/.well-known/security.txt"
    )]
    Explain {
        /// The URL asked about, like https://mail.example.org/inbox.
        url: String,
        /// The policy folder (with policy.toml and apps.toml) or entry file.
        #[arg(long, default_value = "policies")]
        policy: PathBuf,
        #[command(flatten)]
        common: Common,
        /// The user; leave out to ask for someone not logged in.
        #[arg(long)]
        user: Option<String>,
        /// The user's groups, comma-separated.
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
        /// How the user logged in: password or mfa.
        #[arg(long, default_value = "password")]
        auth: LoginStrength,
        /// The client's address.
        #[arg(long, default_value = "192.0.2.1")]
        from: IpAddr,
        /// The HTTP method.
        #[arg(long, default_value = "GET")]
        method: String,
    },
    /// Which users gain or lose which app when NEW replaces OLD.
    ///
    /// Exit code 0: nobody's apps change; 1: some do; 2: the question could not be answered.
    #[command(
        after_help = "Example:\n  pforte policy diff /etc/pforte/policies ./policies --users policies/users.toml"
    )]
    Diff {
        /// The policy in force (folder or entry file).
        old: PathBuf,
        /// The changed policy (folder or entry file).
        new: PathBuf,
        /// The users and their groups ([[user]] name, groups).
        #[arg(long)]
        users: PathBuf,
        /// The client address assumed for everyone.
        #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))]
        from: IpAddr,
        /// The login strength assumed for everyone.
        #[arg(long, default_value = "mfa")]
        auth: LoginStrength,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Options every policy command shares.
#[derive(Args)]
pub struct Common {
    /// The apps file, when it is not apps.toml beside the policy's entry file.
    #[arg(long)]
    apps: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs one policy command.
pub fn run(command: PolicyCommand) -> ExitCode {
    match command {
        PolicyCommand::Check {
            policy,
            common,
            strict,
        } => {
            let source = PolicySource::locate(&policy, common.apps.as_deref());
            match tools::check(&source) {
                Ok(report) => {
                    print(&report, common.json);
                    ExitCode::from(report.exit_code(strict))
                }
                Err(errors) => trouble(&errors),
            }
        }
        PolicyCommand::Explain {
            url,
            policy,
            common,
            user,
            groups,
            auth,
            from,
            method,
        } => {
            let source = PolicySource::locate(&policy, common.apps.as_deref());
            let query = ExplainQuery {
                user,
                groups,
                login: auth,
                source: from,
                url,
                method: method.to_ascii_uppercase(),
            };
            match tools::explain(&source, &query) {
                Ok(explanation) => {
                    print(&explanation, common.json);
                    let allowed = matches!(explanation.decision, Decision::Allow { .. });
                    ExitCode::from(if allowed { 0 } else { 1 })
                }
                Err(err) => trouble(&err),
            }
        }
        PolicyCommand::Diff {
            old,
            new,
            users,
            from,
            auth,
            json,
        } => {
            let options = DiffOptions {
                source: from,
                login: auth,
            };
            let (old, new) = (
                PolicySource::locate(&old, None),
                PolicySource::locate(&new, None),
            );
            match tools::diff(&old, &new, &users, &options) {
                Ok(report) => {
                    print(&report, json);
                    ExitCode::from(if report.changed.is_empty() { 0 } else { 1 })
                }
                Err(err) => trouble(&err),
            }
        }
    }
}

fn print<T: Serialize + std::fmt::Display>(value: &T, json: bool) {
    if json {
        match serde_json::to_string_pretty(value) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("pforte: cannot write JSON: {e}"),
        }
    } else {
        println!("{value}");
    }
}

fn trouble(err: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("{err}");
    ExitCode::from(TROUBLE)
}
