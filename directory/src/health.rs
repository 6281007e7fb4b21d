//! The directory's health as /readyz and `pforte-admin status` show it.

use serde::Serialize;

/// The state of every server (or file) behind a directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    /// One entry per configured LDAP URL in order, or one for the people file.
    pub servers: Vec<ServerHealth>,
}

impl Health {
    /// Whether logins can be answered now: at least one server is up.
    pub fn is_ready(&self) -> bool {
        self.servers.iter().any(|s| s.status == ServerStatus::Up)
    }
}

/// One server's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerHealth {
    /// The server's URL (or the people file's path).
    pub url: String,
    /// Up, down, or not contacted yet.
    pub status: ServerStatus,
    /// The last error seen with this server, kept after it recovers so that flapping shows.
    pub last_error: Option<String>,
}

/// Whether a server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerStatus {
    /// The last contact succeeded.
    Up,
    /// The last contact failed; the server is skipped until its retry interval has passed.
    Down,
    /// Not contacted yet (a later server in the list while the first answers).
    Untried,
}
