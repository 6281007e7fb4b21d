//! The roots Pforte's own TLS clients trust (upstream apps, apps' back channels and key sets,
//! syslog receivers): the system's, and an operator's CA file for services behind an internal
//! CA.

use std::path::{Path, PathBuf};

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::{self, PemObject};

/// Why a CA file gave no roots.
#[derive(Debug, thiserror::Error)]
pub enum CaFileError {
    /// The file could not be read, or holds a malformed PEM block.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the PEM reader said.
        source: pem::Error,
    },
    /// The file holds no certificate that can serve as a root.
    #[error("{}: no usable CA certificate in the file", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// Adds the certificates of the PEM file `path` to `roots`; a file without a usable one is an
/// error, so a wrong path is found at load and not at the first failing handshake.
pub fn add_ca_file(roots: &mut RootCertStore, path: &Path) -> Result<(), CaFileError> {
    let (added, _) = roots.add_parsable_certificates(read_certificates(path)?);
    if added == 0 {
        return Err(CaFileError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// Adds the system's roots to `roots`. A missing or partly unreadable system store adds what it
/// can: https connections then fail their handshake with the peer's name in the error.
pub fn add_system_roots(roots: &mut RootCertStore) {
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
}

/// Every certificate of the PEM file `path` (a CA file, or a client certificate's chain).
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, CaFileError> {
    let unreadable = |source| CaFileError::Read {
        path: path.to_path_buf(),
        source,
    };
    CertificateDer::pem_file_iter(path)
        .map_err(unreadable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unreadable)
}
