//! Forwarding a permitted request to its app's upstream and the answer back: rewrite headers,
//! pick an upstream, stream the body both ways, join upgraded connections, and classify failures
//! so the client gets a 502, 504 or 413 rather than a hang.

pub mod assertion;
pub mod body;
pub mod client;
pub mod connect;
pub mod error;
pub mod headers;
pub mod identity;
pub mod pool;
pub mod protected;
pub mod upgrade;
pub mod upstream;

use http::uri::PathAndQuery;
use http::{Request, Response, StatusCode, Uri};
use hyper::body::Incoming;
use tokio_util::task::TaskTracker;

use crate::policy::decide::Permitted;
use crate::telemetry::error_chain;
use crate::telemetry::metrics::UpstreamErrors;
use body::{ClientFault, FaultCell, FromClient, RequestBody};
pub use error::{ProxyError, UpstreamCause};
use headers::ClientSide;
use upstream::{Upstream, UpstreamSet};

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
pub async fn forward<B: FromClient>(
    app: &AppProxy,
    req: Permitted<Request<B>>,
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
    let incoming = incoming.into_stream();
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

    let mut last_error = ProxyError::Connect {
        source: UpstreamCause::NoUpstream,
    };
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
                        return Err(ProxyError::Protocol {
                            source: UpstreamCause::UnaskedUpgrade,
                        });
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
                    Some(ClientFault::Malformed(source)) => {
                        return Err(ProxyError::ClientBody {
                            source: source.clone(),
                        });
                    }
                    None => {}
                }
                if let Some(kind) = err.upstream_kind() {
                    app.errors.record(kind);
                }
                let retry = matches!(err, ProxyError::Connect { .. });
                if !matches!(err, ProxyError::Protocol { .. }) {
                    app.upstreams.record_failure(upstream);
                }
                tracing::debug!(app = %app.name, upstream = %upstream.url, error = %error_chain(&err), "upstream failed");
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
