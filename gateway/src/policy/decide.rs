//! The one decision point: every request for an app passes here before it may be proxied, and
//! only a [`Permitted`] request can reach the proxy. The compiled policy decides; the type makes
//! it impossible to forward a request that skipped the decision.
//!
//! Until login exists a request carries no identity: the subject is anonymous, so only rules
//! that allow `everyone` can let it through.

use std::net::IpAddr;

use http::Request;

use super::path::PolicyPath;
use crate::policy::engine::{AccessRequest, Decision, LoginStrength, Policy, RuleId, Subject};
use crate::telemetry::metrics::DecisionResult;

/// A request that the decision point let through. Only this module can make one.
#[derive(Debug)]
pub struct Permitted<T>(T);

impl<T> Permitted<T> {
    /// The request, for the proxy.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// What the decision point says.
#[derive(Debug)]
pub enum Verdict<T> {
    /// Go ahead, under this rule.
    Permit(Permitted<T>, RuleId),
    /// Not this request, which comes back for the answer (a login redirect reads its cookies).
    Refuse(Refusal, T),
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A deny rule applies (`Some`), or no rule allows (`None`: default deny).
    Denied(Option<RuleId>),
    /// A rule would allow it to someone logged in.
    LoginRequired,
    /// A rule would allow it after a stronger login.
    StepUpRequired(LoginStrength),
}

impl Refusal {
    /// The rule a decision allows by, or its refusal.
    pub fn check(decision: Decision) -> Result<RuleId, Self> {
        match decision {
            Decision::Allow { rule } => Ok(rule),
            Decision::Deny { rule } => Err(Self::Denied(rule)),
            Decision::LoginRequired => Err(Self::LoginRequired),
            Decision::StepUpRequired { login } => Err(Self::StepUpRequired(login)),
        }
    }

    /// The audit log's words for it: the decision (`deny`, `login_required`,
    /// `step_up_required`) and the rule that refused (file:line of `policy`) or why none
    /// decided, so an operator finds the line to change.
    pub fn explain(self, policy: &Policy) -> (&'static str, String) {
        let rule = |id: RuleId| {
            policy
                .rule_origin(id)
                .map_or_else(|| "unknown rule".to_string(), ToString::to_string)
        };
        match self {
            Self::Denied(Some(id)) => ("deny", rule(id)),
            Self::Denied(None) => ("deny", "no rule allows it (default deny)".to_string()),
            Self::LoginRequired => (
                "login_required",
                "an allow rule needs a logged-in person".to_string(),
            ),
            Self::StepUpRequired(login) => (
                "step_up_required",
                format!("an allow rule needs login = {login}"),
            ),
        }
    }

    /// The metric label of this refusal.
    pub fn result(self) -> DecisionResult {
        match self {
            Self::Denied(_) => DecisionResult::Deny,
            Self::LoginRequired => DecisionResult::LoginRequired,
            Self::StepUpRequired(_) => DecisionResult::StepUpRequired,
        }
    }
}

/// Decides whether `req` (whose path is already normalised, and judged as `path` says) for the
/// app at `app` may pass for `subject` coming from `source`. Allocation-free.
pub fn decide<B>(
    policy: &Policy,
    subject: &Subject,
    app: usize,
    source: IpAddr,
    path: &PolicyPath,
    req: Request<B>,
) -> Verdict<Request<B>> {
    let access = AccessRequest {
        app,
        path: path.of(req.uri().path()),
        method: req.method().as_str(),
        source,
    };
    match Refusal::check(policy.decide(subject, &access)) {
        Ok(rule) => Verdict::Permit(Permitted(req), rule),
        Err(refusal) => Verdict::Refuse(refusal, req),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::apps;
    use std::net::Ipv4Addr;
    use std::path::Path;

    fn demo_policy() -> (Policy, Vec<crate::config::App>) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
        let apps = apps::load(&root.join("apps.toml")).unwrap();
        let policy = crate::policy::load(&root.join("policy.toml"), &apps)
            .unwrap()
            .policy;
        (policy, apps)
    }

    fn index(apps: &[crate::config::App], name: &str) -> usize {
        apps.iter().position(|a| a.name == name).unwrap()
    }

    const OUTSIDE: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));

    #[test]
    fn anonymous_requests_pass_only_public_rules() {
        let (policy, apps) = demo_policy();
        let anonymous = Subject::anonymous();
        let mail = index(&apps, "mail");
        let public = Request::get("/.well-known/security.txt").body(()).unwrap();
        assert!(matches!(
            decide(
                &policy,
                &anonymous,
                mail,
                OUTSIDE,
                &PolicyPath::default(),
                public
            ),
            Verdict::Permit(..)
        ));
        let inbox = Request::get("/inbox").body(()).unwrap();
        assert!(matches!(
            decide(
                &policy,
                &anonymous,
                mail,
                OUTSIDE,
                &PolicyPath::default(),
                inbox
            ),
            Verdict::Refuse(Refusal::LoginRequired, _)
        ));
    }

    #[test]
    fn groups_and_login_strength_decide_for_people() {
        let (policy, apps) = demo_policy();
        let bob = policy.subject("bob", &["partners".into()], LoginStrength::Password);
        let get = |path: &str| Request::get(path).body(()).unwrap();
        assert!(matches!(
            decide(
                &policy,
                &bob,
                index(&apps, "video"),
                OUTSIDE,
                &PolicyPath::default(),
                get("/")
            ),
            Verdict::Permit(..)
        ));
        assert!(matches!(
            decide(
                &policy,
                &bob,
                index(&apps, "mail"),
                OUTSIDE,
                &PolicyPath::default(),
                get("/")
            ),
            Verdict::Refuse(Refusal::Denied(_), _)
        ));
        let alice = policy.subject(
            "alice",
            &["staff".into(), "admins".into()],
            LoginStrength::Password,
        );
        let inside = IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3));
        assert!(matches!(
            decide(
                &policy,
                &alice,
                index(&apps, "admin"),
                inside,
                &PolicyPath::default(),
                get("/")
            ),
            Verdict::Refuse(Refusal::StepUpRequired(LoginStrength::Mfa), _)
        ));
        assert_eq!(
            Refusal::StepUpRequired(LoginStrength::Mfa).result(),
            DecisionResult::StepUpRequired
        );
    }
}
