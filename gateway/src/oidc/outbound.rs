//! The provider's HTTPS client for calls to the apps it serves: back-channel logout calls and
//! fetches of clients' published keys (`jwks_uri`). It trusts the system's roots and, if
//! configured, an extra CA (`oidc.backchannel_ca_file`) for apps behind an internal CA.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::{self, PemObject};

/// How long a connection to an app may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// An HTTPS (or, for tests on loopback, HTTP) client with a small body.
pub type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Why the outbound client cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// The CA file could not be read, or holds a malformed PEM block.
    #[error("back-channel CA file {path}: {source}")]
    Read {
        /// The file from `oidc.backchannel_ca_file`.
        path: PathBuf,
        /// What the PEM reader said.
        source: pem::Error,
    },
    /// The file holds no certificate that can serve as a root.
    #[error("back-channel CA file {path}: no usable CA certificate in the file")]
    NoCertificate {
        /// The file from `oidc.backchannel_ca_file`.
        path: PathBuf,
    },
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
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(path) = extra_ca {
        let unreadable = |source| CaError::Read {
            path: path.to_path_buf(),
            source,
        };
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(unreadable)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(unreadable)?;
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(CaError::NoCertificate {
                path: path.to_path_buf(),
            });
        }
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
