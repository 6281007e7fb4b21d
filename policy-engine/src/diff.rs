//! `pforte-admin policy diff`: who gains or loses which app when one policy replaces another.
//!
//! Each user is asked, under both policies, which apps they may open (the portal's notion,
//! [`Policy::openable_apps`]), from one source address and with one login strength. Apps
//! are compared by name, so the two policies may have been compiled for different app lists.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;

use crate::model::LoginStrength;
use crate::policy::Policy;
use crate::subject::Subject;
use crate::users::UserGroups;

/// The circumstances the users are assumed to be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DiffOptions {
    /// The source address (default `10.0.0.1`, an internal address).
    pub source: IpAddr,
    /// The login strength (default `mfa`, the strongest).
    pub login: LoginStrength,
}

impl Default for DiffOptions {
    fn default() -> Self {
        Self {
            source: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            login: LoginStrength::Mfa,
        }
    }
}

/// The name under which someone not logged in is reported.
pub const ANONYMOUS: &str = "(not logged in)";

/// One user whose apps change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserDiff {
    /// The user, or [`ANONYMOUS`].
    pub user: String,
    /// Apps they may open under the new policy and not the old.
    pub gained: Vec<String>,
    /// Apps they may open under the old policy and not the new.
    pub lost: Vec<String>,
}

/// The effect of a policy change on a list of users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffReport {
    /// The circumstances assumed.
    pub options: DiffOptions,
    /// The users whose apps change (someone not logged in first), in the given order.
    pub changed: Vec<UserDiff>,
    /// How many users (someone not logged in included) keep the same apps.
    pub unchanged: usize,
}

/// Compares what `users` (and someone not logged in) may open under `old` and `new`.
pub fn diff(old: &Policy, new: &Policy, users: &[UserGroups], options: &DiffOptions) -> DiffReport {
    let mut changed = Vec::new();
    let mut unchanged = 0;
    let everyone = std::iter::once(None).chain(users.iter().map(Some));
    for user in everyone {
        let before = openable(old, user, options);
        let after = openable(new, user, options);
        let gained: Vec<String> = after
            .iter()
            .filter(|a| !before.contains(*a))
            .cloned()
            .collect();
        let lost: Vec<String> = before
            .iter()
            .filter(|a| !after.contains(*a))
            .cloned()
            .collect();
        if gained.is_empty() && lost.is_empty() {
            unchanged += 1;
        } else {
            let user = user.map_or(ANONYMOUS, |u| u.name.as_str()).to_owned();
            changed.push(UserDiff { user, gained, lost });
        }
    }
    DiffReport {
        options: *options,
        changed,
        unchanged,
    }
}

/// The names of the apps `user` (`None`: someone not logged in) may open under `policy` in the
/// circumstances of `options`: the one definition of "may use an app" that `diff` compares, and
/// that the gateway's reload impact compares too.
pub fn openable(
    policy: &Policy,
    user: Option<&UserGroups>,
    options: &DiffOptions,
) -> BTreeSet<String> {
    let subject = match user {
        Some(u) => policy.subject(&u.name, &u.groups, options.login),
        None => Subject::anonymous(),
    };
    policy
        .openable_apps(&subject, options.source)
        .filter_map(|i| policy.apps.get(i).map(|a| a.name.clone()))
        .collect()
}

impl fmt::Display for DiffReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "from {} with login {}: ",
            self.options.source, self.options.login
        )?;
        if self.changed.is_empty() {
            return write!(
                f,
                "no user gains or loses an app ({} checked)",
                self.unchanged
            );
        }
        write!(
            f,
            "{} user(s) change, {} unchanged",
            self.changed.len(),
            self.unchanged
        )?;
        for user in &self.changed {
            write!(f, "\n  {}:", user.user)?;
            for app in &user.gained {
                write!(f, " +{app}")?;
            }
            for app in &user.lost {
                write!(f, " -{app}")?;
            }
        }
        Ok(())
    }
}
