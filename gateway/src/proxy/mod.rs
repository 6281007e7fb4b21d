//! Forwarding a permitted request to its app's upstream and the answer back: rewrite headers,
//! pick an upstream, stream the body both ways, join upgraded connections, and classify failures
//! so the client gets a 502, 504 or 413 rather than a hang.

pub mod assertion;
pub mod body;
pub mod client;
pub mod connect;
pub mod headers;
pub mod identity;
pub mod pool;
pub mod protected;
pub mod upgrade;
pub mod upstream;

use http::uri::PathAndQuery;
use http::{Request, Response, StatusCode, Uri};
use hyper::body::{Body, Incoming};
use tokio_util::task::TaskTracker;

use crate::policy::decide::Permitted;
use crate::telemetry::metrics::{UpstreamErrorKind, UpstreamErrors};
use body::{ClientFault, FaultCell, RequestBody};
use headers::ClientSide;
use upstream::{Upstream, UpstreamSet};

/// Why forwarding failed.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// No upstream accepted a connection.
    #[error("cannot connect to an upstream: {0}")]
    Connect(String),
    /// The upstream did not start its answer in time.
    #[error("upstream did not answer within {0:?}")]
    Timeout(std::time::Duration),
    /// The exchange broke off or the answer was not valid HTTP.
    #[error("upstream exchange failed: {0}")]
    Protocol(String),
    /// The request body was larger than the app accepts.
    #[error("request body over the limit of {0} bytes")]
    BodyTooLarge(u64),
    /// The client's request body broke off or was malformed (a bad chunk, a length that does
    /// not match): the client's fault, answered 400, never counted against the upstream.
    #[error("malformed request body: {0}")]
    ClientBody(String),
}

impl ProxyError {
    /// The metric label of this failure, when it is the upstream's fault.
    pub fn upstream_kind(&self) -> Option<UpstreamErrorKind> {
        match self {
            Self::Connect(_) => Some(UpstreamErrorKind::Connect),
            Self::Timeout(_) => Some(UpstreamErrorKind::Timeout),
            Self::Protocol(_) => Some(UpstreamErrorKind::Protocol),
            Self::BodyTooLarge(_) | Self::ClientBody(_) => None,
        }
    }
}

/// Everything about an app the proxy needs.
pub struct AppProxy {
    /// The app's name, for logs and metrics.
    pub name: String,
    /// Its upstreams.
    pub upstreams: UpstreamSet,
    /// Time an upstream has to start its answer.
    pub response_timeout: std::time::Duration,
    /// Largest request body.
    pub max_body_bytes: u64,
    /// Failed exchanges, by kind.
    pub errors: UpstreamErrors,
    /// The names of the identity headers the app receives.
    pub identity_headers: identity::IdentityHeaders,
    /// The client headers that never reach the app.
    pub guard: protected::HeaderGuard,
}

