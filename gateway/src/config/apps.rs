//! `apps.toml`: the collaboration apps behind the gateway, each reached by one or more hosts (and
//! optionally a path prefix) and served by one or more upstream URLs.
//!
//! ```text
//! apps.toml ──toml──▶ AppsFile (as written) ──validate──▶ Vec<App> (runtime, all checked)
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytesize::ByteSize;
use serde::Deserialize;
use toml::Spanned;

use super::error::{ConfigError, ConfigErrors};
use super::request_headers::{RequestHeaders, RequestHeadersEntry};

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppsFile {
    #[serde(default)]
    app: Vec<AppEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppEntry {
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
fn default_max_body() -> ByteSize {
    ByteSize::gib(1)
}

/// Most upstreams one app may list (the balancer keeps one health bit per upstream).
pub const MAX_UPSTREAMS: usize = 64;

/// How the gateway speaks to an app's upstreams.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpstreamProtocol {
    /// HTTP/1.1 for `http://`; for `https://` whatever ALPN agrees (HTTP/2 preferred).
    #[default]
    Auto,
    /// HTTP/1.1 only (needed for WebSocket upgrades on `https://` upstreams).
    Http1,
    /// HTTP/2 only: prior knowledge on `http://` (h2c), ALPN `h2` on `https://`.
    Http2,
}

/// When an upstream counts as failing and how long it is then skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PassiveHealth {
    /// Consecutive connect errors or timeouts that take an upstream out of rotation.
    pub failures: u32,
    /// How long a failing upstream is skipped before it is tried again.
    #[serde(with = "humantime_serde")]
    pub cooldown: Duration,
}

impl Default for PassiveHealth {
    fn default() -> Self {
        Self {
            failures: 1,
            cooldown: Duration::from_secs(10),
        }
    }
}

/// An upstream base URL, checked: scheme http or https, an authority, no path or query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamUrl {
    /// `http` or `https`.
    pub scheme: http::uri::Scheme,
    /// `host:port` as written.
    pub authority: http::uri::Authority,
}

impl std::fmt::Display for UpstreamUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority)
    }
}

/// The identity header names an app receives (configurable per app in `apps.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityHeaders {
    /// The user name.
    pub user: http::HeaderName,
    /// The mail address.
    pub email: http::HeaderName,
    /// The groups, comma-separated.
    pub groups: http::HeaderName,
    /// The display name (UTF-8).
    pub name: http::HeaderName,
    /// A short-lived signed JWT about the person (ES256 by default, audience the app), for
    /// apps that verify identity cryptographically rather than trust headers; `None`: not sent.
    pub assertion: Option<http::HeaderName>,
}

impl Default for IdentityHeaders {
    fn default() -> Self {
        Self {
            user: http::HeaderName::from_static("x-forwarded-user"),
            email: http::HeaderName::from_static("x-forwarded-email"),
            groups: http::HeaderName::from_static("x-forwarded-groups"),
            name: http::HeaderName::from_static("x-forwarded-name"),
            assertion: None,
        }
    }
}

impl IdentityHeaders {
    /// Every name, for stripping client copies.
    pub fn all(&self) -> impl Iterator<Item = &http::HeaderName> + Clone {
        [&self.user, &self.email, &self.groups, &self.name]
            .into_iter()
            .chain(self.assertion.as_ref())
    }
}

