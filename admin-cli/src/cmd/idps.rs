//! `idps list|show|test`: the partners' OpenID providers of the config's `[federation]
//! providers` file, loaded by the federation crate as the gateway loads them. The client
//! secrets are not read by the load here: `show` says where each comes from and whether it can
//! be read, and `test` names an unreadable one as its provider's problem, so one missing secret
//! does not hide the other providers.
//!
//! ```text
//! [federation] providers ─▶ Providers::load ─▶ view::{list, show}
//!                          (a bad file: every problem at file:line:column, exit 2)
//!                                           └▶ test: fetch::probe (Upstreams: discovery, JWKS)
//!                                                    ─▶ judge::judge (pure) ─▶ print, exit 0|1
//! ```

mod fetch;
mod judge;
mod secret;
mod test;
mod view;

use pforte::config::Federation;
use pforte::outbound::CaError;
use pforte_federation::{Providers, ProvidersError};

use super::Ctx;
use crate::error::{CmdError, Exit};
use crate::opt::IdpsCommand;

/// Why an idps command did not do its work.
#[derive(Debug, thiserror::Error)]
pub enum IdpsCmdError {
    /// The config names no providers file.
    #[error(
        "{0} has no [federation] section naming the providers file; add `[federation]` with \
         `providers = \"idps.toml\"` (see docs/federation.md)"
    )]
    NotConfigured(String),
    /// The providers file does not load: every problem, each at file:line:column.
    #[error("{0}")]
    Load(#[from] ProvidersError),
    /// No provider has this id.
    #[error("no provider {0:?} in the providers file")]
    UnknownProvider(String),
    /// The HTTPS client for the providers cannot be built (`federation.ca_file`).
    #[error("federation.ca_file: {0}")]
    Client(#[from] CaError),
}

impl IdpsCmdError {
    /// The exit code: 2, as for every config or input the command cannot use.
    pub fn exit(&self) -> Exit {
        match self {
            Self::NotConfigured(_) | Self::Load(_) | Self::UnknownProvider(_) | Self::Client(_) => {
                Exit::BAD_INPUT
            }
        }
    }
}

/// Runs one idps command.
pub async fn run(ctx: &Ctx, command: IdpsCommand) -> Result<Exit, CmdError> {
    let federation = federation(ctx)?;
    let providers = load(federation)?;
    match command {
        IdpsCommand::List { json } => view::list(&providers, json.json)?,
        IdpsCommand::Show { id, json } => {
            let origin = login_origin(ctx)?;
            view::show(&providers, &id, &origin, json.json)?;
        }
        IdpsCommand::Test { id, json } => {
            let now = ctx.now().unix_secs();
            return test::run(federation, &providers, id.as_deref(), now, json.json).await;
        }
    }
    Ok(Exit::OK)
}

/// The config's `[federation]`: where the providers file is and which CA their HTTPS may use.
fn federation(ctx: &Ctx) -> Result<&Federation, CmdError> {
    let config = ctx.config()?;
    Ok(config
        .federation
        .as_ref()
        .ok_or_else(|| IdpsCmdError::NotConfigured(config.source.display().to_string()))?)
}

/// The providers file, loaded without reading the secrets (see the module's doc).
fn load(federation: &Federation) -> Result<Providers, IdpsCmdError> {
    Ok(Providers::load(&federation.providers_file, |_| Ok(()))?)
}

/// `https://login.example.org[:port]`: where the providers send people back to.
fn login_origin(ctx: &Ctx) -> Result<String, CmdError> {
    let config = ctx.config()?;
    Ok(format!(
        "https://{}{}",
        config.portal_host,
        pforte::web::url::port_suffix(config.server.public_https_port)
    ))
}
