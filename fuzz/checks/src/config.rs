//! The files an operator writes: the gateway config (`pforte::config::Config::parse`), the apps
//! file (`pforte::config::apps::parse`) and the OIDC clients file (`pforte_oidc::Clients::parse`).
//! They are trusted input, but a typo must give a clear error with its place, never a panic.

use std::borrow::Cow;
use std::path::Path;

use pforte::config::Config;
use pforte::config::apps::is_valid_host;
use pforte::route::{LOGIN_PATH, RouteTable, SSO_PATH, Target};
use pforte_oidc::Clients;
use pforte_policy::normalise_path;

/// Where the files claim to be: a folder that does not exist, so relative paths in them (CA,
/// secret, logo files) name nothing.
const BASE: &str = "/nonexistent-pforte-fuzz";
const LOGIN_HOST: &str = "login.example.org";

/// Any text as `gateway.toml`: it parses or yields errors that render, each with its place; a
/// parsed config needs no restart against itself.
pub fn config(data: &[u8]) {
    let Some(text) = file_text(data) else {
        return;
    };
    match Config::parse(&Path::new(BASE).join("gateway.toml"), text) {
        Ok(config) => assert!(config.restart_needed_for(&config).is_empty()),
        Err(errors) => assert!(!errors.to_string().is_empty()),
    }
}

/// Any text as `apps.toml`: a parsed app has a valid name, valid lower-case hosts and a path
/// prefix that is a normal path, and routing sends its entry path on each of its hosts to it.
pub fn apps(data: &[u8]) {
    let Some(text) = file_text(data) else {
        return;
    };
    let apps = match pforte::config::apps::parse(&Path::new(BASE).join("apps.toml"), text) {
        Ok(apps) => apps,
        Err(errors) => {
            assert!(!errors.to_string().is_empty());
            return;
        }
    };
    let routes = RouteTable::new(&apps, LOGIN_HOST, true);
    for (index, app) in apps.iter().enumerate() {
        assert!(!app.hosts.is_empty(), "app {} has no host", app.name);
        let entry = if app.path_prefix.is_empty() {
            "/"
        } else {
            app.path_prefix.as_str()
        };
        assert!(
            matches!(normalise_path(entry), Ok(Cow::Borrowed(_))),
            "app {}'s path prefix {entry:?} is no path a request can have",
            app.name
        );
        for host in &app.hosts {
            assert!(is_valid_host(host), "{host:?}");
            assert_eq!(*host, host.to_ascii_lowercase());
            if host == LOGIN_HOST || entry == SSO_PATH || entry == LOGIN_PATH {
                continue;
            }
            assert_eq!(
                routes.resolve(host, entry),
                Some(Target::App(index)),
                "https://{host}{entry} does not reach app {}",
                app.name
            );
        }
    }
}

/// Any text as `clients.toml`: a loaded client is found by its id and registers only redirect
/// URIs a browser may be sent to with a code: absolute, no fragment, no credentials, `https` (or
/// `http` on a loopback host).
pub fn clients(data: &[u8]) {
    let Some(text) = file_text(data) else {
        return;
    };
    let clients = match Clients::parse(&Path::new(BASE).join("clients.toml"), text) {
        Ok(clients) => clients,
        Err(errors) => {
            assert!(!errors.to_string().is_empty());
            return;
        }
    };
    for client in clients.iter() {
        assert!(clients.get(&client.id).is_some_and(|c| c.id == client.id));
        for uri in &client.redirect_uris {
            assert!(client.has_redirect_uri(uri));
            let url = url::Url::parse(uri).unwrap_or_else(|e| panic!("{uri:?}: {e}"));
            assert!(url.fragment().is_none(), "{uri:?} has a fragment");
            assert!(url.username().is_empty() && url.password().is_none());
            let loopback = matches!(
                url.host(),
                Some(url::Host::Ipv4(ip)) if ip.is_loopback()
            ) || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
                || url.host_str() == Some("localhost");
            assert!(
                (url.scheme() == "https" && url.host().is_some())
                    || (url.scheme() == "http" && loopback),
                "{uri:?} may not receive codes"
            );
        }
    }
}

/// The input as text, unless it names a device or kernel file: the config files name files the
/// gateway reads (certificates, secrets, logos), and `/dev/zero` or `/proc/kcore` would test the
/// machine, not the parser. Checked on the parsed strings, so escapes cannot hide a name.
fn file_text(data: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(data).ok()?;
    if let Ok(table) = text.parse::<toml::Table>() {
        let value = toml::Value::Table(table);
        let mut strings = Vec::new();
        collect_strings(&value, &mut strings);
        let special = ["dev", "proc", "sys", "fd"];
        if strings
            .iter()
            .any(|s| special.iter().any(|word| s.contains(word)))
        {
            return None;
        }
    }
    Some(text)
}

fn collect_strings<'v>(value: &'v toml::Value, out: &mut Vec<&'v str>) {
    match value {
        toml::Value::String(s) => out.push(s),
        toml::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        toml::Value::Table(table) => table.iter().for_each(|(k, v)| {
            out.push(k);
            collect_strings(v, out);
        }),
        _ => {}
    }
}
