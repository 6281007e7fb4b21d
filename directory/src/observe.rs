//! What the LDAP backend tells whoever watches it (the gateway's metrics): every exchange with a
//! server, timed, with whether the server answered. Per server, so a failover shows as one
//! server's failures and the next one's answers. The crate knows nothing of Prometheus.

use std::time::Duration;

/// Told of every exchange with an LDAP server once it ended.
pub trait Observer: Send + Sync + std::fmt::Debug + 'static {
    /// An exchange with `server` (its URL as configured) ended after `elapsed` with `outcome`.
    fn exchange(&self, server: &str, outcome: Outcome, elapsed: Duration);
}

/// How an exchange with one server ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered: a result, or a refusal about the request itself (a wrong password,
    /// no such entry). The server is up.
    Answered,
    /// The connection could not be made, broke, timed out, or the server said it cannot serve
    /// (busy, unavailable): the server is marked down and the next one is tried.
    Failed,
}
