//! The client for one upstream URL. HTTP/1.1 upstreams (every `http://` one unless the app asks
//! for HTTP/2, and `https://` ones with `upstream_protocol = "http1"`) get Pforte's own lean
//! keep-alive pool ([`super::pool`]): they carry nearly all traffic. Upstreams that speak or may
//! negotiate HTTP/2 (h2c by prior knowledge, `https://` with ALPN) use hyper-util's pooled
//! client, which multiplexes streams on a shared connection.

use std::sync::Arc;
use std::time::Duration;

use http::uri::PathAndQuery;
use http::{Request, Response, Uri};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::body::RequestBody;
use super::connect::Connector;
use super::error::{ProxyError, UpstreamCause};
use super::pool::Http1Pool;
use crate::config::apps::{App, UpstreamProtocol, UpstreamUrl};

/// How long an unused keep-alive connection is kept open.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Most idle connections kept per upstream.
const MAX_IDLE: usize = 256;

/// TCP keep-alive of hyper-util's connections.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// The pooled client of one upstream URL.
pub enum UpstreamClient {
    /// HTTP/1.1 only: Pforte's keep-alive pool.
    Http1(Http1Pool),
    /// HTTP/2, or chosen by ALPN: hyper-util's client (boxed: it is large, and few upstreams
    /// use it).
    Negotiated(Box<Client<HttpsConnector<HttpConnector>, RequestBody>>),
}

impl UpstreamClient {
    /// The client `app` needs for `url`; `tls` verifies `https://` upstreams.
    pub fn new(app: &App, url: &UpstreamUrl, tls: &rustls::ClientConfig) -> Self {
        let https = url.scheme == http::uri::Scheme::HTTPS;
        let http1_only = match app.upstream_protocol {
            UpstreamProtocol::Http1 => true,
            UpstreamProtocol::Auto => !https,
            UpstreamProtocol::Http2 => false,
        };
        if http1_only {
            let mut tls = tls.clone();
            tls.alpn_protocols = vec![b"http/1.1".to_vec()];
            let connector = Connector::new(url, Arc::new(tls), app.connect_timeout);
            Self::Http1(Http1Pool::new(connector, MAX_IDLE, IDLE_TIMEOUT))
        } else {
            Self::Negotiated(Box::new(negotiated(app, url, tls.clone())))
        }
    }

    /// Sends `req`, whose URI is the origin-form path and query, to `url` and returns the
    /// answer's head with its body still streaming.
    pub async fn send(
        &self,
        url: &UpstreamUrl,
        mut req: Request<RequestBody>,
    ) -> Result<Response<Incoming>, ProxyError> {
        match self {
            Self::Http1(pool) => pool.send(req).await,
            Self::Negotiated(client) => {
                // hyper-util picks its pooled connection by the URI's scheme and authority.
                let path = req
                    .uri()
                    .path_and_query()
                    .cloned()
                    .unwrap_or_else(|| PathAndQuery::from_static("/"));
                *req.uri_mut() = Uri::builder()
                    .scheme(url.scheme.clone())
                    .authority(url.authority.clone())
                    .path_and_query(path)
                    .build()
                    .map_err(|e| ProxyError::Protocol {
                        source: UpstreamCause::Uri(e),
                    })?;
                client.request(req).await.map_err(|e| {
                    if e.is_connect() {
                        ProxyError::Connect {
                            source: UpstreamCause::Negotiated(e),
                        }
                    } else {
                        ProxyError::Protocol {
                            source: UpstreamCause::Negotiated(e),
                        }
                    }
                })
            }
        }
    }
}

fn negotiated(
    app: &App,
    url: &UpstreamUrl,
    tls: rustls::ClientConfig,
) -> Client<HttpsConnector<HttpConnector>, RequestBody> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(app.connect_timeout));
    http.set_keepalive(Some(TCP_KEEPALIVE));
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    let http2 = app.upstream_protocol == UpstreamProtocol::Http2;
    let connector = if http2 {
        connector.enable_http2().wrap_connector(http)
    } else {
        connector.enable_all_versions().wrap_connector(http)
    };
    let http2_only = http2 && url.scheme == http::uri::Scheme::HTTP;
    Client::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(IDLE_TIMEOUT)
        .pool_max_idle_per_host(MAX_IDLE)
        .http2_only(http2_only)
        .http2_adaptive_window(true)
        .build(connector)
}
