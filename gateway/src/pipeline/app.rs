//! An app's requests: identify the person, let the policy decide, and forward what it permits
//! with the identity headers; send someone not logged in to log in, refuse everyone else with
//! the page that names the app, and audit every refusal.

use super::body::ResponseBody;
use crate::handover;
use crate::policy::decide::{self, Verdict};
use crate::policy::engine::{RuleId, Subject};
use crate::policy::path::PolicyPath;
use crate::proxy::body::FromClient;
use crate::proxy::identity::Identity;
use crate::proxy::{self, headers::ClientSide};
use crate::route::RequestHost;
use crate::state::{AppRuntime, Shared, Snapshot};
use crate::telemetry::audit::{self, AuditContext, AuditEvent};
use crate::telemetry::error_chain;
use crate::telemetry::metrics::DecisionResult;
use crate::visitor;
use crate::web::context::RequestContext;
use crate::web::error::GatewayError;
use crate::web::url::{port_suffix, request_url};
use http::{Request, Response};

/// A request routed to an app: which app, for which host, judged on which path.
pub struct AppRequest<'a> {
    /// The app's index in the snapshot (the policy uses the same).
    pub index: usize,
    /// The app.
    pub app: &'a AppRuntime,
    /// The host the request was routed by, and the authority the app receives.
    pub host: RequestHost,
    /// The path the policy judges.
    pub judged: PolicyPath,
}

/// An app: identify → decide → proxy.
pub async fn app_host<B: FromClient>(
    shared: &Shared,
    snapshot: &Snapshot,
    ctx: &RequestContext,
    target: &AppRequest<'_>,
    req: Request<B>,
) -> Result<Response<ResponseBody>, GatewayError> {
    let (app, host) = (target.app, target.host.name.as_str());
    ctx.learned_app(&app.app.name);
    let visitor = visitor::identify(
        &shared.sessions,
        req.headers(),
        snapshot.config.portal.cookie_domain.is_some(),
        ctx.now,
    )
    .await?;
    if let Some(visitor) = &visitor {
        ctx.learned_subject(&visitor.session.subject);
    }
    let prepared = visitor
        .as_ref()
        .map(|v| shared.prepared.get(&v.session, &snapshot.policy));
    let session = prepared.as_deref().map(|p| &*p.session);
    let anonymous = Subject::anonymous();
    let subject = prepared.as_deref().map_or(&anonymous, |p| &p.subject);
    let verdict = decide::decide(
        &snapshot.policy,
        subject,
        target.index,
        ctx.peer.ip(),
        &target.judged,
        req,
    );
    let permitted = match verdict {
        Verdict::Permit(permitted, _) => {
            app.decisions.record(DecisionResult::Allow);
            ctx.learned_decision(DecisionResult::Allow.label());
            permitted
        }
        Verdict::Refuse(refusal, req) => {
            // Someone not logged in may be sent to log in: their browser's hand-over cookie.
            let handover = visitor
                .is_none()
                .then(|| handover::binding::nonce(req.headers()))
                .flatten();
            app.decisions.record(refusal.result());
            ctx.learned_decision(refusal.result().label());
            log_refusal(snapshot, ctx, &app.app.name, session, refusal);
            return Err(refused(
                snapshot,
                ctx,
                app,
                host,
                session,
                refusal,
                handover.as_deref(),
            ));
        }
    };
    let client = ClientSide {
        peer: ctx.peer.ip(),
        trusted: snapshot.trusts(ctx.peer.ip()),
        host,
        request_id: &ctx.request_id,
    };
    let assertion =
        session.and_then(|s| assertion_for(shared, snapshot, ctx, app, target.index, s));
    let person = prepared.as_deref().map(|p| Identity {
        values: &p.values,
        assertion: assertion.as_deref(),
    });
    match proxy::forward(&app.proxy, permitted, client, person, &shared.tasks).await {
        Ok(response) => Ok(response.map(ResponseBody::upstream)),
        Err(err) => {
            if err.upstream_kind().is_some() {
                tracing::warn!(error = %error_chain(&err), "upstream error");
            }
            Err(GatewayError::Proxy(err))
        }
    }
}

/// The signed assertion for an app that asks for one. A signing failure is logged and the
/// assertion left out: the app then refuses the request, as it must.
fn assertion_for(
    shared: &Shared,
    snapshot: &Snapshot,
    ctx: &RequestContext,
    app: &AppRuntime,
    app_index: usize,
    session: &pforte_session::Session,
) -> Option<String> {
    app.app.identity_headers.assertion.as_ref()?;
    let keys = snapshot.keys.as_deref()?;
    let now = ctx.now.unix_secs();
    match shared.assertions.get(
        keys,
        &snapshot.issuer,
        &app.app.name,
        app_index,
        session,
        now,
    ) {
        Ok(token) => Some(token),
        Err(e) => {
            tracing::error!(error = %e, "cannot sign the assertion");
            None
        }
    }
}

/// What a refused request gets: someone not logged in is sent to log in (a browser by redirect,
/// with its hand-over binding; an API client with 401); everyone else gets the 403 page naming
/// the app (and them). `handover` is the browser's hand-over cookie, if it has one.
fn refused(
    snapshot: &Snapshot,
    ctx: &RequestContext,
    app: &AppRuntime,
    host: &str,
    session: Option<&pforte_session::Session>,
    refusal: decide::Refusal,
    handover: Option<&str>,
) -> GatewayError {
    if refusal == decide::Refusal::LoginRequired {
        if ctx.wants_redirect {
            let port = port_suffix(snapshot.config.server.public_https_port);
            let back = request_url(host, &port, &ctx.uri);
            let (binding, cookie) = handover::binding::start(handover);
            return GatewayError::LoginRedirect {
                location: handover::login_url(
                    &snapshot.config.portal_host,
                    &port,
                    &back,
                    Some(&binding),
                ),
                cookie,
            };
        }
        return GatewayError::Unauthenticated;
    }
    GatewayError::Refused {
        app: app.app.display_name.clone(),
        user: session.map(|s| s.display_name.clone()),
        refusal,
    }
}

/// Every refusal goes to the audit log with the rule that refused (file:line) or the absence of
/// one.
fn log_refusal(
    snapshot: &Snapshot,
    ctx: &RequestContext,
    app: &str,
    session: Option<&pforte_session::Session>,
    refusal: decide::Refusal,
) {
    let rule = |id: RuleId| {
        snapshot
            .policy
            .rule_origin(id)
            .map_or_else(|| "unknown rule".to_string(), ToString::to_string)
    };
    let (decision, because) = match refusal {
        decide::Refusal::Denied(Some(id)) => ("deny", rule(id)),
        decide::Refusal::Denied(None) => ("deny", "no rule allows it (default deny)".to_string()),
        decide::Refusal::LoginRequired => (
            "login_required",
            "an allow rule needs a logged-in person".to_string(),
        ),
        decide::Refusal::StepUpRequired(login) => (
            "step_up_required",
            format!("an allow rule needs login = {login}"),
        ),
    };
    audit::record(
        AuditContext {
            request_id: &ctx.request_id,
            source: Some(ctx.peer.ip()),
        },
        AuditEvent::AccessDenied {
            subject: session.map(|s| s.subject.as_str()),
            app,
            method: ctx.method.as_str(),
            path: &ctx.path,
            decision,
            rule: &because,
        },
    );
}
