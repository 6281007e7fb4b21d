//! Routing: a request's host and path name the one kind of endpoint that answers it: an app, a
//! page of the login host, the OpenID Connect provider, or one of the gateway's built-ins. This
//! module owns the URL space: every path the gateway answers itself is named here, once. The
//! table is built once per (re)load and then only read, so a lookup is one hash probe and a
//! short scan of the prefixes registered under that host (longest first).

use std::collections::HashMap;

use pforte_oidc::discovery::paths as oidc_paths;

use crate::config::App;

/// Where the login host serves the theme's logo.
pub const LOGO_PATH: &str = "/assets/logo";
/// Where the login host serves the script that runs passkey ceremonies in the browser.
pub const PASSKEY_SCRIPT_PATH: &str = "/assets/passkey.js";
/// Where the login host publishes the signing keys (RFC 7517 JWK set).
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// Where sites behind their own proxy ask whether a request may pass (forward auth).
pub const FORWARD_AUTH_PATH: &str = "/auth/verify";
/// On every app host: where hand-over tickets are redeemed; never forwarded to an app.
pub const SSO_PATH: &str = "/.pforte/sso";
/// On every app host: sends a browser off to log in with its hand-over binding; never forwarded
/// to an app.
pub const LOGIN_PATH: &str = "/.pforte/login";

/// Where a request goes: decided here once, dispatched by the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The app at this index of the loaded app list (the policy uses the same index).
    App(usize),
    /// A page of the login host: the start page, the login form, logout (anything else there
    /// is not found).
    LoginPage,
    /// An endpoint of the OpenID Connect provider (discovery, `/oidc/*` and the device
    /// verification page `/device`), when configured.
    Oidc,
    /// One of the gateway's own endpoints.
    Builtin(Builtin),
}

/// The gateway's own endpoints, which no app and no policy rule sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// [`SSO_PATH`] on a host of the app at this index.
    Redeem(usize),
    /// [`LOGIN_PATH`] on a host of the app at this index.
    StartLogin(usize),
    /// [`FORWARD_AUTH_PATH`] on the login host.
    ForwardAuth,
    /// [`JWKS_PATH`] on the login host.
    Jwks,
    /// [`LOGO_PATH`] on the login host.
    Logo,
    /// [`PASSKEY_SCRIPT_PATH`] on the login host.
    PasskeyScript,
}

impl Builtin {
    /// The app whose host it was asked on, for the app-host built-ins.
    pub fn app(self) -> Option<usize> {
        match self {
            Self::Redeem(app) | Self::StartLogin(app) => Some(app),
            Self::ForwardAuth | Self::Jwks | Self::Logo | Self::PasskeyScript => None,
        }
    }
}

/// Host and path prefix to target.
#[derive(Debug, Default)]
pub struct RouteTable {
    hosts: HashMap<String, Vec<(String, usize)>>,
    portal_host: String,
    oidc: bool,
}

impl RouteTable {
    /// Builds the table; `apps` were validated, so hosts are lower case and (host, prefix)
    /// unique. `oidc` says whether the OpenID Connect provider is configured.
    pub fn new(apps: &[App], portal_host: &str, oidc: bool) -> Self {
        let mut hosts: HashMap<String, Vec<(String, usize)>> = HashMap::new();
        for (index, app) in apps.iter().enumerate() {
            for host in &app.hosts {
                hosts
                    .entry(host.clone())
                    .or_default()
                    .push((app.path_prefix.clone(), index));
            }
        }
        for prefixes in hosts.values_mut() {
            prefixes.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        }
        Self {
            hosts,
            portal_host: portal_host.to_string(),
            oidc,
        }
    }

    /// The target for a normalised host (lower case, no port) and the path the policy judges.
    pub fn resolve(&self, host: &str, path: &str) -> Option<Target> {
        if host == self.portal_host {
            return Some(match path {
                FORWARD_AUTH_PATH => Target::Builtin(Builtin::ForwardAuth),
                JWKS_PATH => Target::Builtin(Builtin::Jwks),
                LOGO_PATH => Target::Builtin(Builtin::Logo),
                PASSKEY_SCRIPT_PATH => Target::Builtin(Builtin::PasskeyScript),
                _ if self.oidc && is_oidc(path) => Target::Oidc,
                _ => Target::LoginPage,
            });
        }
        let prefixes = self.hosts.get(host)?;
        let any_app = || prefixes.last().map(|(_, index)| *index);
        match path {
            SSO_PATH => any_app().map(|app| Target::Builtin(Builtin::Redeem(app))),
            LOGIN_PATH => any_app().map(|app| Target::Builtin(Builtin::StartLogin(app))),
            _ => prefixes
                .iter()
                .find(|(prefix, _)| prefix_matches(prefix, path))
                .map(|(_, index)| Target::App(*index)),
        }
    }

    /// True when `host` is served here (the redirect listener only redirects for these).
    pub fn knows_host(&self, host: &str) -> bool {
        host == self.portal_host || self.hosts.contains_key(host)
    }
}

