//! `apps.toml`: the collaboration apps behind the gateway, each reached by one or more hosts (and
//! optionally a path prefix) and served by one or more upstream URLs.
//!
//! ```text
//! apps.toml ──toml──▶ AppsFile (as written) ──validate──▶ Vec<App> (runtime, all checked)
//! ```
//!
//! Each `[[app]]` is validated on its own (`entry`) by the modules of its groups of keys:
//! `routes` (name, hosts, path prefix: unique across apps), `upstreams` (URLs, CA,
//! protocol, timeouts, health), `identity` (`[app.identity_headers]`) and
//! [`crate::config::request_headers`] (`[app.request_headers]`). Every problem is reported
//! under `app[N].key` with its place.

mod entry;
mod identity;
mod routes;
mod upstreams;

use std::path::Path;

pub use entry::App;
use entry::AppsFile;
pub use identity::IdentityHeaders;
use routes::Taken;
pub use routes::is_valid_host;
pub use upstreams::{MAX_UPSTREAMS, PassiveHealth, UpstreamProtocol, UpstreamUrl};

use super::error::{ConfigError, ConfigErrors, Report};

/// Reads and validates an apps file; every problem is reported with its place.
pub fn load(path: &Path) -> Result<Vec<App>, ConfigErrors> {
    let source = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::whole_file(path, format!("cannot read apps file: {e}")))?;
    parse(path, &source)
}

/// Validates the text of an apps file (`path` is used for messages and relative CA paths).
pub fn parse(path: &Path, source: &str) -> Result<Vec<App>, ConfigErrors> {
    let file: AppsFile =
        toml::from_str(source).map_err(|e| ConfigError::from_toml(path, source, &e))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut report = Report::default();
    let mut taken = Taken::default();
    let apps = file
        .app
        .into_iter()
        .enumerate()
        .map(|(index, entry)| entry.validate(base, &mut taken, &mut report.item("app", index)))
        .collect();
    report.finish(path, source)?;
    Ok(apps)
}

#[cfg(test)]
mod tests;
