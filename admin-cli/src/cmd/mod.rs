//! The commands, one module per noun, and the context they share ([`Ctx`]).

pub mod audit;
pub mod clients;
mod ctx;
pub mod groups;
pub mod idps;
pub mod keys;
pub mod policy;
mod reach;
pub mod sessions;
pub mod status;
pub mod users;

pub use ctx::Ctx;

use crate::error::{CmdError, Exit};
use crate::opt::Command;

/// Runs one command.
pub async fn run(ctx: &Ctx, command: Command) -> Result<Exit, CmdError> {
    match command {
        Command::Policy(command) => policy::run(ctx, command).await,
        Command::Keys(command) => keys::run(ctx, command),
        Command::Sessions(command) => sessions::run(ctx, command).await,
        Command::Users(command) => users::run(ctx, command).await,
        Command::Groups(command) => groups::run(ctx, command).await,
        Command::Clients(command) => clients::run(ctx, command),
        Command::Idps(command) => idps::run(ctx, command).await,
        Command::Audit(command) => audit::run(ctx, command),
        Command::Status { json } => status::run(ctx, json.json).await,
        // Printed by `main` before any config is read.
        Command::Completions { .. } | Command::Man | Command::Mfa(_) => Ok(Exit::OK),
    }
}
