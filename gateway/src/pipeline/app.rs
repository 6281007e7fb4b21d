//! An app's requests: identify the person, let the policy decide, and forward what it permits
//! with the identity headers; send someone not logged in to log in, refuse everyone else with
//! the page that names the app, and audit every refusal.

use super::body::ResponseBody;
use crate::handover;
use crate::policy::decide::{self, Verdict};
use crate::policy::engine::Subject;
use crate::policy::path::PolicyPath;
use crate::proxy::body::FromClient;
use crate::proxy::identity::Identity;
use crate::proxy::{self, headers::ClientSide};
use crate::route::RequestHost;
use crate::state::{AppRuntime, Shared, Snapshot};
use crate::telemetry::audit::{self, AuditEvent};
use crate::telemetry::error_chain;
use crate::telemetry::metrics::DecisionResult;
use crate::visitor::{self, Prepared};
use crate::web::context::RequestContext;
use crate::web::error::GatewayError;
use crate::web::url::{port_suffix, request_url};
use std::sync::Arc;

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

/// An app request on its way: the state and snapshot it is judged with, its facts, the app it
/// was routed to, and what the stages learn (who is asking). The one context every stage of an
/// app request reads; what it learns also goes into the request's span.
struct AppContext<'a> {
    shared: &'a Shared,
    snapshot: &'a Snapshot,
    ctx: &'a RequestContext,
    target: &'a AppRequest<'a>,
    /// Who is asking, once identified; `None` when nobody is logged in.
    person: Option<Arc<Prepared>>,
}

/// An app: identify → decide → proxy.
pub async fn app_host<B: FromClient>(
    shared: &Shared,
    snapshot: &Snapshot,
    ctx: &RequestContext,
    target: &AppRequest<'_>,
    req: Request<B>,
) -> Result<Response<ResponseBody>, GatewayError> {
    let mut here = AppContext {
        shared,
        snapshot,
        ctx,
        target,
        person: None,
    };
    ctx.learned_app(&target.app.app.name);
    here.identify(req.headers()).await?;
    let anonymous = Subject::anonymous();
    let subject = here.person.as_deref().map_or(&anonymous, |p| &p.subject);
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
            here.decided(DecisionResult::Allow);
            permitted
        }
        Verdict::Refuse(refusal, req) => {
            here.decided(refusal.result());
            here.log_refusal(refusal);
            // Someone not logged in may be sent to log in: their browser's hand-over cookie.
            let handover = here
                .person
                .is_none()
                .then(|| handover::binding::nonce(req.headers()))
                .flatten();
            return Err(here.refused(refusal, handover.as_deref()));
        }
    };
    let client = ClientSide {
        peer: ctx.peer.ip(),
        trusted: snapshot.trusts(ctx.peer.ip()),
        host: &target.host.name,
        request_id: &ctx.request_id,
    };
    let assertion = here.assertion();
    let person = here.person.as_deref().map(|p| Identity {
        values: &p.values,
        assertion: assertion.as_deref(),
    });
    let app = target.app;
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

impl AppContext<'_> {
    /// Who is asking: the session the request's cookie names, prepared for the policy.
    async fn identify(&mut self, headers: &http::HeaderMap) -> Result<(), GatewayError> {
        let domain_cookie = self.snapshot.config.portal.cookie_domain.is_some();
        let refresher = self.shared.refresher(self.snapshot, self.ctx.audit());
        let found = visitor::identify(&refresher, headers, domain_cookie, self.ctx.now).await?;
        if let Some(visitor) = found {
            self.ctx.learned_subject(&visitor.session.subject);
            self.person = Some(
                self.shared
                    .prepared
                    .get(&visitor.session, &self.snapshot.policy),
            );
        }
        Ok(())
    }

    /// Records the decision in the app's metrics and the request's span.
    fn decided(&self, result: DecisionResult) {
        self.target.app.decisions.record(result);
        self.ctx.learned_decision(result.label());
    }

    fn session(&self) -> Option<&pforte_session::Session> {
        self.person.as_deref().map(|p| &*p.session)
    }

    /// The signed assertion for an app that asks for one. A signing failure is logged and the
    /// assertion left out: the app then refuses the request, as it must.
    fn assertion(&self) -> Option<String> {
        let app = self.target.app;
        app.app.identity_headers.assertion.as_ref()?;
        let session = self.session()?;
        let keys = self.snapshot.keys.as_deref()?;
        let now = self.ctx.now.unix_secs();
        let issuer = &self.snapshot.issuer;
        let index = self.target.index;
        match self
            .shared
            .assertions
            .get(keys, issuer, &app.app.name, index, session, now)
        {
            Ok(token) => Some(token),
            Err(e) => {
                tracing::error!(error = %e, "cannot sign the assertion");
                None
            }
        }
    }

    /// What a refused request gets: someone not logged in is sent to log in (a browser by
    /// redirect, with its hand-over binding; an API client with 401); a browser whose session
    /// is too weak is sent to the login host's step-up page; everyone else gets the 403 page
    /// naming the app (and them). `handover` is the browser's hand-over cookie, if any.
    fn refused(&self, refusal: decide::Refusal, handover: Option<&str>) -> GatewayError {
        let (snapshot, ctx) = (self.snapshot, self.ctx);
        if refusal == decide::Refusal::LoginRequired {
            if ctx.wants_redirect {
                let port = port_suffix(snapshot.config.server.public_https_port);
                let back = request_url(&self.target.host.name, &port, &ctx.uri);
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
        if let decide::Refusal::StepUpRequired(_) = refusal
            && self.person.is_some()
            && ctx.wants_redirect
            && snapshot.config.mfa.is_some()
        {
            let port = port_suffix(snapshot.config.server.public_https_port);
            let back = request_url(&self.target.host.name, &port, &ctx.uri);
            return GatewayError::LoginRedirect {
                location: handover::step_up_url(&snapshot.config.portal_host, &port, &back),
                cookie: None,
            };
        }
        GatewayError::Refused {
            app: self.target.app.app.display_name.clone(),
            user: self.session().map(|s| s.display_name.clone()),
            refusal,
        }
    }

    /// Every refusal goes to the audit log with the rule that refused (file:line) or the
    /// absence of one.
    fn log_refusal(&self, refusal: decide::Refusal) {
        let (snapshot, ctx) = (self.snapshot, self.ctx);
        let (decision, because) = refusal.explain(&snapshot.policy);
        audit::record(
            ctx.audit(),
            AuditEvent::AccessDenied {
                subject: self.session().map(|s| s.subject.as_str()),
                app: &self.target.app.app.name,
                method: ctx.method.as_str(),
                path: &ctx.path,
                decision,
                rule: &because,
            },
        );
    }
}