/// `[app.identity_headers]`: other names for the identity headers, for apps that expect them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityHeadersEntry {
    user: Option<Spanned<String>>,
    email: Option<Spanned<String>>,
    groups: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    assertion: Option<Spanned<String>>,
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
}

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
    let mut errors = Vec::new();
    let mut apps = Vec::new();
    let mut seen_names: HashMap<String, usize> = HashMap::new();
    let mut seen_routes: HashMap<(String, String), String> = HashMap::new();
    for (index, entry) in file.app.into_iter().enumerate() {
        let mut err = |span: std::ops::Range<usize>, field: &str, message: String| {
            let key = format!("app[{index}].{field}");
            errors.push(ConfigError::at(
                path,
                source,
                Some(span),
                Some(key),
                message,
            ));
        };
        let name = entry.name.get_ref().clone();
        if !is_valid_name(&name) {
            err(
                entry.name.span(),
                "name",
                format!("app name {name:?} must be 1-63 lower-case letters, digits, '-' or '_'"),
            );
        } else if seen_names.insert(name.clone(), index).is_some() {
            err(
                entry.name.span(),
                "name",
                format!("app name {name:?} is used twice"),
            );
        }
        let prefix = entry.path_prefix.get_ref().clone();
        if let Err(message) = check_prefix(&prefix) {
            err(entry.path_prefix.span(), "path_prefix", message);
        }
        let mut hosts = Vec::new();
        if entry.hosts.get_ref().is_empty() {
            err(
                entry.hosts.span(),
                "hosts",
                "an app needs at least one host".into(),
            );
        }
        for host in entry.hosts.get_ref() {
            let lower = host.get_ref().to_ascii_lowercase();
            if !is_valid_host(&lower) {
                err(
                    host.span(),
                    "hosts",
                    format!(
                        "{:?} is not a host name (no scheme, port or path)",
                        host.get_ref()
                    ),
                );
                continue;
            }
            if let Some(other) = seen_routes.insert((lower.clone(), prefix.clone()), name.clone()) {
                err(
                    host.span(),
                    "hosts",
                    format!(
                        "host {lower} with path prefix {prefix} is already used by app {other:?}"
                    ),
                );
            }
            hosts.push(lower);
        }
        let mut upstreams = Vec::new();
        if entry.upstreams.get_ref().is_empty() {
            err(
                entry.upstreams.span(),
                "upstreams",
                "an app needs at least one upstream".into(),
            );
        }
        if entry.upstreams.get_ref().len() > MAX_UPSTREAMS {
            err(
                entry.upstreams.span(),
                "upstreams",
                format!(
                    "at most {MAX_UPSTREAMS} upstreams per app; put a load balancer in front of more"
                ),
            );
        }
        for url in entry.upstreams.get_ref() {
            match parse_upstream(url.get_ref()) {
                Ok(u) => upstreams.push(u),
                Err(message) => err(url.span(), "upstreams", message),
            }
        }
        let upstream_ca = entry.upstream_ca.as_ref().map(|ca| base.join(ca.get_ref()));
        if let (Some(ca), Some(spanned)) = (&upstream_ca, &entry.upstream_ca)
            && !ca.is_file()
        {
            err(
                spanned.span(),
                "upstream_ca",
                format!("CA file {} not found", ca.display()),
            );
        }
        for (value, field) in [
            (entry.connect_timeout, "connect_timeout"),
            (entry.response_timeout, "response_timeout"),
        ] {
            if value.is_zero() {
                err(0..0, field, "must be longer than 0s".into());
            }
        }
        let mut identity_headers = IdentityHeaders::default();
        let wanted = &entry.identity_headers;
        for (value, slot, field) in [
            (
                &wanted.user,
                &mut identity_headers.user,
                "identity_headers.user",
            ),
            (
                &wanted.email,
                &mut identity_headers.email,
                "identity_headers.email",
            ),
            (
                &wanted.groups,
                &mut identity_headers.groups,
                "identity_headers.groups",
            ),
            (
                &wanted.name,
                &mut identity_headers.name,
                "identity_headers.name",
            ),
        ] {
            let Some(value) = value else { continue };
            match header_name(value) {
                Ok(name) => *slot = name,
                Err(message) => err(value.span(), field, message),
            }
        }
        if let Some(value) = &wanted.assertion {
            match header_name(value) {
                Ok(name) => identity_headers.assertion = Some(name),
                Err(message) => err(value.span(), "identity_headers.assertion", message),
            }
        }
        let request_headers =
            entry
                .request_headers
                .validate(identity_headers.all(), |span, message| {
                    err(span, "request_headers.pass", message);
                });
        apps.push(App {
            display_name: entry.display_name.unwrap_or_else(|| name.clone()),
            name,
            icon: entry.icon,
            hosts,
            path_prefix: prefix,
            upstreams,
            upstream_ca,
            upstream_protocol: entry.upstream_protocol,
            connect_timeout: entry.connect_timeout,
            response_timeout: entry.response_timeout,
            max_body_bytes: entry.max_body_size.as_u64(),
            passive_health: entry.passive_health,
            identity_headers,
            request_headers,
        });
    }
    if errors.is_empty() {
        Ok(apps)
    } else {
        Err(ConfigErrors(errors))
    }
}

