//! The TLS client of the syslog sink: the process's client provider
//! ([`crate::crypto::client_provider`]), TLS 1.3 and 1.2 only, the configured trust anchors (or
//! the system's roots) and, for mutual TLS, the configured certificate.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{PrivateKeyDer, ServerName};

use crate::config::audit_delivery::TlsSyslog;
use crate::tls::roots::{CaFileError, add_ca_file, add_system_roots, read_certificates};

/// Why the syslog sink's TLS client could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// A PEM file could not be read or parsed.
    #[error("cannot read {path}: {source}")]
    Read {
        /// `ca`, `client_cert` or `client_key`.
        path: PathBuf,
        /// Why.
        source: rustls_pki_types::pem::Error,
    },
    /// The `ca` file or the client certificate is unreadable, malformed or holds no usable
    /// certificate.
    #[error("cannot use {0}")]
    Certificates(#[from] CaFileError),
    /// `server_name` is not a DNS name or an IP address (the config check catches this first).
    #[error("{0:?} is neither a DNS name nor an IP address")]
    ServerName(String),
    /// rustls refused the settings (a key that does not fit the certificate, ...).
    #[error("TLS settings refused: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The client config and the name to check, for `target`.
pub fn client(
    target: &TlsSyslog,
) -> Result<(Arc<ClientConfig>, ServerName<'static>), TlsSetupError> {
    let server_name = ServerName::try_from(target.server_name.clone())
        .map_err(|_| TlsSetupError::ServerName(target.server_name.clone()))?;
    let mut roots = rustls::RootCertStore::empty();
    match &target.ca {
        Some(path) => add_ca_file(&mut roots, path)?,
        // A missing or partly unreadable system store shows as a failing handshake, logged by
        // the sink with the receiver's name.
        None => add_system_roots(&mut roots),
    }
    let builder = ClientConfig::builder_with_provider(crate::crypto::client_provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_root_certificates(roots);
    let config = match &target.client_auth {
        Some(auth) => {
            let key =
                PrivateKeyDer::from_pem_file(&auth.key).map_err(|source| TlsSetupError::Read {
                    path: auth.key.clone(),
                    source,
                })?;
            builder.with_client_auth_cert(read_certificates(&auth.cert)?, key)?
        }
        None => builder.with_no_client_auth(),
    };
    Ok((Arc::new(config), server_name))
}
