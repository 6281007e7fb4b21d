//! The decision: one request, one subject, one answer, no allocation.
//!
//! The evaluation rule (docs/policy.md explains it with examples):
//! 1. A rule applies when the request meets all its conditions and names the subject.
//! 2. If any deny rule applies, the request is denied.
//! 3. Otherwise, if any allow rule applies, it is allowed.
//! 4. Otherwise it is denied (default deny), unless logging in, or logging in more
//!    strongly, would make an allow rule apply: then login or step-up is required.

use std::net::IpAddr;

use serde::Serialize;

use crate::compile::{Compiled, SubjectIds};
use crate::model::LoginStrength;
use crate::policy::Policy;
use crate::subject::{ById, ByName, Membership, Nobody, Subject};

/// A rule's number: its position in reading order. [`Policy::rule_origin`] tells where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct RuleId(u32);

impl RuleId {
    pub(crate) fn from_index(index: usize) -> Self {
        Self(u32::try_from(index).unwrap_or(u32::MAX))
    }

    /// The position of the rule in reading order (entry file first, then includes).
    pub fn index(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

/// One request, as the gateway sees it after routing.
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    /// The app's index in the list the policy was loaded with.
    pub app: usize,
    /// The request path, normalised by [`normalise_path`](crate::normalise_path), without query.
    pub path: &'a str,
    /// The HTTP method, upper-case as sent.
    pub method: &'a str,
    /// The client's address (IPv4-mapped IPv6 addresses are treated as IPv4).
    pub source: IpAddr,
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// An allow rule applies and no deny rule does.
    Allow {
        /// The first allow rule (in reading order) that applies.
        rule: RuleId,
    },
    /// A deny rule applies, or no rule does.
    Deny {
        /// The first deny rule that applies; `None` when no rule applied (default deny).
        rule: Option<RuleId>,
    },
    /// Not logged in, but an allow rule would apply to someone logged in: send to login.
    LoginRequired,
    /// Logged in, but an allow rule asks for a stronger login than this one.
    StepUpRequired {
        /// The weakest login that would do.
        login: LoginStrength,
    },
}

impl Policy {
    /// Decides one request. Allocation-free; a subject interned for another policy is
    /// still decided correctly, by name.
    pub fn decide(&self, subject: &Subject, req: &AccessRequest<'_>) -> Decision {
        match &subject.identity {
            None => self.decide_with(&Nobody, req),
            Some(id) if id.stamp == self.stamp => self.decide_with(&ById(id), req),
            Some(id) => self.decide_with(&ByName(id, self), req),
        }
    }

    fn decide_with<M: Membership>(&self, who: &M, req: &AccessRequest<'_>) -> Decision {
        let Some(table) = self.tables.apps.get(req.app) else {
            return Decision::Deny { rule: None };
        };
        let source = req.source.to_canonical();
        let logged_in = who.login().is_some();
        // A deny with `except` may stop applying once someone logs in: for someone not
        // logged in it decides only if no allow rule could apply after login.
        let mut escapable_deny = None;
        for rule in table.deny.iter().filter(|r| holds(r, req, source)) {
            if names(&rule.subjects, who) && !names(&rule.except, who) {
                if logged_in || !rule.except.names_someone_logged_in() {
                    return Decision::Deny {
                        rule: Some(rule.id),
                    };
                }
                escapable_deny.get_or_insert(rule.id);
            }
        }
        let mut fallback = Decision::Deny {
            rule: escapable_deny,
        };
        for rule in table.allow.iter().filter(|r| holds(r, req, source)) {
            match who.login() {
                None if rule.subjects.everyone && escapable_deny.is_none() => {
                    return Decision::Allow { rule: rule.id };
                }
                None if rule.subjects.names_someone_logged_in() => {
                    fallback = Decision::LoginRequired
                }
                None => {}
                Some(login) if names(&rule.subjects, who) => match rule.login {
                    Some(needed) if needed > login => fallback = weaker_step_up(fallback, needed),
                    _ => return Decision::Allow { rule: rule.id },
                },
                Some(_) => {}
            }
        }
        fallback
    }
}

/// Whether a subject list names this subject.
fn names<M: Membership>(list: &SubjectIds, who: &M) -> bool {
    list.everyone
        || (who.login().is_some()
            && (list.authenticated
                || list.users.iter().any(|&u| who.is_user(u))
                || list.groups.iter().any(|&g| who.in_group(g))))
}

/// Keeps the weakest step-up asked for so far.
fn weaker_step_up(current: Decision, needed: LoginStrength) -> Decision {
    match current {
        Decision::StepUpRequired { login } if login <= needed => current,
        _ => Decision::StepUpRequired { login: needed },
    }
}

/// Whether the request-side conditions hold: method, source, path (cheapest first).
fn holds(rule: &Compiled, req: &AccessRequest<'_>, source: IpAddr) -> bool {
    (rule.methods.is_empty() || rule.methods.iter().any(|m| **m == *req.method))
        && (rule.nets.is_empty() || rule.nets.iter().any(|n| n.contains(&source)))
        && (rule.paths.is_empty() || rule.paths.iter().any(|p| p.matches(req.path)))
}
