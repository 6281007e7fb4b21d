//! Pforte's access policy: who may use which app, read from TOML files an admin keeps in
//! Git, compiled into tables that decide a request without allocating.
//!
//! ```text
//!                 load (off the request path, on start and reload)
//! policies/*.toml ──read_all──▶ resolve ──▶ lint (warnings)
//!                                  └──────▶ compile ──▶ Policy
//!
//!                 per session                 per request
//! user, groups ──▶ Policy::subject ──▶ Subject ──▶ Policy::decide(subject, AccessRequest) ──▶ Decision
//!                                                     ▲ path from normalise_path
//! ```
//!
//! The evaluation rule, in five lines (docs/policy.md has the examples):
//! 1. A rule applies when the request meets all its conditions and names the subject.
//! 2. If any deny rule applies, the request is denied.
//! 3. Otherwise, if any allow rule applies, it is allowed.
//! 4. Otherwise it is denied: no rule, no access.
//! 5. A denial becomes "log in" or "log in with MFA" when that would make an allow rule apply.
//!
//! This crate is pure: it reads its policy files and does nothing else, no network, no clock,
//! so the gateway, the admin CLI and the tests all run the very same decisions. The tools
//! behind `pforte-admin policy check|explain|diff` are here too ([`check()`], [`explain()`],
//! [`diff()`]), returning data with a human [`Display`](std::fmt::Display) and serde
//! `Serialize` for `--json`.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod apps;
mod check;
mod compile;
mod decide;
mod diff;
mod error;
mod explain;
mod file;
mod lint;
mod load;
mod method;
mod model;
mod normalise;
mod pattern;
mod policy;
mod portal;
mod resolve;
mod subject;
mod users;

pub use apps::AppSummary;
pub use check::{CheckReport, check};
pub use decide::{AccessRequest, Decision, RuleId};
pub use diff::{ANONYMOUS, DiffOptions, DiffReport, UserDiff, diff, openable};
pub use error::{Diagnostic, LoadErrors, Position, Severity};
pub use explain::{ExplainError, ExplainQuery, Explanation, RuleTrace, explain};
pub use method::AuthMethod;
pub use model::{Effect, LoginStrength, RuleOrigin, UnknownLoginStrength};
pub use normalise::{PathError, normalise_path, policy_view};
pub use policy::{Loaded, Policy, load};
pub use portal::PortalApp;
pub use subject::Subject;
pub use users::{UserGroups, load_users_file};
