//! The HTTPS client for Pforte's own calls to other servers: the OpenID provider's calls to the
//! apps it serves (back-channel logout, clients' published keys at `jwks_uri`) and, as a
//! relying party, to partners' providers (discovery, keys, the code exchange). Each user builds
//! its own with the CA it is told to trust besides the system's roots
//! (`oidc.backchannel_ca_file`, `federation.ca_file`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::crypto::CryptoProvider;

use crate::tls::roots::{CaFileError, add_ca_file, add_system_roots};

/// How long a connection to an app may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a request may take to be answered, and then its body to arrive.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// An HTTPS (or, for tests on loopback, HTTP) client with a small body.
pub type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Why the outbound client cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// The extra CA file is unreadable, malformed or holds no usable certificate.
    #[error("CA file {0}")]
    CaFile(#[from] CaFileError),
    /// rustls refused the client's protocol versions.
    #[error("outbound HTTPS client: {0}")]
    Tls(#[source] rustls::Error),
}

/// A client trusting the system's roots and, if given, the CA certificates in `extra_ca`.
pub fn https_client(
    provider: &Arc<CryptoProvider>,
    extra_ca: Option<&Path>,
) -> Result<HttpsClient, CaError> {
    let mut roots = rustls::RootCertStore::empty();
    add_system_roots(&mut roots);
    if let Some(path) = extra_ca {
        add_ca_file(&mut roots, path)?;
    }
    let tls = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(CaError::Tls)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// Why a call to another server gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL does not make a request.
    #[error("cannot make the request")]
    Request(#[source] http::Error),
    /// No connection, or it broke before an answer.
    #[error("no answer")]
    Connection(#[source] hyper_util::client::legacy::Error),
    /// No answer within the timeout.
    #[error("no answer in time")]
    Timeout,
    /// The server answered with a status other than 200.
    #[error("answered {0}")]
    Status(StatusCode),
    /// The body is larger than allowed or broke off.
    #[error("the body is unreadable or larger than allowed")]
    Body,
    /// The body is not what was asked for.
    #[error("{0}")]
    Invalid(String),
}

/// `GET url` for a `200` answer's body of at most `max_bytes`, each step within
/// [`FETCH_TIMEOUT`]; `authorization` is sent as the `Authorization` header when given.
pub async fn get(
    client: &HttpsClient,
    url: &str,
    accept: &str,
    authorization: Option<&str>,
    max_bytes: usize,
) -> Result<Bytes, FetchError> {
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(url)
        .header(header::ACCEPT, accept);
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    let request = request
        .body(Full::new(Bytes::new()))
        .map_err(FetchError::Request)?;
    let (status, body) = send(client, request, max_bytes).await?;
    if status != StatusCode::OK {
        return Err(FetchError::Status(status));
    }
    Ok(body)
}

/// `POST url` with a form body (and an `Authorization` header when given): the answer's status
/// and body of at most `max_bytes`, whatever the status (an OAuth error is a body too).
pub async fn post_form(
    client: &HttpsClient,
    url: &str,
    form: String,
    authorization: Option<&str>,
    max_bytes: usize,
) -> Result<(StatusCode, Bytes), FetchError> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(url)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    let request = request
        .body(Full::new(Bytes::from(form)))
        .map_err(FetchError::Request)?;
    send(client, request, max_bytes).await
}

async fn send(
    client: &HttpsClient,
    request: Request<Full<Bytes>>,
    max_bytes: usize,
) -> Result<(StatusCode, Bytes), FetchError> {
    let response = tokio::time::timeout(FETCH_TIMEOUT, client.request(request))
        .await
        .map_err(|_| FetchError::Timeout)?
        .map_err(FetchError::Connection)?;
    let status = response.status();
    let body = tokio::time::timeout(
        FETCH_TIMEOUT,
        Limited::new(response.into_body(), max_bytes).collect(),
    )
    .await
    .map_err(|_| FetchError::Timeout)?
    .map_err(|_| FetchError::Body)?
    .to_bytes();
    Ok((status, body))
}