/// A configured header name, checked: valid, and not one the gateway manages itself.
fn header_name(value: &Spanned<String>) -> Result<http::HeaderName, String> {
    match http::HeaderName::from_bytes(value.get_ref().as_bytes()) {
        Ok(name) if !is_reserved_header(&name) => Ok(name),
        Ok(name) => Err(format!(
            "{name} is set by the gateway itself; choose another header name"
        )),
        Err(_) => Err(format!("{:?} is not a header name", value.get_ref())),
    }
}

/// Headers an identity header must not replace: the ones HTTP and the proxy itself manage.
fn is_reserved_header(name: &http::HeaderName) -> bool {
    matches!(
        name.as_str(),
        "host"
            | "cookie"
            | "authorization"
            | "content-length"
            | "transfer-encoding"
            | "connection"
            | "upgrade"
            | "x-forwarded-for"
            | "x-forwarded-proto"
            | "x-forwarded-host"
            | "forwarded"
            | "x-request-id"
    )
}

fn is_valid_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// A DNS host name: labels of letters, digits and '-', joined by dots.
pub fn is_valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn check_prefix(prefix: &str) -> Result<(), String> {
    if !prefix.starts_with('/') {
        return Err(format!("path_prefix {prefix:?} must start with '/'"));
    }
    if prefix.len() > 1 && prefix.ends_with('/') {
        return Err(format!(
            "path_prefix {prefix:?} must not end with '/': write {:?}",
            prefix.trim_end_matches('/')
        ));
    }
    if prefix.split('/').any(|seg| seg == "." || seg == "..") || prefix.contains("//") {
        return Err(format!(
            "path_prefix {prefix:?} must not contain '.', '..' or empty segments"
        ));
    }
    if !prefix.bytes().all(|b| b.is_ascii_graphic()) || prefix.contains(['?', '#', '%']) {
        return Err(format!(
            "path_prefix {prefix:?} may hold only plain URL path characters"
        ));
    }
    Ok(())
}

