//! Whether a person may have tokens for a client's app now: the app's current access rules, as
//! a plain visit to the app's start page, for the person as their session holds them (re-read
//! from the directory when due). Authorization asks it with the visitor's address; the token
//! endpoints (code, refresh), userinfo and introspection ask it with the address the person
//! logged in from, since the caller there is the client's server, not the person.
//!
//! Every grant and every refresh asks, so a person whom the rules or the directory no longer
//! allow gets nothing new; a refusal is audited with the rule that refused.

use std::net::IpAddr;
use std::sync::Arc;

use pforte_oidc::Client;
use pforte_session::{Session, Sid};

use super::provider::Provider;
use crate::directory_refresh::Current;
use crate::login_host::LoginHost;
use crate::policy::decide::Refusal;
use crate::policy::engine::AccessRequest;
use crate::telemetry::audit::{self, AuditEvent, OidcEvent};
use crate::web::error::GatewayError;

/// The SSO session named `sid` (a token's `sid` claim), as it may be used now: alive, with the
/// identity re-read from the directory when due. `None` when it has ended, also when the
/// directory no longer has the person (the refresh ends it then); a directory silent past the
/// grace is an error (the caller answers "try again later").
pub async fn live_session(
    host: &LoginHost<'_>,
    sid: &str,
) -> Result<Option<Arc<Session>>, GatewayError> {
    let Ok(sid) = Sid::parse(sid) else {
        return Ok(None);
    };
    let now = host.ctx.now;
    let Some(session) = host.shared.sessions.get_by_sid(&sid, now).await? else {
        return Ok(None);
    };
    let refresher = host.shared.refresher(host.snapshot, host.audit_context());
    Ok(match refresher.current(session, now).await? {
        Current::Live(session) => Some(session),
        Current::Ended => None,
    })
}

/// Why the person may not have tokens for the client's app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The client belongs to no app (any more): nobody may.
    NoApp,
    /// The app's rules refuse them (or want a stronger login).
    Rules(Refusal),
}

/// Asks the policy whether the person of `session`, coming from `source`, may use `client`'s
/// app.
pub fn check(
    host: &LoginHost<'_>,
    provider: &Provider,
    client: &Client,
    session: &Arc<Session>,
    source: IpAddr,
) -> Result<(), Refused> {
    let policy = &host.snapshot.policy;
    let Some((app, runtime)) = provider
        .app_of(client)
        .and_then(|app| Some((app, host.snapshot.apps.get(app)?)))
    else {
        return Err(Refused::NoApp);
    };
    let prepared = host.shared.prepared.get(session, policy);
    let asked = AccessRequest {
        app,
        path: &runtime.app.path_prefix,
        method: "GET",
        source,
    };
    Refusal::check(policy.decide(&prepared.subject, &asked))
        .map(|_| ())
        .map_err(Refused::Rules)
}

/// Audits a token refused because the rules refuse the person now; `what` says which request
/// ("refresh", "userinfo", "introspection", "code").
pub fn audit_refusal(
    host: &LoginHost<'_>,
    client: &str,
    subject: &str,
    what: &str,
    refused: Refused,
) {
    let because = match refused {
        Refused::NoApp => "the client belongs to no app".to_owned(),
        Refused::Rules(refusal) => {
            let (decision, rule) = refusal.explain(&host.snapshot.policy);
            format!("{decision}: {rule}")
        }
    };
    audit::record(
        host.audit_context(),
        AuditEvent::Oidc {
            event: OidcEvent::TokenRefused,
            client,
            subject: Some(subject),
            detail: &format!("{what} refused by the app's access rules ({because})"),
        },
    );
}
