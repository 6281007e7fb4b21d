//! The tamper-evident audit log: every audit event is one JSON line that carries its replica, a
//! sequence number and the hash of the event before it, so editing, deleting, inserting or
//! reordering a line breaks the chain; signed checkpoints, also sent off the host, catch a chain
//! that was rewritten whole and a tail that was cut off.
//!
//! ```text
//! event fields ──seal──▶ line (JCS + "hash") ──▶ file, syslog, journald
//!                         chain head ──checkpoint::sign──▶ audit_checkpoint event
//! files + checkpoints ──verify──▶ Report (first break with file:line)
//! file tail ──tail::recover──▶ where a restarted writer goes on
//! ```
//!
//! The format is written down in `docs/audit.md` so that another tool can verify it.

pub mod canonical;
pub mod checkpoint;
pub mod error;
pub mod hash;
pub mod keys;
pub mod line;
pub mod seal;
pub mod tail;
pub mod verify;

pub use error::AuditError;
pub use hash::Hash;
pub use seal::{Link, Sealed, seal};
