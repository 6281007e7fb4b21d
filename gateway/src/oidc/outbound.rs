//! The provider's HTTPS client for calls to the apps it serves: back-channel logout calls and
//! fetches of clients' published keys (`jwks_uri`). It trusts the system's roots and, if
//! configured, an extra CA (`oidc.backchannel_ca_file`) for apps behind an internal CA.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::crypto::CryptoProvider;

use crate::tls::roots::{CaFileError, add_ca_file, add_system_roots};

/// How long a connection to an app may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// An HTTPS (or, for tests on loopback, HTTP) client with a small body.
pub type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Why the outbound client cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// The file from `oidc.backchannel_ca_file` is unreadable, malformed or holds no usable
    /// certificate.
    #[error("back-channel CA file {0}")]
    CaFile(#[from] CaFileError),
    /// rustls refused the client's protocol versions.
    #[error("back-channel client: {0}")]
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
