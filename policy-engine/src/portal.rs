//! The apps a person may open, for the portal's tiles.
//!
//! An app is openable when a `GET` of its entry path (its path prefix, or `/`) is allowed:
//! the same decision the gateway will make when the tile is clicked, so the portal never
//! shows a tile that leads to a 403.

use std::net::IpAddr;

use serde::Serialize;

use crate::decide::{AccessRequest, Decision};
use crate::policy::Policy;
use crate::subject::Subject;

/// One tile of the portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortalApp<'a> {
    /// The app's index.
    pub index: usize,
    /// The app's name in the policy.
    pub name: &'a str,
    /// The name to show.
    pub display_name: &'a str,
    /// The icon to show, if any.
    pub icon: Option<&'a str>,
    /// The host to link to (the app's first host), `None` if it has no host.
    pub host: Option<&'a str>,
    /// The path to link to.
    pub path: &'a str,
}

impl Policy {
    /// The indexes of the apps `subject` may open from `source`, in app order.
    pub fn openable_apps<'a>(
        &'a self,
        subject: &'a Subject,
        source: IpAddr,
    ) -> impl Iterator<Item = usize> + 'a {
        self.apps.iter().enumerate().filter_map(move |(app, _)| {
            matches!(
                self.entry_decision(subject, app, source),
                Decision::Allow { .. }
            )
            .then_some(app)
        })
    }

    /// The decision for a `GET` of the app's entry path by `subject` from `source`: what
    /// "may open the app" means for the portal, the diff and a reload's impact, in one place.
    pub fn entry_decision(&self, subject: &Subject, app: usize, source: IpAddr) -> Decision {
        let Some(summary) = self.apps.get(app) else {
            return Decision::Deny { rule: None };
        };
        let req = AccessRequest {
            app,
            path: summary.entry_path(),
            method: "GET",
            source,
        };
        self.decide(subject, &req)
    }

    /// The portal tiles for `subject` from `source`, ordered as in `apps.toml`.
    pub fn portal_apps(&self, subject: &Subject, source: IpAddr) -> Vec<PortalApp<'_>> {
        self.openable_apps(subject, source)
            .filter_map(|index| {
                let app = self.apps.get(index)?;
                Some(PortalApp {
                    index,
                    name: &app.name,
                    display_name: &app.display_name,
                    icon: app.icon.as_deref(),
                    host: app.hosts.first().map(String::as_str),
                    path: app.entry_path(),
                })
            })
            .collect()
    }
}
