//! Configuration: `gateway.toml` and the app definitions it points to.
//!
//! ```text
//! gateway.toml ──toml──▶ file::GatewayFile ──validate──▶ Config ─┐
//! apps.toml    ──toml──▶ apps::AppsFile    ──validate──▶ Vec<App>┴─▶ the server
//! ```
//!
//! The file structs mirror what operators write and refuse unknown keys; `validate` turns them into
//! the runtime types, resolving relative paths against the file's folder and collecting every
//! problem with its place before anything is used.
//!
//! Each table of `gateway.toml` is one module holding its file struct, its runtime type and its
//! `validate`: [`server`], [`admin`], [`limits`], [`tls`], [`portal`], [`paths`] (`[apps]` and
//! `[policy]`), [`directory`], [`sessions`], [`keys`], [`oidc`], [`mfa`], [`log`], [`audit`]. They all write into one
//! [`error::Report`] (key and byte span), which [`Config::parse`] turns into
//! `file:line:column: key: message` errors.

pub mod admin;
pub mod apps;
pub mod audit;
pub mod audit_delivery;
pub mod directory;
pub mod error;
pub mod federation;
pub mod file;
pub mod keys;
pub mod lang;
pub mod limits;
pub mod log;
pub mod mfa;
pub mod oidc;
pub mod paths;
pub mod portal;
pub mod request_headers;
pub mod secret;
pub mod server;
pub mod sessions;
pub mod theme;
pub mod tls;

use std::path::{Path, PathBuf};

pub use admin::Admin;
pub use apps::App;
pub use audit::{Audit, Durability};
pub use directory::{DirectoryConfig, DirectoryRefresh};
use error::Report;
pub use error::{ConfigError, ConfigErrors};
pub use federation::Federation;
pub use keys::Keys;
pub use limits::Limits;
pub use log::{Log, LogFormat};
pub use mfa::Mfa;
pub use oidc::Oidc;
pub use portal::Portal;
pub use secret::{Secret, SecretSource};
pub use server::Server;
pub use tls::{CertificatePaths, Hsts, TlsProfile};

/// The validated gateway configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from, for reloads and messages.
    pub source: PathBuf,
    /// Listeners and trust.
    pub server: Server,
    /// The admin listener.
    pub admin: Admin,
    /// Connection limits.
    pub limits: Limits,
    /// Certificate files, in the order written.
    pub certificates: Vec<CertificatePaths>,
    /// What the HTTPS listeners offer (`[tls] profile`).
    pub tls_profile: TlsProfile,
    /// The Strict-Transport-Security header of every HTTPS answer (`[tls.hsts]`).
    pub hsts: Hsts,
    /// The login host.
    pub portal_host: String,
    /// The login host's language default and look.
    pub portal: Portal,
    /// Where people come from; `None`: nobody can log in.
    pub directory: Option<DirectoryConfig>,
    /// How often sessions read their person from the directory again.
    pub directory_refresh: DirectoryRefresh,
    /// Where sessions live and how long they last.
    pub sessions: pforte_session::StoreSettings,
    /// The signing keys, if configured.
    pub keys: Option<Keys>,
    /// The OpenID Connect provider, if enabled.
    pub oidc: Option<Oidc>,
    /// Partners' OpenID providers, if configured.
    pub federation: Option<Federation>,
    /// Second factors, if enabled.
    pub mfa: Option<Mfa>,
    /// The apps file.
    pub apps_file: PathBuf,
    /// The policy's entry file; the files it includes are found from it.
    pub policy_file: PathBuf,
    /// Logging.
    pub log: Log,
    /// How the audit log is chained, signed and made durable.
    pub audit: Audit,
}

