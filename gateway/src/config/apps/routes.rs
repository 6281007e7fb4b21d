//! An app's name and where it answers: its hosts and path prefix. Names are unique, and so is
//! every pair of host and prefix, since the route table picks the app by them.

use std::collections::{HashMap, HashSet};

use toml::Spanned;

use crate::config::error::ItemReport;

/// The names and routes (host with path prefix) of the apps checked so far.
#[derive(Debug, Default)]
pub struct Taken {
    names: HashSet<String>,
    /// Each route with the app that has it.
    routes: HashMap<(String, String), String>,
}

impl Taken {
    /// The app's name; it must be a short lower-case name, not used by an earlier app.
    pub fn name(&mut self, name: &Spanned<String>, report: &mut ItemReport<'_>) -> String {
        let text = name.get_ref().clone();
        if !is_valid_name(&text) {
            report.at(
                name.span(),
                "name",
                format!("app name {text:?} must be 1-63 lower-case letters, digits, '-' or '_'"),
            );
        } else if !self.names.insert(text.clone()) {
            report.at(
                name.span(),
                "name",
                format!("app name {text:?} is used twice"),
            );
        }
        text
    }

    /// The hosts in lower case; at least one, each a DNS name, none with `prefix` used by an
    /// earlier app. `app` is recorded as the owner of the new routes.
    pub fn hosts(
        &mut self,
        hosts: &Spanned<Vec<Spanned<String>>>,
        app: &str,
        prefix: &str,
        report: &mut ItemReport<'_>,
    ) -> Vec<String> {
        if hosts.get_ref().is_empty() {
            report.at(hosts.span(), "hosts", "an app needs at least one host");
        }
        let mut out = Vec::new();
        for host in hosts.get_ref() {
            let lower = host.get_ref().to_ascii_lowercase();
            if !is_valid_host(&lower) {
                report.at(
                    host.span(),
                    "hosts",
                    format!(
                        "{:?} is not a host name (no scheme, port or path)",
                        host.get_ref()
                    ),
                );
                continue;
            }
            let route = (lower.clone(), prefix.to_string());
            if let Some(other) = self.routes.insert(route, app.to_string()) {
                report.at(
                    host.span(),
                    "hosts",
                    format!(
                        "host {lower} with path prefix {prefix} is already used by app {other:?}"
                    ),
                );
            }
            out.push(lower);
        }
        out
    }
}

/// The path prefix as written; a malformed one is reported (the app is refused anyway).
pub fn path_prefix(prefix: &Spanned<String>, report: &mut ItemReport<'_>) -> String {
    if let Err(message) = check_prefix(prefix.get_ref()) {
        report.at(prefix.span(), "path_prefix", message);
    }
    prefix.get_ref().clone()
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