/// Forwards `req` to one of the app's upstreams and returns the upstream's answer, headers
/// cleaned, body still streaming. Every failed attempt is metered, also one a retry recovered.
/// The app learns who the person is only from `person`'s identity headers: client copies of
/// them and Pforte's cookies are always removed.
pub async fn forward(
    app: &AppProxy,
    req: Permitted<Request<Incoming>>,
    client: ClientSide<'_>,
    person: Option<identity::Identity<'_>>,
    tasks: &TaskTracker,
) -> Result<Response<Incoming>, ProxyError> {
    let mut req = req.into_inner();
    if req.body().size_hint().lower() > app.max_body_bytes {
        return Err(ProxyError::BodyTooLarge(app.max_body_bytes));
    }
    // Hop-by-hop headers first: whatever `Connection` names can then no longer remove a header
    // Pforte sets below (the trick of CVE-2022-1388).
    let client_upgrade = headers::strip_hop_by_hop(req.headers_mut());
    let on_client_upgrade = client_upgrade
        .is_some()
        .then(|| hyper::upgrade::on(&mut req));
    identity::strip(req.headers_mut(), &app.guard, client.trusted);
    if let Some(person) = person {
        identity::set(req.headers_mut(), &app.identity_headers, person);
    }
    if let Some(upgrade) = &client_upgrade {
        headers::restore_upgrade(req.headers_mut(), upgrade.clone());
    }
    headers::set_forwarding(req.headers_mut(), client);
    req.headers_mut()
        .insert(http::header::HOST, client.authority.clone());
    // A request without a body can be sent again to the next upstream when a connect fails;
    // only then is a copy of its head kept.
    let replayable = req.body().is_end_stream() && client_upgrade.is_none();
    let may_retry = replayable && app.upstreams.count() > 1;
    let (parts, incoming) = req.into_parts();
    let mut head = Some(UpstreamHead {
        method: parts.method,
        path: parts.uri.into_parts().path_and_query,
        headers: parts.headers,
    });
    // Only a body that may still come needs watching (its size, its framing).
    let fault = (!incoming.is_end_stream()).then(FaultCell::default);
    let mut body = Some(match &fault {
        Some(fault) => RequestBody::capped(incoming, app.max_body_bytes, fault.clone()),
        None => RequestBody::Empty,
    });

    let mut last_error = ProxyError::Connect("the app has no upstream".into());
    for upstream in app.upstreams.candidates() {
        let body = match body.take() {
            Some(body) => body,
            None if replayable => RequestBody::Empty,
            None => break,
        };
        let this_head = match (&head, may_retry) {
            (Some(kept), true) => kept.clone(),
            _ => match head.take() {
                Some(head) => head,
                None => break,
            },
        };
        match send(app, upstream, this_head.into_request(body)).await {
            Ok(mut response) => {
                app.upstreams.record_success(upstream);
                let upstream_upgrade = headers::strip_hop_by_hop(response.headers_mut());
                if response.status() == StatusCode::SWITCHING_PROTOCOLS {
                    let (Some(on_client), Some(upgrade)) = (on_client_upgrade, upstream_upgrade)
                    else {
                        return Err(ProxyError::Protocol(
                            "upstream switched protocols unasked".into(),
                        ));
                    };
                    headers::restore_upgrade(response.headers_mut(), upgrade);
                    let on_upstream = hyper::upgrade::on(&mut response);
                    upgrade::tunnel(on_client, on_upstream, tasks, app.name.clone());
                }
                return Ok(response);
            }
            Err(err) => {
                match fault.as_ref().and_then(|f| f.get()) {
                    Some(ClientFault::TooLarge) => {
                        return Err(ProxyError::BodyTooLarge(app.max_body_bytes));
                    }
                    Some(ClientFault::Malformed(why)) => {
                        return Err(ProxyError::ClientBody(why.clone()));
                    }
                    None => {}
                }
                if let Some(kind) = err.upstream_kind() {
                    app.errors.record(kind);
                }
                let retry = matches!(err, ProxyError::Connect(_));
                if !matches!(err, ProxyError::Protocol(_)) {
                    app.upstreams.record_failure(upstream);
                }
                tracing::debug!(app = %app.name, upstream = %upstream.url, error = %err, "upstream failed");
                last_error = err;
                if !retry {
                    break;
                }
            }
        }
    }
    Err(last_error)
}

/// What is sent upstream of the client's request head: the rest (version, client-side
/// extensions) belongs to the client's connection and stays behind.
#[derive(Clone)]
struct UpstreamHead {
    method: http::Method,
    path: Option<PathAndQuery>,
    headers: http::HeaderMap,
}

impl UpstreamHead {
    /// The request with an origin-form target (`/path?query`), as an HTTP/1.1 upstream reads it.
    fn into_request(self, body: RequestBody) -> Request<RequestBody> {
        let path = self.path.unwrap_or_else(|| PathAndQuery::from_static("/"));
        let mut outgoing = Request::new(body);
        *outgoing.method_mut() = self.method;
        *outgoing.uri_mut() = Uri::from(path);
        *outgoing.headers_mut() = self.headers;
        outgoing
    }
}

async fn send(
    app: &AppProxy,
    upstream: &Upstream,
    req: Request<RequestBody>,
) -> Result<Response<Incoming>, ProxyError> {
    tokio::time::timeout(
        app.response_timeout,
        upstream.client.send(&upstream.url, req),
    )
    .await
    .unwrap_or_else(|_| Err(ProxyError::Timeout(app.response_timeout)))
}
