//! The checked rule model: what a rule means, with names still as names.
//!
//! `resolve` builds it from the file structs; `compile` turns it into indexed tables for
//! `decide`; `explain` and the warnings in `lint` read it as it is, because it still says
//! everything in the words of the file.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::pattern::PathPattern;

/// How strongly a person has proved who they are. Ordered: `Password < Mfa`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoginStrength {
    /// A password (or any single factor).
    Password,
    /// A second factor on top of the first.
    Mfa,
}

impl LoginStrength {
    /// The spelling used in policy files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Mfa => "mfa",
        }
    }
}

impl fmt::Display for LoginStrength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a [`LoginStrength`] from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(r#"unknown login strength "{0}"; use "password" or "mfa""#)]
pub struct UnknownLoginStrength(pub String);

impl FromStr for LoginStrength {
    type Err = UnknownLoginStrength;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "password" => Ok(Self::Password),
            "mfa" => Ok(Self::Mfa),
            other => Err(UnknownLoginStrength(other.to_owned())),
        }
    }
}

/// Whether a rule grants or refuses access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// The rule is written `allow = [...]`.
    Allow,
    /// The rule is written `deny = [...]`.
    Deny,
}

/// Where a rule was written, for logs and tool output: `file:line`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleOrigin {
    /// The policy file.
    pub file: PathBuf,
    /// The line of the rule's first key.
    pub line: u32,
}

impl fmt::Display for RuleOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// Who a rule is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Subjects {
    /// `everyone`: anyone, logged in or not.
    pub(crate) everyone: bool,
    /// `authenticated`: anyone logged in.
    pub(crate) authenticated: bool,
    /// `group:NAME` entries.
    pub(crate) groups: Vec<String>,
    /// `user:NAME` entries.
    pub(crate) users: Vec<String>,
}

impl Subjects {
    /// Whether the list names nobody (`allow = []`).
    pub(crate) fn is_empty(&self) -> bool {
        !self.everyone && !self.authenticated && self.groups.is_empty() && self.users.is_empty()
    }

    /// Whether this list names a subject: someone logged in (`Some(user, groups)`) or not.
    pub(crate) fn names(&self, who: Option<(&str, &[String])>) -> bool {
        self.everyone
            || who.is_some_and(|(user, groups)| {
                self.authenticated
                    || self.users.iter().any(|u| u == user)
                    || self.groups.iter().any(|g| groups.contains(g))
            })
    }

    /// Whether everyone this list's `other` names is also named here.
    pub(crate) fn covers(&self, other: &Self) -> bool {
        if self.everyone {
            return true;
        }
        if other.everyone {
            return false;
        }
        if self.authenticated {
            return true;
        }
        !other.authenticated
            && other.groups.iter().all(|g| self.groups.contains(g))
            && other.users.iter().all(|u| self.users.contains(u))
    }
}

impl fmt::Display for Subjects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<String> = Vec::new();
        if self.everyone {
            names.push("everyone".into());
        }
        if self.authenticated {
            names.push("authenticated".into());
        }
        names.extend(self.groups.iter().map(|g| format!("group:{g}")));
        names.extend(self.users.iter().map(|u| format!("user:{u}")));
        write!(f, "{}", names.join(", "))
    }
}

/// Which apps a rule is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AppSet {
    /// `apps = ["*"]`.
    All,
    /// Indexes into the app list, of the known names only (unknown ones are warned about).
    Some(Vec<usize>),
}

impl AppSet {
    /// Whether this set holds the app at `index`.
    pub(crate) fn contains(&self, index: usize) -> bool {
        match self {
            Self::All => true,
            Self::Some(list) => list.contains(&index),
        }
    }

    /// Whether every app of `other` is in this set.
    pub(crate) fn covers(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::All, _) => true,
            (Self::Some(_), Self::All) => false,
            (Self::Some(mine), Self::Some(theirs)) => theirs.iter().all(|a| mine.contains(a)),
        }
    }
}

/// A source-network condition: the entries as written, and the address ranges they mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sources {
    /// `from` as written (network set names and ranges), for explanations.
    pub(crate) written: Vec<String>,
    /// Every range, network sets expanded.
    pub(crate) nets: Vec<IpNet>,
}

/// One checked rule. Absent conditions (`None`) hold for every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    /// Allow or deny.
    pub(crate) effect: Effect,
    /// The apps it is about.
    pub(crate) apps: AppSet,
    /// The subjects it allows or denies.
    pub(crate) subjects: Subjects,
    /// The subjects a deny rule spares (`except`); empty for allow rules.
    pub(crate) except: Subjects,
    /// Path patterns; `None` means every path.
    pub(crate) paths: Option<Vec<PathPattern>>,
    /// Upper-case methods; `None` means every method.
    pub(crate) methods: Option<Vec<String>>,
    /// Source networks; `None` means from anywhere.
    pub(crate) from: Option<Sources>,
    /// The weakest accepted login (allow rules only).
    pub(crate) login: Option<LoginStrength>,
    /// Where it was written.
    pub(crate) origin: RuleOrigin,
}

impl Rule {
    /// Whether `other` is this rule written elsewhere: everything but the origin is equal.
    pub(crate) fn same_conditions(&self, other: &Rule) -> bool {
        let Rule {
            effect,
            apps,
            subjects,
            except,
            paths,
            methods,
            from,
            login,
            origin: _,
        } = self;
        *effect == other.effect
            && *apps == other.apps
            && *subjects == other.subjects
            && *except == other.except
            && *paths == other.paths
            && *methods == other.methods
            && *from == other.from
            && *login == other.login
    }
}

/// The conditions that depend on the request rather than on the subject.
impl Rule {
    /// Whether the path condition holds.
    pub(crate) fn path_holds(&self, path: &str) -> bool {
        self.paths
            .as_ref()
            .is_none_or(|ps| ps.iter().any(|p| p.matches(path)))
    }

    /// Whether the method condition holds.
    pub(crate) fn method_holds(&self, method: &str) -> bool {
        self.methods
            .as_ref()
            .is_none_or(|ms| ms.iter().any(|m| m == method))
    }

    /// Whether the source-network condition holds (`source` already canonical).
    pub(crate) fn source_holds(&self, source: std::net::IpAddr) -> bool {
        self.from
            .as_ref()
            .is_none_or(|f| f.nets.iter().any(|n| n.contains(&source)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_strengths_are_ordered_and_parse() {
        assert!(LoginStrength::Password < LoginStrength::Mfa);
        assert_eq!("mfa".parse(), Ok(LoginStrength::Mfa));
        assert!("MFA".parse::<LoginStrength>().is_err());
    }

    #[test]
    fn subject_coverage() {
        let everyone = Subjects {
            everyone: true,
            ..Subjects::default()
        };
        let authenticated = Subjects {
            authenticated: true,
            ..Subjects::default()
        };
        let staff = Subjects {
            groups: vec!["staff".into()],
            ..Subjects::default()
        };
        assert!(everyone.covers(&authenticated));
        assert!(!authenticated.covers(&everyone));
        assert!(authenticated.covers(&staff));
        assert!(!staff.covers(&authenticated));
        assert!(staff.covers(&staff));
    }
}
