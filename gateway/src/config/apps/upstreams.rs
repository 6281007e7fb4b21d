//! Where an app's requests go and how: the upstream URLs, the CA that signs their certificates,
//! the protocol, the timeouts, and when an upstream counts as failing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::config::error::ItemReport;

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

/// The upstream URLs that parse; at least one and at most [`MAX_UPSTREAMS`] must be listed.
pub fn urls(urls: &Spanned<Vec<Spanned<String>>>, report: &mut ItemReport<'_>) -> Vec<UpstreamUrl> {
    if urls.get_ref().is_empty() {
        report.at(
            urls.span(),
            "upstreams",
            "an app needs at least one upstream",
        );
    }
    if urls.get_ref().len() > MAX_UPSTREAMS {
        report.at(
            urls.span(),
            "upstreams",
            format!(
                "at most {MAX_UPSTREAMS} upstreams per app; put a load balancer in front of more"
            ),
        );
    }
    let mut out = Vec::new();
    for url in urls.get_ref() {
        match parse_url(url.get_ref()) {
            Ok(u) => out.push(u),
            Err(message) => report.at(url.span(), "upstreams", message),
        }
    }
    out
}

/// The CA file, resolved against `base`; it must exist.
pub fn ca_file(
    ca: Option<&Spanned<PathBuf>>,
    base: &Path,
    report: &mut ItemReport<'_>,
) -> Option<PathBuf> {
    let spanned = ca?;
    let path = base.join(spanned.get_ref());
    if !path.is_file() {
        report.at(
            spanned.span(),
            "upstream_ca",
            format!("CA file {} not found", path.display()),
        );
    }
    Some(path)
}

/// Both timeouts must be longer than zero (the TOML parser keeps no span for them).
pub fn check_timeouts(connect: Duration, response: Duration, report: &mut ItemReport<'_>) {
    for (value, field) in [(connect, "connect_timeout"), (response, "response_timeout")] {
        if value.is_zero() {
            report.at(0..0, field, "must be longer than 0s");
        }
    }
}

fn parse_url(text: &str) -> Result<UpstreamUrl, String> {
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
