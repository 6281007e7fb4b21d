//! `[limits]`: protection against slow and greedy clients. Every key has a default; the ones
//! that could make the gateway useless (a head buffer hyper refuses, no connections at all) are
//! checked.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::error::Report;

/// `[limits]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSection {
    /// Time a client has to finish the TLS handshake and send a request's headers.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Largest request head accepted.
    pub max_header_bytes: Spanned<usize>,
    /// Connections served at once; further clients wait in the kernel's backlog.
    pub max_connections: Spanned<usize>,
    /// A connection with no request in flight and no traffic for this long is closed.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// How long a shutdown waits for requests in flight before it closes them.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
}

impl Default for LimitsSection {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: Spanned::new(0..0, 64 * 1024),
            max_connections: Spanned::new(0..0, 10_000),
            idle_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Connection limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Handshake and request-head deadline.
    pub header_read_timeout: Duration,
    /// Largest request head.
    pub max_header_bytes: usize,
    /// Concurrent connections.
    pub max_connections: usize,
    /// Idle connection lifetime.
    pub idle_timeout: Duration,
    /// Drain time on shutdown.
    pub shutdown_grace: Duration,
}

/// Smallest head buffer hyper accepts.
const MIN_HEADER_BYTES: usize = 8 * 1024;

impl LimitsSection {
    /// The limits, refusing a head buffer hyper would not take and a zero connection limit.
    pub fn validate(&self, report: &mut Report) -> Limits {
        if *self.max_header_bytes.get_ref() < MIN_HEADER_BYTES {
            report.at(
                self.max_header_bytes.span(),
                "limits.max_header_bytes",
                format!("must be at least {MIN_HEADER_BYTES}"),
            );
        }
        if *self.max_connections.get_ref() == 0 {
            report.at(
                self.max_connections.span(),
                "limits.max_connections",
                "must be at least 1",
            );
        }
        Limits {
            header_read_timeout: self.header_read_timeout,
            max_header_bytes: *self.max_header_bytes.get_ref(),
            max_connections: *self.max_connections.get_ref(),
            idle_timeout: self.idle_timeout,
            shutdown_grace: self.shutdown_grace,
        }
    }
}
