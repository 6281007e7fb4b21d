//! Shared helpers: the demo app list and short constructors.

use std::net::IpAddr;
use std::path::Path;

use pforte_policy::{AccessRequest, AppSummary, Decision, LoginStrength, Policy, Subject, load};

pub const DEMO_APPS: [&str; 9] = [
    "mail", "calendar", "docs", "files", "video", "chat", "wiki", "projects", "admin",
];

/// The demo apps, in the order of policies/apps.toml.
pub fn demo_apps() -> Vec<AppSummary> {
    DEMO_APPS
        .iter()
        .map(|name| AppSummary {
            name: (*name).into(),
            hosts: vec![format!("{name}.localhost")],
            path_prefix: String::new(),
            display_name: name.to_uppercase(),
            icon: Some((*name).into()),
        })
        .collect()
}

pub fn demo_policy() -> Policy {
    let loaded = load(Path::new("../policies/policy.toml"), &demo_apps()).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    loaded.policy
}

pub fn app(name: &str) -> usize {
    DEMO_APPS.iter().position(|a| *a == name).unwrap()
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn user(policy: &Policy, name: &str, groups: &[&str], login: LoginStrength) -> Subject {
    let groups: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
    policy.subject(name, &groups, login)
}

pub fn decide(
    policy: &Policy,
    who: &Subject,
    app_name: &str,
    method: &str,
    path: &str,
    from: &str,
) -> Decision {
    policy.decide(
        who,
        &AccessRequest {
            app: app(app_name),
            path,
            method,
            source: ip(from),
        },
    )
}
