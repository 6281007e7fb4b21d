//! One `[[app]]` as written, and the app it becomes: each group of keys is checked by its own
//! module (`routes`, `upstreams`, `identity`, and
//! [`crate::config::request_headers`]); this module puts the pieces together.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytesize::ByteSize;
use serde::Deserialize;
use toml::Spanned;

use super::identity::{IdentityHeaders, IdentityHeadersEntry};
use super::routes::{self, Taken};
use super::upstreams::{self, PassiveHealth, UpstreamProtocol, UpstreamUrl};
use crate::config::error::ItemReport;
use crate::config::request_headers::{RequestHeaders, RequestHeadersEntry};

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppsFile {
    /// The `[[app]]` tables, in the order written.
    #[serde(default)]
    pub app: Vec<AppEntry>,
}

/// One `[[app]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppEntry {
    name: Spanned<String>,
    display_name: Option<String>,
    icon: Option<String>,
    hosts: Spanned<Vec<Spanned<String>>>,
    #[serde(default = "default_prefix")]
    path_prefix: Spanned<String>,
    upstreams: Spanned<Vec<Spanned<String>>>,
    upstream_ca: Option<Spanned<PathBuf>>,
    #[serde(default)]
    upstream_protocol: UpstreamProtocol,
    #[serde(default = "default_connect_timeout", with = "humantime_serde")]
    connect_timeout: Duration,
    #[serde(default = "default_response_timeout", with = "humantime_serde")]
    response_timeout: Duration,
    #[serde(default = "default_max_body")]
    max_body_size: ByteSize,
    #[serde(default)]
    passive_health: PassiveHealth,
    #[serde(default)]
    identity_headers: IdentityHeadersEntry,
    #[serde(default)]
    request_headers: RequestHeadersEntry,
    #[serde(default = "default_hsts")]
    hsts: bool,
}

fn default_prefix() -> Spanned<String> {
    Spanned::new(0..0, "/".to_string())
}
fn default_connect_timeout() -> Duration {
    Duration::from_secs(5)
}
fn default_response_timeout() -> Duration {
    Duration::from_secs(60)
}
fn default_hsts() -> bool {
    true
}
fn default_max_body() -> ByteSize {
    ByteSize::gib(1)
}

/// A validated app.
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    /// Short, unique name used in policies, metrics and logs.
    pub name: String,
    /// Name shown to people.
    pub display_name: String,
    /// Icon name or URL for the portal tile.
    pub icon: Option<String>,
    /// Host names (lower case, no port) the app answers on.
    pub hosts: Vec<String>,
    /// Path prefix under those hosts: `/` or `/something` without a trailing slash.
    pub path_prefix: String,
    /// Where requests go.
    pub upstreams: Vec<UpstreamUrl>,
    /// CA certificates (PEM) that sign the upstreams' certificates; the system roots otherwise.
    pub upstream_ca: Option<PathBuf>,
    /// Protocol towards the upstreams.
    pub upstream_protocol: UpstreamProtocol,
    /// Time to open a connection to an upstream.
    pub connect_timeout: Duration,
    /// Time an upstream has to start its response.
    pub response_timeout: Duration,
    /// Largest request body accepted for this app.
    pub max_body_bytes: u64,
    /// Failure detection for the upstreams.
    pub passive_health: PassiveHealth,
    /// The names under which the app receives the person's identity.
    pub identity_headers: IdentityHeaders,
    /// What the app accepts of the client's own headers.
    pub request_headers: RequestHeaders,
    /// Whether the gateway's Strict-Transport-Security header goes on the app's answers
    /// (replacing the app's own); `false` for an app whose host must stay reachable over plain
    /// HTTP elsewhere, its own header (if any) then passing unchanged.
    pub hsts: bool,
}

impl AppEntry {
    /// The app, checked key by key in the order of the table's description; `taken` holds the
    /// names and routes of the apps before it, `base` anchors a relative CA file.
    pub fn validate(self, base: &Path, taken: &mut Taken, report: &mut ItemReport<'_>) -> App {
        let name = taken.name(&self.name, report);
        let path_prefix = routes::path_prefix(&self.path_prefix, report);
        let hosts = taken.hosts(&self.hosts, &name, &path_prefix, report);
        let upstreams = upstreams::urls(&self.upstreams, report);
        let upstream_ca = upstreams::ca_file(self.upstream_ca.as_ref(), base, report);
        upstreams::check_timeouts(self.connect_timeout, self.response_timeout, report);
        let identity_headers = self.identity_headers.validate(report);
        let request_headers =
            self.request_headers
                .validate(identity_headers.all(), |span, message| {
                    report.at(span, "request_headers.pass", message);
                });
        App {
            display_name: self.display_name.unwrap_or_else(|| name.clone()),
            name,
            icon: self.icon,
            hosts,
            path_prefix,
            upstreams,
            upstream_ca,
            upstream_protocol: self.upstream_protocol,
            connect_timeout: self.connect_timeout,
            response_timeout: self.response_timeout,
            max_body_bytes: self.max_body_size.as_u64(),
            passive_health: self.passive_health,
            identity_headers,
            request_headers,
            hsts: self.hsts,
        }
    }
}