fn parse_upstream(text: &str) -> Result<UpstreamUrl, String> {
    let uri: http::Uri = text
        .parse()
        .map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    let scheme = uri
        .scheme()
        .cloned()
        .ok_or_else(|| format!("{text:?} needs http:// or https://"))?;
    if scheme != http::uri::Scheme::HTTP && scheme != http::uri::Scheme::HTTPS {
        return Err(format!(
            "{text:?}: only http:// and https:// upstreams are supported"
        ));
    }
    let authority = uri
        .authority()
        .cloned()
        .ok_or_else(|| format!("{text:?} has no host"))?;
    if authority.as_str().contains('@') {
        return Err(format!(
            "{text:?}: credentials in upstream URLs are not supported"
        ));
    }
    if uri.path_and_query().is_some_and(|pq| pq.as_str() != "/") {
        return Err(format!(
            "{text:?}: an upstream URL has no path or query; requests keep their own path"
        ));
    }
    Ok(UpstreamUrl { scheme, authority })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(src: &str) -> Result<Vec<App>, ConfigErrors> {
        parse(Path::new("apps.toml"), src)
    }

    #[test]
    fn minimal_app_gets_defaults() {
        let apps = parse_str(
            "[[app]]\nname = \"mail\"\nhosts = [\"Mail.Example.org\"]\nupstreams = [\"http://127.0.0.1:8080\"]\n",
        )
        .unwrap();
        assert_eq!(apps.len(), 1);
        assert_eq!(apps[0].hosts, vec!["mail.example.org"]);
        assert_eq!(apps[0].path_prefix, "/");
        assert_eq!(apps[0].display_name, "mail");
        assert_eq!(apps[0].upstreams[0].to_string(), "http://127.0.0.1:8080");
    }

    #[test]
    fn identity_header_names_are_checked() {
        let apps = parse_str(
            "[[app]]\nname = \"wiki\"\nhosts = [\"wiki.example.org\"]\nupstreams = [\"http://127.0.0.1:1\"]\n[app.identity_headers]\nuser = \"Remote-User\"\n",
        )
        .unwrap();
        assert_eq!(apps[0].identity_headers.user.as_str(), "remote-user");
        assert_eq!(apps[0].identity_headers.email.as_str(), "x-forwarded-email");
        let errs = parse_str(
            "[[app]]\nname = \"wiki\"\nhosts = [\"wiki.example.org\"]\nupstreams = [\"http://127.0.0.1:1\"]\n[app.identity_headers]\nuser = \"Cookie\"\nname = \"bad name\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            errs.contains(
                "apps.toml:6:8: app[0].identity_headers.user: cookie is set by the gateway"
            ),
            "{errs}"
        );
        assert!(
            errs.contains("app[0].identity_headers.name: \"bad name\" is not a header name"),
            "{errs}"
        );
    }

    #[test]
    fn request_headers_are_checked_with_their_place() {
        let apps = parse_str(
            "[[app]]\nname = \"api\"\nhosts = [\"api.example.org\"]\nupstreams = [\"http://127.0.0.1:1\"]\n[app.request_headers]\nunderscores = \"pass\"\npass = [\"X-HTTP-Method-Override\"]\n",
        )
        .unwrap();
        assert_eq!(
            apps[0].request_headers.underscores,
            super::super::request_headers::Underscores::Pass
        );
        assert_eq!(apps[0].request_headers.pass[0], "x-http-method-override");
        let errs = parse_str(
            "[[app]]\nname = \"api\"\nhosts = [\"api.example.org\"]\nupstreams = [\"http://127.0.0.1:1\"]\n[app.request_headers]\npass = [\"X-Forwarded-User\", \"X-Pforte-User\"]\nunderscores = \"sometimes\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(errs.contains("apps.toml:7:"), "{errs}");
        assert!(errs.contains("underscores"), "{errs}");
        let errs = parse_str(
            "[[app]]\nname = \"api\"\nhosts = [\"api.example.org\"]\nupstreams = [\"http://127.0.0.1:1\"]\n[app.request_headers]\npass = [\"X-Forwarded-User\", \"X-Pforte-User\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            errs.contains(
                "apps.toml:6:9: app[0].request_headers.pass: x-forwarded-user is set by Pforte"
            ),
            "{errs}"
        );
        assert!(
            errs.contains(
                "apps.toml:6:29: app[0].request_headers.pass: X-Pforte-* headers are Pforte's own"
            ),
            "{errs}"
        );
    }

    #[test]
    fn all_problems_reported_with_place() {
        let src = "[[app]]\nname = \"Mail!\"\nhosts = [\"mail.example.org:443\"]\npath_prefix = \"docs/\"\nupstreams = [\"ftp://x\", \"http://h/p\"]\n";
        let errs = parse_str(src).unwrap_err().to_string();
        assert!(
            errs.contains("apps.toml:2:8: app[0].name: app name \"Mail!\""),
            "{errs}"
        );
        assert!(errs.contains("apps.toml:3:10: app[0].hosts:"), "{errs}");
        assert!(
            errs.contains("app[0].path_prefix: path_prefix \"docs/\" must start with '/'"),
            "{errs}"
        );
        assert!(errs.contains("only http:// and https://"), "{errs}");
        assert!(errs.contains("an upstream URL has no path"), "{errs}");
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let src = "[[app]]\nname = \"mail\"\nhosts = [\"m.org\"]\nupstreams = [\"http://h:1\"]\nupstram = 1\n";
        let errs = parse_str(src).unwrap_err().to_string();
        assert!(errs.starts_with("apps.toml:5:1:"), "{errs}");
        assert!(errs.contains("unknown field `upstram`"), "{errs}");
    }

    #[test]
    fn duplicate_host_and_prefix_is_refused() {
        let src = "[[app]]\nname = \"a\"\nhosts = [\"x.org\"]\nupstreams = [\"http://h:1\"]\n[[app]]\nname = \"b\"\nhosts = [\"x.org\"]\nupstreams = [\"http://h:2\"]\n";
        let errs = parse_str(src).unwrap_err().to_string();
        assert!(errs.contains("already used by app \"a\""), "{errs}");
    }
}
