//! The commands, one module per noun, and what they share: the loaded config, whether the admin
//! said `--yes`, who they are, and the backends opened on demand (a policy check needs neither
//! the directory nor Redis, so it works when they are down).

pub mod clients;
pub mod groups;
pub mod keys;
pub mod policy;
pub mod sessions;
pub mod status;
pub mod users;

use pforte::backends;
use pforte::config::Config;
use pforte_directory::Directory;
use pforte_session::{SessionStore, Timestamp};

use crate::error::{CmdError, Exit};
use crate::opt::Command;

/// What every command may use.
pub struct Ctx {
    /// The gateway's config.
    pub config: Config,
    /// Skip confirmations.
    pub yes: bool,
    /// The admin's OS user, for the audit log.
    pub by: String,
}

impl Ctx {
    /// The directory the gateway uses.
    pub fn directory(&self) -> Result<Directory, CmdError> {
        backends::open_directory(&self.config)?
            .ok_or_else(|| CmdError::NoDirectory(self.config.source.display().to_string()))
    }

    /// The shared session store; the memory store is refused, as it lives in the gateway.
    pub async fn sessions(&self) -> Result<SessionStore, CmdError> {
        self.shared_sessions().await?.ok_or(CmdError::MemoryStore)
    }

    /// The shared session store, `None` for the memory store (out of this process's reach).
    pub async fn shared_sessions(&self) -> Result<Option<SessionStore>, CmdError> {
        Ok(match backends::open_sessions(&self.config).await? {
            SessionStore::Memory(_) => None,
            store => Some(store),
        })
    }

    /// The time commands act at.
    pub fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Runs one command that needs the config.
pub async fn run(ctx: &Ctx, command: Command) -> Result<Exit, CmdError> {
    match command {
        Command::Policy(command) => policy::run(ctx, command).await,
        Command::Keys(command) => keys::run(ctx, command),
        Command::Sessions(command) => sessions::run(ctx, command).await,
        Command::Users(command) => users::run(ctx, command).await,
        Command::Groups(command) => groups::run(ctx, command).await,
        Command::Clients(command) => clients::run(ctx, command),
        Command::Status { json } => status::run(ctx, json.json).await,
        // Printed by `main` before any config is read.
        Command::Completions { .. } | Command::Man => Ok(Exit::OK),
    }
}
