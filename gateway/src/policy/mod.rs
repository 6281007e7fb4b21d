//! The access policy, as the gateway uses it. The language, its compiler and the decision are
//! the pure `pforte-policy` crate (re-exported here as [`engine`]); this module ties them to the
//! gateway's app definitions, so that a policy is always compiled against exactly the apps the
//! route table serves, and holds the tools that `pforte-admin policy` runs.
//!
//! ```text
//! apps.toml ──config::apps──▶ Vec<App> ──summaries──▶ Vec<AppSummary> ─┐
//! policy.toml (+ includes) ─────────────────────────────────────────────┴─▶ engine::load ─▶ Policy
//! ```
//!
//! The app index the route table hands the pipeline is the app's position in `apps.toml`, and
//! the same position in the summaries: one index names one app in routing and in the policy.

pub mod decide;
pub mod impact;
pub mod path;
pub mod tools;

use std::path::Path;

pub use pforte_policy as engine;
use pforte_policy::{AppSummary, LoadErrors, Loaded};

use crate::config::App;

/// What the policy needs to know of each app, in the order of the apps file.
pub fn summaries(apps: &[App]) -> Vec<AppSummary> {
    apps.iter()
        .map(|app| AppSummary {
            name: app.name.clone(),
            hosts: app.hosts.clone(),
            path_prefix: if app.path_prefix == "/" {
                String::new()
            } else {
                app.path_prefix.clone()
            },
            display_name: app.display_name.clone(),
            icon: app.icon.clone(),
        })
        .collect()
}

/// Reads, validates and compiles the policy whose entry file is `entry` for `apps`.
pub fn load(entry: &Path, apps: &[App]) -> Result<Loaded, LoadErrors> {
    engine::load(entry, &summaries(apps))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::apps;
    use std::net::{IpAddr, Ipv4Addr};

    #[test]
    fn the_demo_policy_loads_against_the_demo_apps_without_warnings() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
        let apps = apps::load(&root.join("apps.toml")).unwrap();
        let loaded = load(&root.join("policy.toml"), &apps).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let mail = apps.iter().position(|a| a.name == "mail").unwrap();
        let request = engine::AccessRequest {
            app: mail,
            path: "/.well-known/openid-configuration",
            method: "GET",
            source: IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        let anonymous = engine::Subject::anonymous();
        assert!(matches!(
            loaded.policy.decide(&anonymous, &request),
            engine::Decision::Allow { .. }
        ));
    }

    #[test]
    fn a_whole_host_app_has_an_empty_prefix_for_the_policy() {
        let apps = apps::parse(
            Path::new("apps.toml"),
            "[[app]]\nname = \"a\"\nhosts = [\"a.test\"]\nupstreams = [\"http://127.0.0.1:1\"]\n\
             [[app]]\nname = \"b\"\nhosts = [\"a.test\"]\npath_prefix = \"/b\"\nupstreams = [\"http://127.0.0.1:1\"]\n",
        )
        .unwrap();
        let summaries = summaries(&apps);
        assert_eq!(summaries[0].path_prefix, "");
        assert_eq!(summaries[1].path_prefix, "/b");
        assert_eq!(summaries[1].entry_path(), "/b");
    }
}