impl Config {
    /// Reads and validates `gateway.toml`.
    pub fn load(path: &Path) -> Result<Self, ConfigErrors> {
        let source = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::whole_file(path, format!("cannot read config file: {e}")))?;
        Self::parse(path, &source)
    }

    /// Validates the text of a config file; `path` names it in messages and anchors relative paths.
    /// Every table is checked, in the order of the file's description, before any problem is
    /// returned.
    pub fn parse(path: &Path, source: &str) -> Result<Self, ConfigErrors> {
        let file: file::GatewayFile =
            toml::from_str(source).map_err(|e| ConfigError::from_toml(path, source, &e))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut report = Report::default();
        let server = file.server.validate(&mut report);
        let admin = file.admin.validate(base, &mut report);
        let limits = file.limits.validate(&mut report);
        let tls = file.tls.validate(base, &mut report);
        let portal_host = file.portal.host(&mut report);
        let apps_file = file.apps.validate(base, &mut report);
        let policy_file = file.policy.validate(base, &mut report);
        let portal = file.portal.validate(base, &mut report);
        let directory = file.directory.as_ref().and_then(|section| {
            section
                .validate(base)
                .map_err(|problems| report.section(problems))
                .ok()
        });
        let directory_refresh = file
            .directory
            .as_ref()
            .map(|section| {
                section
                    .refresh()
                    .map_err(|problems| report.section(problems))
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        let sessions = file
            .sessions
            .validate(base)
            .map_err(|problems| report.section(problems))
            .unwrap_or_default();
        let keys = file
            .keys
            .as_ref()
            .and_then(|section| section.validate(base, &mut report));
        let oidc = file
            .oidc
            .as_ref()
            .and_then(|section| section.validate(base, file.keys.is_some(), &mut report));
        let federation = file
            .federation
            .as_ref()
            .and_then(|section| section.validate(base, &mut report));
        let mfa = file
            .mfa
            .as_ref()
            .and_then(|section| section.validate(base, &mut report));
        let log = file.log.validate(base, &mut report);
        let audit = file
            .audit
            .validate(base, log.audit_file.as_deref(), &mut report);
        report.finish(path, source)?;
        Ok(Config {
            source: path.to_path_buf(),
            server,
            admin,
            limits,
            certificates: tls.certificates,
            tls_profile: tls.profile,
            hsts: tls.hsts,
            portal_host,
            portal,
            directory,
            directory_refresh,
            sessions,
            keys,
            oidc,
            federation,
            mfa,
            apps_file,
            policy_file,
            log,
            audit,
        })
    }

    /// Loads the apps this config points to, and checks they do not take the login host and
    /// that an app asking for signed assertions has keys to sign them with.
    pub fn load_apps(&self) -> Result<Vec<App>, ConfigErrors> {
        let apps = apps::load(&self.apps_file)?;
        let mut clashes: Vec<ConfigError> = apps
            .iter()
            .filter(|app| app.hosts.contains(&self.portal_host))
            .map(|app| {
                ConfigError::whole_file(
                    &self.apps_file,
                    format!(
                        "app {:?} uses the login host {}; give it another host",
                        app.name, self.portal_host
                    ),
                )
            })
            .collect();
        if self.keys.is_none() {
            clashes.extend(
                apps.iter()
                    .filter(|app| app.identity_headers.assertion.is_some())
                    .map(|app| {
                        ConfigError::whole_file(
                            &self.apps_file,
                            format!(
                                "app {:?} asks for a signed assertion, but gateway.toml has no [keys] to sign it with",
                                app.name
                            ),
                        )
                    }),
            );
        }
        if clashes.is_empty() {
            Ok(apps)
        } else {
            Err(ConfigErrors(clashes))
        }
    }

    /// What cannot change without a restart differs between `self` and `newer`.
    pub fn restart_needed_for(&self, newer: &Config) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if self.server.listen != newer.server.listen
            || self.server.http_redirect != newer.server.http_redirect
        {
            keys.push("server.listen / server.http_redirect");
        }
        if self.admin.listen != newer.admin.listen {
            keys.push("admin.listen");
        }
        if self.limits != newer.limits {
            keys.push("limits");
        }
        if self.tls_profile != newer.tls_profile {
            keys.push("tls.profile");
        }
        if self.log != newer.log {
            keys.push("log");
        }
        if self.audit != newer.audit {
            keys.push("audit");
        }
        if gateway_view(&self.directory) != gateway_view(&newer.directory) {
            keys.push("directory");
        }
        if format!("{:?}", self.sessions) != format!("{:?}", newer.sessions) {
            keys.push("sessions");
        }
        let ca = |c: &Config| c.oidc.as_ref().and_then(|o| o.backchannel_ca_file.clone());
        if self.oidc.is_some() != newer.oidc.is_some() || ca(self) != ca(newer) {
            keys.push("oidc (enabling it, backchannel_ca_file)");
        }
        let partners_ca = |c: &Config| c.federation.as_ref().and_then(|f| f.ca_file.clone());
        if self.federation.is_some() != newer.federation.is_some()
            || partners_ca(self) != partners_ca(newer)
        {
            keys.push("federation (enabling it, ca_file)");
        }
        keys
    }
}