/// Whether `path` is one of the OpenID Connect provider's endpoints, or its device
/// verification page (RFC 8628), whose short path people type.
fn is_oidc(path: &str) -> bool {
    path == oidc_paths::DISCOVERY
        || path == oidc_paths::OAUTH_METADATA
        || path == oidc_paths::DEVICE_VERIFICATION
        || path.starts_with("/oidc/")
}

/// `/docs` matches `/docs`, `/docs/` and `/docs/x`, never `/docsx`; `/` matches everything.
fn prefix_matches(prefix: &str, path: &str) -> bool {
    if prefix == "/" {
        return true;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'),
        None => false,
    }
}

/// Why a request's host was refused (400): the host decides the app, so the app must receive
/// the very authority the decision was made for, and nothing ambiguous may get that far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// No authority in the target and no `Host` header (HTTP/1.0), or an empty host.
    #[error("the request names no host")]
    Missing,
    /// The authority is not a valid `host[:port]` (user info, bad characters).
    #[error("the request's host is malformed")]
    Malformed,
    /// More than one `Host` header (RFC 9112 section 3.2).
    #[error("the request has more than one Host header")]
    Repeated,
    /// An HTTP/2 `:authority` and a `host` header that name different hosts (RFC 9113
    /// section 8.3.1).
    #[error("the request's :authority and Host header disagree")]
    Conflicting,
}

/// The host a request is for, as routing and the policy judge it and as the app receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHost {
    /// Lower case, without port or trailing dot: what routes and rules are written with.
    pub name: String,
    /// The `Host` header the request must carry from here on when its own differs from the
    /// authority it names (the target named the host: HTTP/2, an absolute-form request);
    /// `None` when its one `Host` header already is exactly that authority.
    pub rebuilt: Option<http::HeaderValue>,
}

/// The host a request is for: the target's authority (HTTP/2 `:authority`, or an absolute-form
/// HTTP/1.1 target, whose `Host` header is then ignored as RFC 9112 section 3.2.2 says), else
/// the one `Host` header. Two `Host` headers, user info in the authority, or an HTTP/2 `host`
/// header naming another host than `:authority` are refused.
pub fn request_host<B>(req: &http::Request<B>) -> Result<RequestHost, HostError> {
    let mut headers = req.headers().get_all(http::header::HOST).iter();
    let header = headers.next();
    if headers.next().is_some() {
        return Err(HostError::Repeated);
    }
    let header = match header {
        Some(value) => Some(parse_authority(value.as_bytes())?),
        None => None,
    };
    let (authority, rebuilt) = match (req.uri().authority(), &header) {
        (Some(target), header) => {
            if target.as_str().contains('@') {
                return Err(HostError::Malformed);
            }
            if req.version() >= http::Version::HTTP_2
                && header.as_ref().is_some_and(|h| !same_authority(h, target))
            {
                return Err(HostError::Conflicting);
            }
            let rebuilt =
                http::HeaderValue::from_str(target.as_str()).map_err(|_| HostError::Malformed)?;
            (target, Some(rebuilt))
        }
        (None, Some(header)) => (header, None),
        (None, None) => return Err(HostError::Missing),
    };
    let name = authority.host().trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() {
        return Err(HostError::Missing);
    }
    Ok(RequestHost { name, rebuilt })
}

/// A `host[:port]` without user info (which RFC 9110 section 4.2.4 forbids in `Host`).
fn parse_authority(raw: &[u8]) -> Result<http::uri::Authority, HostError> {
    if raw.contains(&b'@') {
        return Err(HostError::Malformed);
    }
    http::uri::Authority::try_from(raw).map_err(|_| HostError::Malformed)
}

