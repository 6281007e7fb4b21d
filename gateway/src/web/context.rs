//! The facts of one request that every stage may need, gathered once when its head arrives and
//! handed on to the access log when its response ends: among them the one reading of the clock
//! that every stage judges time by, and the request's tracing span, whose fields (request id,
//! app, subject, decision, status) the stages fill as they learn them, so every log line inside
//! the request carries them without anyone passing them on by hand.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use http::{Method, Request, StatusCode, Version};
use pforte_session::{Clock, Timestamp};
use tracing::field::Empty;

use crate::proxy::headers;
use crate::telemetry::access::AccessRecord;
use crate::telemetry::activity::InFlight;
use crate::telemetry::audit::AuditContext;
use crate::telemetry::metrics::RouteMetrics;

/// One request on its way through the gateway.
pub struct RequestContext {
    /// The id that ties the access log, the upstream's log and the client's report together.
    pub request_id: String,
    /// When the head arrived.
    pub started: Instant,
    /// Request method.
    pub method: Method,
    /// HTTP version the client spoke.
    pub version: Version,
    /// Request path, without the query.
    pub path: String,
    /// The peer that sent it.
    pub peer: SocketAddr,
    /// The target as sent (for the return URL after a login).
    pub uri: http::Uri,
    /// A browser (redirect it to log in) rather than an API client (answer 401): no
    /// `Authorization` header and not asking for JSON.
    pub wants_redirect: bool,
    /// The browser's `Accept-Language`, kept for the language of an error page: the request
    /// itself has moved on (to the app) by the time a stage fails.
    pub accept_language: Option<http::HeaderValue>,
    /// When the request arrived, read once: every stage judges expiry and login times by it.
    pub now: Timestamp,
    /// The request's span; enter it (or instrument with it) for everything done for the request.
    pub span: tracing::Span,
    /// Who is asking, once known: the access log line names them even when the span is off
    /// (a filter such as `warn,pforte::access=info`).
    subject: Mutex<Option<String>>,
}

impl RequestContext {
    /// Where audit events of this request come from: its id and the client's address.
    pub fn audit(&self) -> AuditContext<'_> {
        AuditContext {
            request_id: &self.request_id,
            source: Some(self.peer.ip()),
        }
    }

    /// Gathers the facts from the request head, reading `clock` once.
    pub fn new<B>(req: &Request<B>, peer: SocketAddr, clock: &Clock) -> Self {
        let request_id = headers::request_id(req.headers());
        let span = tracing::info_span!(
            "request",
            request_id = %request_id,
            app = Empty,
            subject = Empty,
            decision = Empty,
            status = Empty,
        );
        Self {
            request_id,
            started: clock.instant(),
            method: req.method().clone(),
            version: req.version(),
            path: req.uri().path().to_string(),
            peer,
            uri: req.uri().clone(),
            wants_redirect: wants_redirect(req.headers()),
            accept_language: req.headers().get(http::header::ACCEPT_LANGUAGE).cloned(),
            now: clock.now(),
            span,
            subject: Mutex::new(None),
        }
    }

    /// The browser's `Accept-Language`, when it is text.
    pub fn accept_language(&self) -> Option<&str> {
        self.accept_language.as_ref().and_then(|v| v.to_str().ok())
    }

    /// The app the request was routed to, for every later log line.
    pub fn learned_app(&self, app: &str) {
        self.span.record("app", app);
    }

    /// Who is asking (the subject of their session: the directory's stable id, never a
    /// credential), for every later log line and the access log line.
    pub fn learned_subject(&self, subject: &str) {
        self.span.record("subject", subject);
        *self.subject.lock().unwrap_or_else(PoisonError::into_inner) = Some(subject.to_owned());
    }

    /// What the policy decided (`allow`, `deny`, `login_required`, `step_up_required`).
    pub fn learned_decision(&self, decision: &str) {
        self.span.record("decision", decision);
    }

    /// The status the request is answered with.
    pub fn answered(&self, status: StatusCode) {
        self.span.record("status", status.as_u16());
    }

    /// The access record written when the response to this request ends.
    pub fn into_record(
        self,
        route: Arc<RouteMetrics>,
        status: StatusCode,
        in_flight: InFlight,
    ) -> AccessRecord {
        let subject = self
            .subject
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        AccessRecord {
            started: self.started,
            request_id: self.request_id,
            subject,
            route,
            method: self.method,
            path: self.path,
            version: self.version,
            status,
            peer: self.peer.ip(),
            in_flight,
        }
    }
}

/// Browsers get sent to the login page; API clients (an `Authorization` header, or JSON asked
/// for) get a 401 they can act on.
fn wants_redirect(headers: &http::HeaderMap) -> bool {
    if headers.contains_key(http::header::AUTHORIZATION) {
        return false;
    }
    !headers
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/json"))
}
