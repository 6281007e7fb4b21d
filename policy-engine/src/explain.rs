//! `pforte-admin policy explain`: why a request is allowed or denied, in the words of the files.
//!
//! The decision itself comes from [`Policy::decide`], the very code the gateway runs; this
//! module only adds the account of each rule of the app: applies, or which condition failed.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::apps::route;
use crate::decide::{AccessRequest, Decision, RuleId};
use crate::model::{Effect, LoginStrength, Rule, RuleOrigin};
use crate::normalise::{PathError, normalise_path, policy_view};
use crate::policy::Policy;
use crate::subject::Subject;

/// The question: who asks for which URL, how, and from where.
#[derive(Debug, Clone)]
pub struct ExplainQuery {
    /// The user name; `None` asks for someone not logged in.
    pub user: Option<String>,
    /// The user's groups.
    pub groups: Vec<String>,
    /// How the user logged in (ignored when `user` is `None`).
    pub login: LoginStrength,
    /// The client address.
    pub source: IpAddr,
    /// The full URL, like `https://admin.localhost/settings` (the scheme may be left out).
    pub url: String,
    /// The HTTP method, like `GET`.
    pub method: String,
}

/// Why an explanation could not be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    /// The URL has no host.
    #[error("\"{0}\" is not a URL; write one like https://mail.localhost/inbox")]
    NotAUrl(String),
    /// No app is served on the URL's host (and path).
    #[error("no app is served at {host}{path}; the hosts are set in apps.toml")]
    NoApp {
        /// The URL's host.
        host: String,
        /// The URL's path.
        path: String,
    },
    /// The path would be refused by the gateway before any policy.
    #[error("the gateway refuses this path with 400 Bad Request: {0}")]
    BadPath(PathError),
}

/// The answer: the decision, the rule that made it, and how every rule of the app fared.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The method asked about.
    pub method: String,
    /// The URL asked about.
    pub url: String,
    /// The app serving it.
    pub app: String,
    /// The normalised path the policy saw.
    pub path: String,
    /// Who asked, in words.
    pub subject: String,
    /// The source address.
    pub source: IpAddr,
    /// The decision, exactly as the gateway would make it.
    pub decision: Decision,
    /// Where the rule that decided is written, if a rule decided.
    pub decided_by: Option<RuleOrigin>,
    /// Every rule about this app, in reading order.
    pub rules: Vec<RuleTrace>,
}

/// How one rule fared.
#[derive(Debug, Clone, Serialize)]
pub struct RuleTrace {
    /// The rule.
    pub rule: RuleId,
    /// Where it is written.
    pub origin: RuleOrigin,
    /// Allow or deny.
    pub effect: Effect,
    /// Its subjects, as written.
    pub subjects: String,
    /// The conditions that failed; empty when the rule applies.
    pub unmet: Vec<String>,
}

/// Explains how `policy` decides `query`.
pub fn explain(policy: &Policy, query: &ExplainQuery) -> Result<Explanation, ExplainError> {
    let (host, raw_path) =
        split_url(&query.url).ok_or_else(|| ExplainError::NotAUrl(query.url.clone()))?;
    let normal = normalise_path(raw_path).map_err(ExplainError::BadPath)?;
    let path = policy_view(&normal).into_owned();
    let app = route(&policy.apps, host, &path).ok_or_else(|| ExplainError::NoApp {
        host: host.to_owned(),
        path: path.clone(),
    })?;
    let subject = match &query.user {
        Some(user) => policy.subject(user, &query.groups, query.login),
        None => Subject::anonymous(),
    };
    let source = query.source.to_canonical();
    let req = AccessRequest {
        app,
        path: &path,
        method: &query.method,
        source,
    };
    let decision = policy.decide(&subject, &req);
    let decided_by = match decision {
        Decision::Allow { rule } | Decision::Deny { rule: Some(rule) } => {
            policy.rule_origin(rule).cloned()
        }
        _ => None,
    };
    let rules = policy
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.apps.contains(app))
        .map(|(i, r)| RuleTrace {
            rule: RuleId::from_index(i),
            origin: r.origin.clone(),
            effect: r.effect,
            subjects: if r.except.is_empty() {
                r.subjects.to_string()
            } else {
                format!("{} except {}", r.subjects, r.except)
            },
            unmet: unmet(r, query, &req),
        })
        .collect();
    Ok(Explanation {
        method: query.method.clone(),
        url: query.url.clone(),
        app: policy
            .apps
            .get(app)
            .map(|a| a.name.clone())
            .unwrap_or_default(),
        path,
        subject: describe(query),
        source,
        decision,
        decided_by,
        rules,
    })
}

