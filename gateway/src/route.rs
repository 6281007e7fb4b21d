//! Routing: a request's host and path name either one of the apps or the login host. The table is
//! built once per (re)load and then only read, so a lookup is one hash probe and a short scan of
//! the prefixes registered under that host (longest first).

use std::collections::HashMap;

use crate::config::App;

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The app at this index of the loaded app list (the policy uses the same index).
    App(usize),
    /// The login host: start page, and later login, portal and OIDC endpoints.
    Portal,
}

/// Host and path prefix to target.
#[derive(Debug, Default)]
pub struct RouteTable {
    hosts: HashMap<String, Vec<(String, usize)>>,
    portal_host: String,
}

impl RouteTable {
    /// Builds the table; `apps` were validated, so hosts are lower case and (host, prefix) unique.
    pub fn new(apps: &[App], portal_host: &str) -> Self {
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
        }
    }

    /// The target for a normalised host (lower case, no port) and a request path.
    pub fn resolve(&self, host: &str, path: &str) -> Option<Target> {
        if host == self.portal_host {
            return Some(Target::Portal);
        }
        let prefixes = self.hosts.get(host)?;
        prefixes
            .iter()
            .find(|(prefix, _)| prefix_matches(prefix, path))
            .map(|(_, index)| Target::App(*index))
    }

    /// True when `host` is served here (the redirect listener only redirects for these).
    pub fn knows_host(&self, host: &str) -> bool {
        host == self.portal_host || self.hosts.contains_key(host)
    }
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

/// The host a request is for, lower case without port or trailing dot: from the URI authority
/// (HTTP/2, absolute-form HTTP/1.1) or else the `Host` header.
pub fn request_host<B>(req: &http::Request<B>) -> Option<String> {
    let raw = match req.uri().authority() {
        Some(authority) => authority.host().to_string(),
        None => {
            let value = req.headers().get(http::header::HOST)?.to_str().ok()?;
            let authority: http::uri::Authority = value.parse().ok()?;
            authority.host().to_string()
        }
    };
    let host = raw.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() { None } else { Some(host) }
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
        RouteTable::new(&apps, "login.example.org")
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
        assert_eq!(t.resolve("login.example.org", "/"), Some(Target::Portal));
        assert_eq!(t.resolve("evil.example.org", "/"), None);
        assert!(t.knows_host("files.example.org") && !t.knows_host("x.org"));
    }

    #[test]
    fn host_from_authority_or_header() {
        let req = http::Request::get("https://Mail.Example.org:8443/x")
            .body(())
            .unwrap();
        assert_eq!(request_host(&req).as_deref(), Some("mail.example.org"));
        let req = http::Request::get("/x")
            .header("host", "Docs.Example.org.:443")
            .body(())
            .unwrap();
        assert_eq!(request_host(&req).as_deref(), Some("docs.example.org"));
        let req = http::Request::get("/x")
            .header("host", "a b")
            .body(())
            .unwrap();
        assert_eq!(request_host(&req), None);
        let req = http::Request::get("/x").body(()).unwrap();
        assert_eq!(request_host(&req), None);
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
            if let Some(host) = request_host(&req) {
                prop_assert_eq!(host.to_ascii_lowercase(), host.clone());
                prop_assert!(!host.ends_with('.'));
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
