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

pub mod apps;
pub mod directory;
pub mod error;
pub mod file;
pub mod lang;
pub mod request_headers;
pub mod secret;
pub mod sessions;
pub mod theme;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;

use crate::config::lang::Lang;
use crate::config::theme::{Color, Logo, MIN_CONTRAST, Theme};

pub use apps::App;
pub use directory::DirectoryConfig;
pub use error::{ConfigError, ConfigErrors};
pub use file::LogFormat;
pub use secret::{Secret, SecretSource};

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
    /// The login host.
    pub portal_host: String,
    /// The login host's language default and look.
    pub portal: Portal,
    /// Where people come from; `None`: nobody can log in.
    pub directory: Option<DirectoryConfig>,
    /// Where sessions live and how long they last.
    pub sessions: pforte_session::StoreSettings,
    /// The signing keys, if configured.
    pub keys: Option<Keys>,
    /// The OpenID Connect provider, if enabled.
    pub oidc: Option<Oidc>,
    /// The apps file.
    pub apps_file: PathBuf,
    /// The policy's entry file; the files it includes are found from it.
    pub policy_file: PathBuf,
    /// Logging.
    pub log: Log,
}

/// Listeners and which peers are believed about the original client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// HTTPS listeners.
    pub listen: Vec<SocketAddr>,
    /// Plain-HTTP listeners that redirect to HTTPS.
    pub http_redirect: Vec<SocketAddr>,
    /// The HTTPS port in links and redirects.
    pub public_https_port: u16,
    /// Peers whose forwarding headers are believed.
    pub trusted_proxies: Vec<IpNet>,
}

/// The admin listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    /// Where it listens.
    pub listen: SocketAddr,
    /// Bearer token for state-changing requests; without one they are taken from loopback only.
    pub token: Option<Secret>,
}

/// Connection limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Handshake and request-head deadline.
    pub header_read_timeout: Duration,
    /// Largest request head.
    pub max_header_bytes: usize,
    /// Concurrent connections.
    pub max_connections: usize,
    /// Idle connection lifetime.
    pub idle_timeout: Duration,
    /// Drain time on shutdown.
    pub shutdown_grace: Duration,
}

/// One certificate chain and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificatePaths {
    /// PEM chain.
    pub cert: PathBuf,
    /// PEM key.
    pub key: PathBuf,
}

/// The shared key directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    /// The directory.
    pub dir: PathBuf,
    /// How long a retired key stays in the JWKS.
    pub retire_after: Duration,
}

/// The OpenID Connect provider's files and secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oidc {
    /// The clients file.
    pub clients_file: PathBuf,
    /// The pairwise-subject salt, if configured.
    pub pairwise_salt: Option<Secret>,
    /// Extra CA certificates for back-channel logout calls.
    pub backchannel_ca_file: Option<PathBuf>,
}

/// The login host's pages.
#[derive(Debug, Clone, PartialEq)]
pub struct Portal {
    /// The parent domain the session cookie is also set for, if any.
    pub cookie_domain: Option<String>,
    /// The language when the browser names none we speak.
    pub default_language: Lang,
    /// The look.
    pub theme: Theme,
}

/// Logging settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// Line format.
    pub format: LogFormat,
    /// Filter directive.
    pub level: String,
    /// Where audit events go; standard error with the rest when `None`.
    pub audit_file: Option<PathBuf>,
}

/// Smallest head buffer hyper accepts.
const MIN_HEADER_BYTES: usize = 8 * 1024;

