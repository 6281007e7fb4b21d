//! Session resumption that keeps working under many clients. rustls' default server keeps 256
//! sessions in memory and issues no stateless tickets, so a client that comes back after 256
//! others have connected finds its session gone and pays a full handshake.
//!
//! - Stateless tickets (RFC 5077 in TLS 1.2, RFC 8446 tickets in TLS 1.3) from the provider's
//!   [`Ticketer`]: AES-256-CBC + HMAC-SHA256 keys made at random in this process and rotated
//!   every 6 hours, the previous key still accepted, so a ticket lives 12 hours at most; the
//!   keys never leave the process's memory, so a stolen key exposes a bounded window of
//!   sessions. Any number of clients resume; replicas do not share keys, so a client resumes on
//!   the replica that issued its ticket.
//! - A session cache for TLS 1.2 clients that resume by session id instead of by ticket, sized
//!   [`CACHE_SESSIONS`].

use rustls::ServerConfig;
use rustls::crypto::aws_lc_rs::Ticketer;
use rustls::server::ServerSessionMemoryCache;

use super::TlsError;

/// Sessions kept for resumption by id: about 300 bytes each, so at most ~10 MB per process,
/// enough for the session-id clients of a busy replica's last hours.
pub const CACHE_SESSIONS: usize = 32_768;

/// Turns on stateless tickets and a large session-id cache in `config`.
pub fn enable(config: &mut ServerConfig) -> Result<(), TlsError> {
    config.ticketer = Ticketer::new()?;
    config.session_storage = ServerSessionMemoryCache::new(CACHE_SESSIONS);
    Ok(())
}
