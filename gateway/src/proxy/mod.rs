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
pub mod slow_body;
pub mod upgrade;
pub mod upstream;

use http::uri::PathAndQuery;
use http::{Request, Response, StatusCode, Uri};
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
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
    let outgoing = prepare(app, req.into_inner(), client, person)?;
    send_with_retries(app, outgoing, tasks).await
}

/// A request made ready for the app's upstreams.
struct Outgoing {
    /// The head to send (copied for each attempt when `may_retry`).
    head: UpstreamHead,
    /// The client's body, capped at the app's limit, or nothing.
    body: RequestBody,
    /// Where the body records a client fault; only for a body that may still come.
    fault: Option<FaultCell>,
    /// Whether the request can be sent again: no body and no upgrade.
    replayable: bool,
    /// Whether a copy of the head is kept for another upstream.
    may_retry: bool,
    /// The client's side of the upgrade it asked for, if it asked for one.
    on_client_upgrade: Option<OnUpgrade>,
}

/// Refuses a body announced larger than the app's limit, rewrites the headers and splits the
/// request into the head and the body sent upstream.
fn prepare<B: FromClient>(
    app: &AppProxy,
    mut req: Request<B>,
    client: ClientSide<'_>,
    person: Option<identity::Identity<'_>>,
) -> Result<Outgoing, ProxyError> {
    if req.body().size_hint().lower() > app.max_body_bytes {
        return Err(ProxyError::BodyTooLarge(app.max_body_bytes));
    }
    let on_client_upgrade = rewrite_headers(&mut req, app, client, person);
    // A request without a body can be sent again to the next upstream when a connect fails;
    // only then is a copy of its head kept.
    let replayable = req.body().is_end_stream() && on_client_upgrade.is_none();
    let may_retry = replayable && app.upstreams.count() > 1;
    let (parts, incoming) = req.into_parts();
    let incoming = incoming.into_stream();
    // Only a body that may still come needs watching (its size, its framing).
    let fault = (!incoming.is_end_stream()).then(FaultCell::default);
    let body = match &fault {
        Some(fault) => RequestBody::capped(incoming, app.max_body_bytes, fault.clone()),
        None => RequestBody::Empty,
    };
    Ok(Outgoing {
        head: UpstreamHead {
            method: parts.method,
            path: parts.uri.into_parts().path_and_query,
            headers: parts.headers,
        },
        body,
        fault,
        replayable,
        may_retry,
        on_client_upgrade,
    })
}

/// The headers the app receives, in an order that matters (see the comments). Returns the
/// client's side of the upgrade it asked for, if it asked for one.
fn rewrite_headers<B>(
    req: &mut Request<B>,
    app: &AppProxy,
    client: ClientSide<'_>,
    person: Option<identity::Identity<'_>>,
) -> Option<OnUpgrade> {
    // Hop-by-hop headers first: whatever `Connection` names can then no longer remove a header
    // Pforte sets below (the trick of CVE-2022-1388).
    let client_upgrade = headers::strip_hop_by_hop(req.headers_mut());
    let on_client_upgrade = client_upgrade
        .is_some()
        .then(|| hyper::upgrade::on(&mut *req));
    identity::strip(req.headers_mut(), &app.guard, client.trusted);
    if let Some(person) = person {
        identity::set(req.headers_mut(), &app.identity_headers, person);
    }
    if let Some(upgrade) = client_upgrade {
        headers::restore_upgrade(req.headers_mut(), upgrade);
    }
    headers::set_forwarding(req.headers_mut(), client);
    on_client_upgrade
}

/// Sends the request to the app's upstream candidates in turn, until one answers or a failure
/// ends the attempts: only a failed connect of a replayable request goes on to the next one.
async fn send_with_retries(
    app: &AppProxy,
    outgoing: Outgoing,
    tasks: &TaskTracker,
) -> Result<Response<Incoming>, ProxyError> {
    let Outgoing {
        head,
        body,
        fault,
        replayable,
        may_retry,
        on_client_upgrade,
    } = outgoing;
    let mut head = Some(head);
    let mut body = Some(body);
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
            Ok(response) => return answered(app, upstream, response, on_client_upgrade, tasks),
            Err(err) => {
                client_fault(app, fault.as_ref())?;
                let retry = matches!(err, ProxyError::Connect { .. });
                record_upstream_failure(app, upstream, &err);
                last_error = err;
                if !retry {
                    break;
                }
            }
        }
    }
    Err(last_error)
}

/// The upstream answered: its hop-by-hop headers go, and a switch of protocols is joined to the
/// client's connection, if the client asked for that upgrade.
fn answered(
    app: &AppProxy,
    upstream: &Upstream,
    mut response: Response<Incoming>,
    on_client_upgrade: Option<OnUpgrade>,
    tasks: &TaskTracker,
) -> Result<Response<Incoming>, ProxyError> {
    app.upstreams.record_success(upstream);
    let upstream_upgrade = headers::strip_hop_by_hop(response.headers_mut());
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        let (Some(on_client), Some(upgrade)) = (on_client_upgrade, upstream_upgrade) else {
            return Err(ProxyError::Protocol {
                source: UpstreamCause::UnaskedUpgrade,
            });
        };
        headers::restore_upgrade(response.headers_mut(), upgrade);
        let on_upstream = hyper::upgrade::on(&mut response);
        upgrade::tunnel(on_client, on_upstream, tasks, app.name.clone());
    }
    Ok(response)
}

/// A failed exchange the client's body caused is the client's error (413 or 400), not the
/// upstream's.
fn client_fault(app: &AppProxy, fault: Option<&FaultCell>) -> Result<(), ProxyError> {
    match fault.and_then(|f| f.get()) {
        Some(ClientFault::TooLarge) => Err(ProxyError::BodyTooLarge(app.max_body_bytes)),
        Some(ClientFault::Malformed(source)) => Err(ProxyError::ClientBody {
            source: source.clone(),
        }),
        None => Ok(()),
    }
}

/// A failed exchange with an upstream: metered by kind, counted against the upstream unless it
/// was a protocol error, and logged.
fn record_upstream_failure(app: &AppProxy, upstream: &Upstream, err: &ProxyError) {
    if let Some(kind) = err.upstream_kind() {
        app.errors.record(kind);
    }
    if !matches!(err, ProxyError::Protocol { .. }) {
        app.upstreams.record_failure(upstream);
    }
    tracing::debug!(app = %app.name, upstream = %upstream.url, error = %error_chain(err), "upstream failed");
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
