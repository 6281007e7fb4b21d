//! Why an audit file, key or checkpoint could not be used. Every error names the file it concerns,
//! because the person reading it has to find that file.

use std::path::PathBuf;

/// An audit log, its key directory or a checkpoint file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The file system refused an operation on `path`.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A key file is not what the key directory holds.
    #[error("{path}: unusable audit key: {reason}")]
    BadKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An event cannot be written canonically (a field holds a fractional number).
    #[error("audit event field {field}: {reason}")]
    NotCanonical {
        /// The field.
        field: String,
        /// Why.
        reason: &'static str,
    },
}

/// Wraps an `io::Error` with the path it concerns.
pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> AuditError + '_ {
    move |source| AuditError::Io {
        path: path.to_owned(),
        source,
    }
}
