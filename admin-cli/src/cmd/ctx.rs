//! What every command may use: the gateway's config, whether the admin said `--yes`, who they
//! are, and the backends opened on demand (a policy check needs neither the directory nor Redis,
//! so it works when they are down).
//!
//! Sessions and locks are reached through `reach::SessionsAt`, which knows where they
//! are for each session store.
//!
//! A config named by `--config` or `$PFORTE_CONFIG` is read at once: a wrong one is reported
//! before anything happens, and every change goes to its audit log. Without one, the default
//! config is read only when a command needs something that only the config says (the policy in
//! force, the directory, the session store, the key folder, ...), so `policy check DIR` and
//! `keys --dir DIR` run where there is no gateway and no config, such as a CI pipeline.
//!
//! `audit verify` and `audit show` only read the audit log ([`Ctx::reading_the_log`]): they do
//! not open it for writing, so an auditor who may only read the log can run them.

use std::cell::OnceCell;

use pforte::backends;
use pforte::cli::ConfigArg;
use pforte::config::{Audit, Config};
use pforte::telemetry;
use pforte::telemetry::audit_log::Role;
use pforte_directory::Directory;
use pforte_session::{Clock, Timestamp};

use crate::error::CmdError;

/// What every command may use.
pub struct Ctx {
    /// Where the config is.
    file: ConfigArg,
    /// The config, once read.
    config: OnceCell<Config>,
    /// Skip confirmations.
    pub yes: bool,
    /// The admin's OS user, for the audit log.
    pub by: String,
    /// Whether this command records audit events, so the audit log is opened for writing when
    /// the config is read (false for the commands that only read the log).
    records: bool,
}

impl Ctx {
    /// The context of one run; reads a named config now.
    pub fn new(file: ConfigArg, yes: bool, by: String) -> Result<Self, CmdError> {
        Self::open(file, yes, by, true)
    }

    /// The context of a command that only reads the audit log: the config's log is not opened
    /// for writing (nor made when missing), which an auditor may not be allowed to do.
    pub fn reading_the_log(file: ConfigArg, yes: bool, by: String) -> Result<Self, CmdError> {
        Self::open(file, yes, by, false)
    }

    fn open(file: ConfigArg, yes: bool, by: String, records: bool) -> Result<Self, CmdError> {
        let ctx = Self {
            file,
            config: OnceCell::new(),
            yes,
            by,
            records,
        };
        if ctx.file.named_path().is_some() {
            ctx.config()?;
        }
        Ok(ctx)
    }

    /// A context around a config already read, for unit tests.
    #[cfg(test)]
    pub fn with_config(config: Config) -> Self {
        Self {
            file: ConfigArg::default(),
            config: OnceCell::from(config),
            yes: false,
            by: "test".into(),
            records: true,
        }
    }

    /// The gateway's config, read on first use, with its audit log opened as the gateway does
    /// (not for a context [`Self::reading_the_log`]).
    pub fn config(&self) -> Result<&Config, CmdError> {
        if let Some(config) = self.config.get() {
            return Ok(config);
        }
        let config =
            Config::load(self.file.path()).map_err(|errors| match self.file.named_path() {
                Some(_) => CmdError::Config(errors),
                None => CmdError::DefaultConfig(errors),
            })?;
        let log = &config.log;
        let audit = Audit {
            replica: format!("pforte-admin@{}", config.audit.replica),
            ..config.audit.clone()
        };
        let audit = self.records.then_some((&audit, Role::Admin));
        telemetry::init(log.format, &log.level, audit)?;
        Ok(self.config.get_or_init(|| config))
    }

    /// Whether the config has been read (a named one always is).
    #[cfg(test)]
    pub fn config_read(&self) -> bool {
        self.config.get().is_some()
    }

    /// The directory the gateway uses.
    pub fn directory(&self) -> Result<Directory, CmdError> {
        let config = self.config()?;
        backends::open_directory(config, None)?
            .ok_or_else(|| CmdError::NoDirectory(config.source.display().to_string()))
    }

    /// The time commands act at: the system clock's, which the gateway's stores keep too.
    pub fn now(&self) -> Timestamp {
        Clock::system().now()
    }
}