impl Config {
    /// Reads and validates `gateway.toml`.
    pub fn load(path: &Path) -> Result<Self, ConfigErrors> {
        let source = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::whole_file(path, format!("cannot read config file: {e}")))?;
        Self::parse(path, &source)
    }

    /// Validates the text of a config file; `path` names it in messages and anchors relative paths.
    pub fn parse(path: &Path, source: &str) -> Result<Self, ConfigErrors> {
        let file: file::GatewayFile =
            toml::from_str(source).map_err(|e| ConfigError::from_toml(path, source, &e))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut errors = Vec::new();
        let mut err = |span: std::ops::Range<usize>, key: &str, message: String| {
            errors.push(ConfigError::at(
                path,
                source,
                Some(span),
                Some(key.to_string()),
                message,
            ));
        };

        let listen = file.server.listen.get_ref().clone();
        if listen.is_empty() {
            err(
                file.server.listen.span(),
                "server.listen",
                "at least one HTTPS address is needed".into(),
            );
        }
        let public_https_port = file
            .server
            .public_https_port
            .or_else(|| listen.first().map(SocketAddr::port))
            .unwrap_or(443);

        let token =
            file.admin
                .token
                .as_ref()
                .and_then(|spanned| match spanned.get_ref().read(base) {
                    Ok(secret) => Some(secret),
                    Err(e) => {
                        err(spanned.span(), "admin.token", e.to_string());
                        None
                    }
                });

        let limits = &file.limits;
        if *limits.max_header_bytes.get_ref() < MIN_HEADER_BYTES {
            err(
                limits.max_header_bytes.span(),
                "limits.max_header_bytes",
                format!("must be at least {MIN_HEADER_BYTES}"),
            );
        }
        if *limits.max_connections.get_ref() == 0 {
            err(
                limits.max_connections.span(),
                "limits.max_connections",
                "must be at least 1".into(),
            );
        }

        let mut certificates = Vec::new();
        if file.tls.certificates.get_ref().is_empty() {
            err(
                file.tls.certificates.span(),
                "tls.certificates",
                "at least one certificate is needed".into(),
            );
        }
        for (i, entry) in file.tls.certificates.get_ref().iter().enumerate() {
            let cert = base.join(entry.cert.get_ref());
            let key = base.join(entry.key.get_ref());
            for (p, spanned, field) in [(&cert, &entry.cert, "cert"), (&key, &entry.key, "key")] {
                if !p.is_file() {
                    err(
                        spanned.span(),
                        &format!("tls.certificates[{i}].{field}"),
                        format!("file {} not found", p.display()),
                    );
                }
            }
            certificates.push(CertificatePaths { cert, key });
        }

        let portal_host = file.portal.host.get_ref().to_ascii_lowercase();
        if !apps::is_valid_host(&portal_host) {
            err(
                file.portal.host.span(),
                "portal.host",
                format!("{portal_host:?} is not a host name"),
            );
        }

        let apps_file = base.join(file.apps.file.get_ref());
        if !apps_file.is_file() {
            err(
                file.apps.file.span(),
                "apps.file",
                format!("file {} not found", apps_file.display()),
            );
        }

        let policy_file = base.join(file.policy.file.get_ref());
        if !policy_file.is_file() {
            err(
                file.policy.file.span(),
                "policy.file",
                format!("file {} not found", policy_file.display()),
            );
        }

        let portal = portal_settings(&file.portal, base, &mut err);
        let directory = file.directory.as_ref().and_then(|section| {
            section
                .validate(base)
                .map_err(|problems| {
                    for p in problems {
                        err(p.span.unwrap_or(0..0), &p.key, p.message);
                    }
                })
                .ok()
        });
        let sessions = file
            .sessions
            .validate(base)
            .map_err(|problems| {
                for p in problems {
                    err(p.span.unwrap_or(0..0), &p.key, p.message);
                }
            })
            .unwrap_or_default();

        let keys = file.keys.as_ref().and_then(|section| {
            let dir = base.join(section.dir.get_ref());
            if dir.is_dir() {
                Some(Keys {
                    dir,
                    retire_after: section
                        .retire_after
                        .unwrap_or(pforte_keys::DEFAULT_RETIRE_AFTER),
                })
            } else {
                err(
                    section.dir.span(),
                    "keys.dir",
                    format!(
                        "folder {} not found; make it with `pforte-admin keys generate --dir {}`",
                        dir.display(),
                        dir.display()
                    ),
                );
                None
            }
        });

        let oidc = file.oidc.as_ref().and_then(|section| {
            let clients_file = base.join(section.clients.get_ref());
            let mut ok = true;
            if !clients_file.is_file() {
                err(
                    section.clients.span(),
                    "oidc.clients",
                    format!("file {} not found", clients_file.display()),
                );
                ok = false;
            }
            if file.keys.is_none() {
                err(
                    section.clients.span(),
                    "oidc",
                    "the OpenID Connect provider signs tokens: add [keys] with a key directory"
                        .into(),
                );
                ok = false;
            }
            let pairwise_salt = section.pairwise_salt.as_ref().and_then(|source| {
                source
                    .get_ref()
                    .read(base)
                    .map_err(|e| err(source.span(), "oidc.pairwise_salt", e.to_string()))
                    .ok()
            });
            if section.pairwise_salt.is_some() && pairwise_salt.is_none() {
                ok = false;
            }
            let backchannel_ca_file = section.backchannel_ca_file.as_ref().and_then(|ca| {
                let path = base.join(ca.get_ref());
                if path.is_file() {
                    Some(path)
                } else {
                    err(
                        ca.span(),
                        "oidc.backchannel_ca_file",
                        format!("file {} not found", path.display()),
                    );
                    ok = false;
                    None
                }
            });
            ok.then_some(Oidc {
                clients_file,
                pairwise_salt,
                backchannel_ca_file,
            })
        });

        let level = file.log.level.clone().unwrap_or_else(|| "info".to_string());
        if let Err(e) = tracing_subscriber::EnvFilter::builder().parse(&level) {
            errors.push(ConfigError::at(
                path,
                source,
                None,
                Some("log.level".into()),
                e.to_string(),
            ));
        }

        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        Ok(Config {
            source: path.to_path_buf(),
            server: Server {
                listen,
                http_redirect: file.server.http_redirect,
                public_https_port,
                trusted_proxies: file.server.trusted_proxies,
            },
            admin: Admin {
                listen: file.admin.listen,
                token,
            },
            limits: Limits {
                header_read_timeout: limits.header_read_timeout,
                max_header_bytes: *limits.max_header_bytes.get_ref(),
                max_connections: *limits.max_connections.get_ref(),
                idle_timeout: limits.idle_timeout,
                shutdown_grace: limits.shutdown_grace,
            },
            certificates,
            portal_host,
            portal,
            directory,
            sessions,
            keys,
            oidc,
            apps_file,
            policy_file,
            log: Log {
                format: file.log.format,
                level,
                audit_file: file.log.audit_file.map(|f| base.join(f)),
            },
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
        if self.log != newer.log {
            keys.push("log");
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

/// The login host's language and theme, checked: a known language, a readable colour, a logo
/// of a type browsers show.
fn portal_settings(
    section: &file::PortalSection,
    base: &Path,
    err: &mut impl FnMut(std::ops::Range<usize>, &str, String),
) -> Portal {
    let default_language = match &section.default_language {
        None => Lang::En,
        Some(tag) => Lang::from_tag(tag.get_ref()).unwrap_or_else(|| {
            err(
                tag.span(),
                "portal.default_language",
                format!(
                    "{:?} is not a language of the pages; use \"de\" or \"en\"",
                    tag.get_ref()
                ),
            );
            Lang::En
        }),
    };
    let mut theme = Theme::default();
    let t = &section.theme;
    if let Some(name) = &t.product_name {
        theme.product_name = name.clone();
    }
    if let Some(color) = &t.primary_color {
        match Color::parse(color.get_ref()) {
            Ok(c) if c.contrast_with_white() >= MIN_CONTRAST => theme.primary = c,
            Ok(c) => err(
                color.span(),
                "portal.theme.primary_color",
                format!(
                    "contrast with white is {:.1}:1, below the {MIN_CONTRAST}:1 that readable buttons and links need; choose a darker colour",
                    c.contrast_with_white()
                ),
            ),
            Err(message) => err(color.span(), "portal.theme.primary_color", message),
        }
    }
    if let Some(logo) = &t.logo {
        let path = base.join(logo.get_ref());
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match (Logo::content_type_for(&name), std::fs::read(&path)) {
            (None, _) => err(
                logo.span(),
                "portal.theme.logo",
                "the logo must be an .svg, .png or .webp file".into(),
            ),
            (_, Err(e)) => err(
                logo.span(),
                "portal.theme.logo",
                format!("cannot read {}: {e}", path.display()),
            ),
            (Some(content_type), Ok(bytes)) if bytes.len() <= MAX_LOGO_BYTES => {
                theme.logo = Some(Logo {
                    bytes: bytes.into(),
                    content_type,
                });
            }
            (Some(_), Ok(_)) => err(
                logo.span(),
                "portal.theme.logo",
                format!("the logo is larger than {MAX_LOGO_BYTES} bytes"),
            ),
        }
    }
    let portal_host = section.host.get_ref().to_ascii_lowercase();
    let cookie_domain = section.cookie_domain.as_ref().and_then(|domain| {
        let lower = domain
            .get_ref()
            .trim_start_matches('.')
            .to_ascii_lowercase();
        let covers_login_host = portal_host == lower || portal_host.ends_with(&format!(".{lower}"));
        if !apps::is_valid_host(&lower) || !lower.contains('.') {
            err(
                domain.span(),
                "portal.cookie_domain",
                format!("{lower:?} is not a parent domain like \"example.org\""),
            );
            None
        } else if !covers_login_host {
            err(
                domain.span(),
                "portal.cookie_domain",
                format!("the login host {portal_host} is not under {lower}"),
            );
            None
        } else {
            Some(lower)
        }
    });
    Portal {
        cookie_domain,
        default_language,
        theme,
    }
}

/// A logo is shown small; a large file is a mistake, not a logo.
const MAX_LOGO_BYTES: usize = 512 * 1024;

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
