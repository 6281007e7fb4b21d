//! The apps a policy is compiled against, as the gateway's `apps.toml` describes them.
//!
//! The policy needs an app's name (rules name apps), its index (the gateway's route table
//! hands `decide` the index) and, for the portal and the tools, its hosts, path prefix,
//! display name and icon. The gateway converts its own app config into [`AppSummary`].

use serde::Serialize;

/// What the policy needs to know about one app. Its position in the list given to
/// [`load`](crate::load) is the app index used in [`AccessRequest`](crate::AccessRequest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppSummary {
    /// The name rules use (`apps = ["video"]`).
    pub name: String,
    /// Host names the gateway serves the app on (lower-case, without port).
    pub hosts: Vec<String>,
    /// The path the app is mounted under on its hosts, or `""` for the whole host.
    pub path_prefix: String,
    /// The name people see on the portal.
    pub display_name: String,
    /// The portal icon's name, if any.
    pub icon: Option<String>,
}

impl AppSummary {
    /// The path a person opens the app at: its prefix, or `/`.
    pub fn entry_path(&self) -> &str {
        if self.path_prefix.is_empty() {
            "/"
        } else {
            &self.path_prefix
        }
    }
}

/// The index of the app that serves `host` and `path`: the host must be one of the app's
/// hosts (case-insensitive) and, of those, the longest matching path prefix wins.
pub(crate) fn route(apps: &[AppSummary], host: &str, path: &str) -> Option<usize> {
    apps.iter()
        .enumerate()
        .filter(|(_, app)| app.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)))
        .filter(|(_, app)| prefix_holds(app.path_prefix.trim_end_matches('/'), path))
        .max_by_key(|(i, app)| (app.path_prefix.trim_end_matches('/').len(), usize::MAX - i))
        .map(|(i, _)| i)
}

fn prefix_holds(prefix: &str, path: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
pub(crate) fn demo_apps() -> Vec<AppSummary> {
    [
        "mail", "calendar", "docs", "files", "video", "chat", "wiki", "projects", "admin",
    ]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_on_the_host_wins() {
        let mut apps = demo_apps();
        apps[1].hosts = vec!["mail.localhost".into()];
        apps[1].path_prefix = "/calendar".into();
        assert_eq!(route(&apps, "MAIL.localhost", "/inbox"), Some(0));
        assert_eq!(route(&apps, "mail.localhost", "/calendar/today"), Some(1));
        assert_eq!(route(&apps, "mail.localhost", "/calendars"), Some(0));
        assert_eq!(route(&apps, "nowhere.localhost", "/"), None);
        assert_eq!(apps[1].entry_path(), "/calendar");
        assert_eq!(apps[0].entry_path(), "/");
    }
}