/// The directory settings the gateway uses: `[directory.ldap.admin]` is for `pforte-admin`
/// only, so changing it needs no restart.
fn gateway_view(directory: &Option<DirectoryConfig>) -> Option<DirectoryConfig> {
    let mut view = directory.clone();
    if let Some(DirectoryConfig::Ldap(ldap)) = &mut view {
        ldap.admin = None;
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_minimal(dir: &Path, extra: &str) -> PathBuf {
        std::fs::write(dir.join("c.pem"), "x").unwrap();
        std::fs::write(dir.join("k.pem"), "x").unwrap();
        std::fs::write(dir.join("apps.toml"), "").unwrap();
        std::fs::write(dir.join("policy.toml"), "").unwrap();
        let path = dir.join("gateway.toml");
        std::fs::write(
            &path,
            format!(
                "[server]\nlisten = [\"127.0.0.1:8443\"]\n[[tls.certificates]]\ncert = \"c.pem\"\nkey = \"k.pem\"\n[portal]\nhost = \"login.example.org\"\n[apps]\nfile = \"apps.toml\"\n[policy]\nfile = \"policy.toml\"\n{extra}"
            ),
        )
        .unwrap();
        path
    }

    #[test]
    fn the_directory_refresh_has_defaults_and_bounds_named_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("people.toml"), "").unwrap();
        let section = "[directory]\nbackend = \"file\"\nfile = \"people.toml\"\n";
        let cfg = Config::load(&write_minimal(dir.path(), section)).unwrap();
        assert_eq!(cfg.directory_refresh, DirectoryRefresh::default());
        assert_eq!(
            cfg.directory_refresh.interval,
            std::time::Duration::from_secs(300)
        );
        assert_eq!(
            cfg.directory_refresh.grace,
            std::time::Duration::from_secs(900)
        );
        let set = format!("{section}refresh_interval = \"15m\"\nrefresh_grace = \"0s\"\n");
        let cfg = Config::load(&write_minimal(dir.path(), &set)).unwrap();
        assert_eq!(
            cfg.directory_refresh.interval,
            std::time::Duration::from_secs(900)
        );
        assert_eq!(cfg.directory_refresh.grace, std::time::Duration::ZERO);
        for (bad, key) in [
            ("refresh_interval = \"1s\"", "directory.refresh_interval"),
            ("refresh_interval = \"2d\"", "directory.refresh_interval"),
            ("refresh_grace = \"25h\"", "directory.refresh_grace"),
        ] {
            let path = write_minimal(dir.path(), &format!("{section}{bad}\n"));
            let err = Config::load(&path).unwrap_err().to_string();
            assert!(
                err.contains("gateway.toml:13:") && err.contains(key),
                "{bad}: {err}"
            );
        }
        let path = write_minimal(
            dir.path(),
            &format!("{section}refresh_interval = \"soon\"\n"),
        );
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("gateway.toml:"), "{err}");
    }

    #[test]
    fn minimal_config_fills_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::load(&write_minimal(dir.path(), "")).unwrap();
        assert_eq!(cfg.admin.listen.to_string(), "127.0.0.1:9090");
        assert_eq!(cfg.server.public_https_port, 8443);
        assert_eq!(cfg.limits.max_header_bytes, 65536);
        assert_eq!(cfg.certificates[0].cert, dir.path().join("c.pem"));
        assert_eq!(cfg.log.format, LogFormat::Text);
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_minimal(dir.path(), "[limits]\nmax_conections = 5\n");
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("gateway.toml:13:1"), "{err}");
        assert!(err.contains("unknown field `max_conections`"), "{err}");
    }

    #[test]
    fn the_cookie_domain_must_hold_the_login_host() {
        let dir = tempfile::tempdir().unwrap();
        let ok = write_minimal(dir.path(), "");
        let text = std::fs::read_to_string(&ok).unwrap();
        std::fs::write(
            &ok,
            text.replace("[portal]\n", "[portal]\ncookie_domain = \".Example.org\"\n"),
        )
        .unwrap();
        let cfg = Config::load(&ok).unwrap();
        assert_eq!(cfg.portal.cookie_domain.as_deref(), Some("example.org"));
        for (domain, message) in [
            (
                "other.org",
                "the login host login.example.org is not under other.org",
            ),
            ("org", "is not a parent domain"),
        ] {
            std::fs::write(
                &ok,
                text.replace(
                    "[portal]\n",
                    &format!("[portal]\ncookie_domain = \"{domain}\"\n"),
                ),
            )
            .unwrap();
            let err = Config::load(&ok).unwrap_err().to_string();
            assert!(
                err.contains("portal.cookie_domain") && err.contains(message),
                "{err}"
            );
        }
    }

    #[test]
    fn bad_values_are_all_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_minimal(
            dir.path(),
            "[limits]\nmax_header_bytes = 10\nmax_connections = 0\n",
        );
        let err = Config::load(&path).unwrap_err();
        assert_eq!(err.0.len(), 2, "{err}");
        assert!(
            err.to_string()
                .contains("limits.max_header_bytes: must be at least 8192")
        );
    }

    #[test]
    fn bad_address_is_a_parse_error_with_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.toml");
        std::fs::write(&path, "[server]\nlisten = [\"localhost\"]\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("g.toml:2:"), "{err}");
    }

    #[test]
    fn missing_file_is_named() {
        let err = Config::load(Path::new("/nonexistent/gw.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("/nonexistent/gw.toml: cannot read config file"),
            "{err}"
        );
    }

    #[test]
    fn the_mfa_key_must_be_a_key_and_its_problems_name_the_place() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("good.key"),
            format!("{}\n", "0f".repeat(32)),
        )
        .unwrap();
        std::fs::write(dir.path().join("short.key"), "0f0f\n").unwrap();
        let path = write_minimal(
            dir.path(),
            "[mfa]\nkey = { file = \"good.key\" }\nmust_enrol = [\"admins\"]\n",
        );
        let cfg = Config::load(&path).unwrap();
        let mfa = cfg.mfa.unwrap();
        assert!(mfa.must_enrol(&["admins".to_owned()]) && !mfa.must_enrol(&[]));
        assert!(mfa.passwordless);
        assert!(
            !format!("{:?}", mfa.sealer).contains("0f0f"),
            "no key in Debug"
        );

        let path = write_minimal(
            dir.path(),
            "[mfa]\nkey = { file = \"good.key\" }\nprevious_keys = [{ file = \"short.key\" }]\n",
        );
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("gateway.toml:14:") && err.contains("mfa.previous_keys"),
            "{err}"
        );
        assert!(err.contains("32 bytes"), "{err}");
        let path = write_minimal(dir.path(), "[mfa]\nkey = { file = \"missing.key\" }\n");
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("gateway.toml:13:") && err.contains("mfa.key"),
            "{err}"
        );
        assert!(err.contains("missing.key not found"), "{err}");
    }

    #[test]
    fn deployment_example_has_only_missing_files_and_secrets_here() {
        let source = include_str!("../../../deploy/gateway.example.toml");
        let errors = Config::parse(Path::new("deploy/gateway.example.toml"), source).unwrap_err();
        // Only what exists on a deployed machine may be missing here: files, and the
        // environment variable a secret comes from.
        for error in &errors.0 {
            assert!(
                error.message.contains("not found") || error.message.contains("is not set"),
                "the example config has a real problem: {error}"
            );
        }
    }
}
