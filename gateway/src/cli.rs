//! What the command lines of `pforte` and `pforte-admin` share, declared once so that the option's
//! name, environment variable, default and help cannot drift apart between the two binaries: the
//! gateway config file.

use std::path::{Path, PathBuf};

use clap::Args;

/// The gateway config when neither `--config` nor `PFORTE_CONFIG` names one.
pub const DEFAULT_CONFIG: &str = "/etc/pforte/gateway.toml";

/// `--config FILE` or `$PFORTE_CONFIG`: the gateway config file.
#[derive(Args, Debug, Clone, Default)]
pub struct ConfigArg {
    /// The gateway config file [default: /etc/pforte/gateway.toml].
    #[arg(long, short, global = true, env = "PFORTE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

impl ConfigArg {
    /// The file to read: the one named, else [`DEFAULT_CONFIG`].
    pub fn path(&self) -> &Path {
        self.config.as_deref().unwrap_or(Path::new(DEFAULT_CONFIG))
    }

    /// The file named by `--config` or `$PFORTE_CONFIG`; `None` when the default applies.
    /// `pforte-admin` reads a named config at once, and the default only for a command that needs
    /// it, so the commands that work from files alone run where no config exists (CI).
    pub fn named_path(&self) -> Option<&Path> {
        self.config.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: ConfigArg,
    }

    #[test]
    fn the_default_applies_only_when_nothing_is_named() {
        let default = ConfigArg::default();
        assert_eq!(default.path(), Path::new(DEFAULT_CONFIG));
        assert_eq!(default.named_path(), None);
        let named = Cli::parse_from(["pforte", "--config", "/srv/gateway.toml"]).config;
        assert_eq!(named.path(), Path::new("/srv/gateway.toml"));
        assert_eq!(named.named_path(), Some(Path::new("/srv/gateway.toml")));
    }
}
