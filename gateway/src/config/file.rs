//! The on-disk shape of `gateway.toml`, exactly as an operator writes it. Every table refuses
//! unknown keys, so a typo is an error with its place rather than a silently ignored setting.
//! Values that can be checked while parsing (addresses, networks, durations) are typed here, so
//! the TOML parser reports them with line and column.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;
use toml::Spanned;

use super::directory::DirectorySection;
use super::secret::SecretSource;
use super::sessions::SessionsSection;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayFile {
    /// Public listeners and what is trusted about peers.
    pub server: ServerSection,
    /// The operator's listener.
    #[serde(default)]
    pub admin: AdminSection,
    /// Protection against slow and greedy clients.
    #[serde(default)]
    pub limits: LimitsSection,
    /// Certificates served by the HTTPS listeners.
    pub tls: TlsSection,
    /// The login host.
    pub portal: PortalSection,
    /// Where the app definitions live.
    pub apps: AppsSection,
    /// Where the access policy lives.
    pub policy: PolicySection,
    /// Where people and their groups come from; without it nobody can log in.
    pub directory: Option<DirectorySection>,
    /// Where sessions live.
    #[serde(default)]
    pub sessions: SessionsSection,
    /// The signing keys (identity assertions for apps; OIDC tokens).
    pub keys: Option<KeysSection>,
    /// The OpenID Connect provider; without it the login host serves no OIDC endpoints.
    pub oidc: Option<OidcSection>,
    /// Logging.
    #[serde(default)]
    pub log: LogSection,
}

/// `[server]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// HTTPS listen addresses.
    pub listen: Spanned<Vec<SocketAddr>>,
    /// Plain-HTTP listen addresses that only redirect to HTTPS.
    #[serde(default)]
    pub http_redirect: Vec<SocketAddr>,
    /// The port clients use for HTTPS (differs from the listen port behind a port mapping).
    pub public_https_port: Option<u16>,
    /// Peers whose `X-Forwarded-*` and `Forwarded` headers are believed.
    #[serde(default)]
    pub trusted_proxies: Vec<IpNet>,
}

/// `[admin]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSection {
    /// The admin listener; keep it on loopback or a private network.
    #[serde(default = "default_admin_listen")]
    pub listen: SocketAddr,
    /// A bearer token for state-changing admin requests.
    pub token: Option<Spanned<SecretSource>>,
}

impl Default for AdminSection {
    fn default() -> Self {
        Self {
            listen: default_admin_listen(),
            token: None,
        }
    }
}

fn default_admin_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9090))
}

/// `[limits]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSection {
    /// Time a client has to finish the TLS handshake and send a request's headers.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Largest request head accepted.
    pub max_header_bytes: Spanned<usize>,
    /// Connections served at once; further clients wait in the kernel's backlog.
    pub max_connections: Spanned<usize>,
    /// A connection with no request in flight and no traffic for this long is closed.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// How long a shutdown waits for requests in flight before it closes them.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
}

impl Default for LimitsSection {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: Spanned::new(0..0, 64 * 1024),
            max_connections: Spanned::new(0..0, 10_000),
            idle_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// `[tls]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// Certificate chains with their keys; SNI picks one by the names in the certificate.
    pub certificates: Spanned<Vec<CertificateEntry>>,
}

/// One `[[tls.certificates]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateEntry {
    /// PEM chain, leaf first.
    pub cert: Spanned<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Spanned<PathBuf>,
}

/// `[portal]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalSection {
    /// The login host's name, e.g. `login.example.org`.
    pub host: Spanned<String>,
    /// A parent domain of the login host and the app hosts (`example.org`): the session cookie is
    /// also set for it, so app hosts under it need no hand-over.
    pub cookie_domain: Option<Spanned<String>>,
    /// `de` or `en`: the pages' language when the browser names neither.
    pub default_language: Option<Spanned<String>>,
    /// The organisation's look.
    #[serde(default)]
    pub theme: ThemeSection,
}

/// `[portal.theme]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeSection {
    /// The name in titles and headings.
    pub product_name: Option<String>,
    /// Buttons and links, `#rrggbb`.
    pub primary_color: Option<Spanned<String>>,
    /// An SVG, PNG or WebP file, relative to this file's folder.
    pub logo: Option<Spanned<PathBuf>>,
}

/// `[apps]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppsSection {
    /// The apps file, relative to this file's folder.
    pub file: Spanned<PathBuf>,
}

/// `[policy]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySection {
    /// The policy's entry file, relative to this file's folder; it may include others.
    pub file: Spanned<PathBuf>,
}

/// `[keys]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysSection {
    /// The key directory every replica shares, relative to this file's folder.
    pub dir: Spanned<PathBuf>,
    /// How long a retired key stays published for verification.
    #[serde(default, with = "humantime_serde")]
    pub retire_after: Option<Duration>,
}

/// `[oidc]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSection {
    /// The registered clients, relative to this file's folder; reloaded like the policy.
    pub clients: Spanned<PathBuf>,
    /// The salt that makes pairwise `sub` values; needed once a client asks for them, and kept
    /// secret so apps cannot reverse the mapping.
    pub pairwise_salt: Option<Spanned<SecretSource>>,
    /// Extra CA certificates (PEM) trusted for back-channel logout calls to clients, besides the
    /// system's roots: for apps with certificates of an internal CA.
    pub backchannel_ca_file: Option<Spanned<PathBuf>>,
}

/// `[log]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSection {
    /// `text` for people, `json` for log shippers.
    pub format: LogFormat,
    /// A tracing filter: `info`, `debug`, `pforte=debug,hyper=info`.
    pub level: Option<String>,
    /// The audit log's own file (JSON lines), relative to this file's folder.
    pub audit_file: Option<PathBuf>,
}

/// The log line format.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}
