//! The on-disk shape of `gateway.toml`, exactly as an operator writes it: one field per table,
//! each table's struct in the module that validates it. Every table refuses unknown keys, so a
//! typo is an error with its place rather than a silently ignored setting. Values that can be
//! checked while parsing (addresses, networks, durations) are typed, so the TOML parser reports
//! them with line and column.

use serde::Deserialize;

pub use super::admin::AdminSection;
pub use super::directory::DirectorySection;
pub use super::federation::FederationSection;
pub use super::keys::KeysSection;
pub use super::limits::LimitsSection;
pub use super::log::{LogFormat, LogSection};
pub use super::mfa::MfaSection;
pub use super::oidc::OidcSection;
pub use super::paths::{AppsSection, PolicySection};
pub use super::portal::{PortalSection, ThemeSection};
pub use super::server::ServerSection;
pub use super::sessions::SessionsSection;
pub use super::tls::{CertificateEntry, TlsSection};

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
    /// Partners' OpenID providers Pforte trusts for logins; without it, none.
    pub federation: Option<FederationSection>,
    /// Second factors; without it nobody can enrol one.
    pub mfa: Option<MfaSection>,
    /// Logging.
    #[serde(default)]
    pub log: LogSection,
    /// The audit log's chain, checkpoints and durability.
    #[serde(default)]
    pub audit: super::audit::AuditSection,
}