/// The host (without port) and path (without query) of a URL; the scheme is optional.
fn split_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map(|(h, _)| h)?,
        None => authority.split(':').next().unwrap_or_default(),
    };
    (!host.is_empty()).then_some((host, path))
}

fn describe(query: &ExplainQuery) -> String {
    match &query.user {
        None => "not logged in".into(),
        Some(user) if query.groups.is_empty() => {
            format!("{user} (no groups; login: {})", query.login)
        }
        Some(user) => format!(
            "{user} (groups: {}; login: {})",
            query.groups.join(", "),
            query.login
        ),
    }
}

/// The conditions of `rule` that `query` does not meet, in words.
fn unmet(rule: &Rule, query: &ExplainQuery, req: &AccessRequest<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let who = query
        .user
        .as_deref()
        .map(|user| (user, query.groups.as_slice()));
    let called = if who.is_some() {
        "the user"
    } else {
        "someone not logged in"
    };
    if !rule.subjects.names(who) {
        out.push(format!("subject: {called} is not one of {}", rule.subjects));
    } else if rule.except.names(who) {
        out.push(format!("except: {called} is one of {}", rule.except));
    }
    if !rule.method_holds(req.method) {
        let methods = rule
            .methods
            .iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>();
        out.push(format!(
            "method: {} is not one of {}",
            req.method,
            methods.join(", ")
        ));
    }
    if !rule.source_holds(req.source) {
        let from = rule
            .from
            .iter()
            .flat_map(|f| f.written.iter().map(String::as_str))
            .collect::<Vec<_>>();
        out.push(format!(
            "from: {} is not in {}",
            req.source,
            from.join(", ")
        ));
    }
    if !rule.path_holds(req.path) {
        out.push(format!("path: {} is not under the rule's paths", req.path));
    }
    if let (Some(needed), Some(_)) = (rule.login, &query.user)
        && needed > query.login
    {
        out.push(format!("login: needs {needed}, has {}", query.login));
    }
    out
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {}", self.method, self.url)?;
        writeln!(f, "  app:      {} (path {})", self.app, self.path)?;
        writeln!(f, "  subject:  {}, from {}", self.subject, self.source)?;
        let decision = match self.decision {
            Decision::Allow { .. } => "allow".to_owned(),
            Decision::Deny { rule: Some(_) } => "deny".to_owned(),
            Decision::Deny { rule: None } => "deny (no rule applies: default deny)".to_owned(),
            Decision::LoginRequired => {
                "login required (an allow rule applies to people who log in)".to_owned()
            }
            Decision::StepUpRequired { login } => format!("step-up required (log in with {login})"),
        };
        write!(f, "  decision: {decision}")?;
        if let Some(origin) = &self.decided_by {
            write!(f, ", by the rule at {origin}")?;
        }
        writeln!(f)?;
        if self.rules.is_empty() {
            return write!(f, "  no rule mentions app {}", self.app);
        }
        write!(f, "  rules for app {}, in order:", self.app)?;
        for trace in &self.rules {
            let effect = match trace.effect {
                Effect::Allow => "allow",
                Effect::Deny => "deny",
            };
            write!(f, "\n    {}  {effect} {}: ", trace.origin, trace.subjects)?;
            if trace.unmet.is_empty() {
                write!(f, "applies")?;
            } else {
                write!(f, "does not apply ({})", trace.unmet.join("; "))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_and_path() {
        assert_eq!(
            split_url("https://mail.localhost/inbox?x=1"),
            Some(("mail.localhost", "/inbox"))
        );
        assert_eq!(
            split_url("mail.localhost:8443"),
            Some(("mail.localhost", ""))
        );
        assert_eq!(split_url("http://u@[::1]:80/a#f"), Some(("::1", "/a")));
        assert_eq!(split_url("https:///x"), None);
    }
}
