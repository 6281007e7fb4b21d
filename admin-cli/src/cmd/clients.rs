//! `clients list|show|add|rotate-secret|remove`: the OpenID Connect clients of the config's
//! `[oidc] clients` file. Reads load the file as the gateway does; changes go through the oidc
//! crate's editor (comments and layout kept, the whole result validated) and are written
//! atomically, so the gateway's next reload sees either the old file or the new one, never a
//! broken one.
//!
//! ```text
//! [oidc] clients ─▶ file::read ─▶ edit::{add, set_secret_hash, remove} ─▶ confirm ─▶ file::replace
//!                                 (refused: exit 2, file untouched)          ─▶ audit ─▶ print
//! ```

mod change;
mod file;
mod view;

use std::path::PathBuf;

use pforte_oidc::ClientsError;
use pforte_oidc::clients::edit::EditError;

use super::Ctx;
use crate::error::{CmdError, Exit};
use crate::opt::ClientsCommand;

/// Why a clients command did not do its work.
#[derive(Debug, thiserror::Error)]
pub enum ClientsCmdError {
    /// The config enables no OpenID Connect provider, so there is no clients file.
    #[error(
        "{0} has no [oidc] section naming the clients file; add `[oidc]` with \
         `clients = \"clients.toml\"` (see docs/configuration.md)"
    )]
    NotConfigured(String),
    /// The clients file does not load (for `list` and `show`).
    #[error("{0}")]
    Load(ClientsError),
    /// No client has this id (for `show`).
    #[error("no client {0:?} in the clients file")]
    UnknownClient(String),
    /// The change was refused; the file is untouched.
    #[error("{0}")]
    Edit(#[from] EditError),
    /// The clients file cannot be read.
    #[error("cannot read the clients file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The new file could not be written; the old one is still in place.
    #[error("cannot write the clients file {path}: {source}; it is unchanged")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Someone else changed the file while this command ran; nothing was written.
    #[error(
        "{0} was changed by someone else meanwhile; nothing was written, run the command again"
    )]
    Changed(PathBuf),
    /// No secret could be made (no randomness, or hashing failed).
    #[error("cannot make a client secret: {0}")]
    Secret(String),
}

impl ClientsCmdError {
    /// The exit code: 2 for a missing or invalid file and refused input, 1 for failures.
    pub fn exit(&self) -> Exit {
        match self {
            Self::NotConfigured(_)
            | Self::Load(_)
            | Self::UnknownClient(_)
            | Self::Edit(_)
            | Self::Read { .. } => Exit::BAD_INPUT,
            Self::Write { .. } | Self::Changed(_) | Self::Secret(_) => Exit::NO,
        }
    }
}

/// Runs one clients command.
pub fn run(ctx: &Ctx, command: ClientsCommand) -> Result<Exit, CmdError> {
    let path = clients_path(ctx)?;
    match command {
        ClientsCommand::List { json } => view::list(&path, json.json)?,
        ClientsCommand::Show { id, json } => view::show(&path, &id, json.json)?,
        ClientsCommand::Add(args) => change::add(ctx, &path, args)?,
        ClientsCommand::RotateSecret { id } => change::rotate_secret(ctx, &path, &id)?,
        ClientsCommand::Remove { id } => change::remove(ctx, &path, &id)?,
    }
    Ok(Exit::OK)
}

/// The clients file the gateway loads: `[oidc] clients`, relative to the config's folder.
fn clients_path(ctx: &Ctx) -> Result<PathBuf, CmdError> {
    let config = ctx.config()?;
    let oidc = config
        .oidc
        .as_ref()
        .ok_or_else(|| ClientsCmdError::NotConfigured(config.source.display().to_string()))?;
    Ok(oidc.clients_file.clone())
}