/// Whether two authorities name the same host and port (host names compared as DNS does).
fn same_authority(a: &http::uri::Authority, b: &http::uri::Authority) -> bool {
    a.host()
        .trim_end_matches('.')
        .eq_ignore_ascii_case(b.host().trim_end_matches('.'))
        && a.port_u16() == b.port_u16()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::apps::parse;
    use std::path::Path;

    fn table() -> RouteTable {
        let apps = parse(
            Path::new("apps.toml"),
            r#"
[[app]]
name = "docs"
hosts = ["work.example.org"]
path_prefix = "/docs"
upstreams = ["http://127.0.0.1:1"]
[[app]]
name = "files"
hosts = ["work.example.org", "files.example.org"]
upstreams = ["http://127.0.0.1:2"]
"#,
        )
        .unwrap();
        RouteTable::new(&apps, "login.example.org", true)
    }

    #[test]
    fn longest_prefix_wins_and_boundaries_hold() {
        let t = table();
        assert_eq!(
            t.resolve("work.example.org", "/docs/a"),
            Some(Target::App(0))
        );
        assert_eq!(t.resolve("work.example.org", "/docs"), Some(Target::App(0)));
        assert_eq!(
            t.resolve("work.example.org", "/docsx"),
            Some(Target::App(1))
        );
        assert_eq!(
            t.resolve("files.example.org", "/docs"),
            Some(Target::App(1))
        );
        assert_eq!(t.resolve("login.example.org", "/"), Some(Target::LoginPage));
        assert_eq!(t.resolve("evil.example.org", "/"), None);
        assert!(t.knows_host("files.example.org") && !t.knows_host("x.org"));
    }

    #[test]
    fn the_gateway_s_own_paths_are_built_ins() {
        let t = table();
        let login = |path| t.resolve("login.example.org", path);
        assert_eq!(
            login("/auth/verify"),
            Some(Target::Builtin(Builtin::ForwardAuth))
        );
        assert_eq!(login(JWKS_PATH), Some(Target::Builtin(Builtin::Jwks)));
        assert_eq!(login(LOGO_PATH), Some(Target::Builtin(Builtin::Logo)));
        assert_eq!(
            login(PASSKEY_SCRIPT_PATH),
            Some(Target::Builtin(Builtin::PasskeyScript))
        );
        assert_eq!(login("/oidc/token"), Some(Target::Oidc));
        assert_eq!(login("/device"), Some(Target::Oidc), "device verification");
        assert_eq!(
            login("/.well-known/oauth-authorization-server"),
            Some(Target::Oidc)
        );
        assert_eq!(
            login("/.well-known/openid-configuration"),
            Some(Target::Oidc)
        );
        assert_eq!(login("/login"), Some(Target::LoginPage));
        let without_oidc = RouteTable::new(&[], "login.example.org", false);
        assert_eq!(
            without_oidc.resolve("login.example.org", "/oidc/token"),
            Some(Target::LoginPage)
        );
        assert_eq!(
            t.resolve("work.example.org", SSO_PATH),
            Some(Target::Builtin(Builtin::Redeem(1)))
        );
        assert_eq!(
            t.resolve("files.example.org", LOGIN_PATH),
            Some(Target::Builtin(Builtin::StartLogin(1)))
        );
        assert_eq!(t.resolve("evil.example.org", SSO_PATH), None);
    }

    fn name(req: &http::Request<()>) -> Result<String, HostError> {
        request_host(req).map(|host| host.name)
    }

    #[test]
    fn host_from_authority_or_header() {
        let req = http::Request::get("https://Mail.Example.org:8443/x")
            .body(())
            .unwrap();
        assert_eq!(name(&req).as_deref(), Ok("mail.example.org"));
        let req = http::Request::get("/x")
            .header("host", "Docs.Example.org.:443")
            .body(())
            .unwrap();
        let host = request_host(&req).unwrap();
        assert_eq!(host.name, "docs.example.org");
        assert_eq!(host.rebuilt, None, "the one Host header stays as sent");
        let req = http::Request::get("/x")
            .header("host", "a b")
            .body(())
            .unwrap();
        assert_eq!(name(&req), Err(HostError::Malformed));
        let req = http::Request::get("/x").body(()).unwrap();
        assert_eq!(name(&req), Err(HostError::Missing));
    }

    #[test]
    fn the_target_names_the_host_and_ambiguity_is_refused() {
        let absolute = http::Request::get("https://video.example.org/")
            .header("host", "admin.example.org")
            .body(())
            .unwrap();
        let host = request_host(&absolute).unwrap();
        assert_eq!(host.name, "video.example.org");
        assert_eq!(
            host.rebuilt.as_ref().map(|v| v.as_bytes()),
            Some(&b"video.example.org"[..]),
            "the Host header is rebuilt"
        );
        let h2 = http::Request::get("https://video.example.org/")
            .version(http::Version::HTTP_2)
            .header("host", "admin.example.org")
            .body(())
            .unwrap();
        assert_eq!(name(&h2), Err(HostError::Conflicting));
        let h2_same = http::Request::get("https://video.example.org/")
            .version(http::Version::HTTP_2)
            .header("host", "Video.Example.org")
            .body(())
            .unwrap();
        assert_eq!(name(&h2_same).as_deref(), Ok("video.example.org"));
        let twice = http::Request::get("/")
            .header("host", "video.example.org")
            .header("host", "admin.example.org")
            .body(())
            .unwrap();
        assert_eq!(name(&twice), Err(HostError::Repeated));
        let userinfo = http::Request::get("/")
            .header("host", "admin.example.org@video.example.org")
            .body(())
            .unwrap();
        assert_eq!(name(&userinfo), Err(HostError::Malformed));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// No Host header a client can send makes host extraction panic, and what comes out is
        /// lower case without a port.
        #[test]
        fn any_host_header_is_handled(raw in "[ -~]{0,80}") {
            let Ok(req) = http::Request::get("/").header("host", raw.as_str()).body(()) else {
                return Ok(());
            };
            if let Ok(host) = request_host(&req) {
                prop_assert_eq!(host.name.to_ascii_lowercase(), host.name.clone());
                prop_assert!(!host.name.ends_with('.'));
                prop_assert!(!host.name.is_empty());
            }
        }

        /// A prefix route never matches a path that merely starts with the same letters.
        #[test]
        fn prefixes_match_on_segment_boundaries(prefix in "/[a-z]{1,8}", rest in "[a-z/]{0,8}") {
            let path = format!("{prefix}{rest}");
            let matched = prefix_matches(&prefix, &path);
            let expected = rest.is_empty() || rest.starts_with('/');
            prop_assert_eq!(matched, expected);
        }
    }
}
