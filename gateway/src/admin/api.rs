//! The admin listener's answers as types: the gateway serialises them, `pforte-admin`
//! deserialises the same structs, so the two cannot drift apart. Times are Unix seconds; a
//! failure is a [`Problem`] with the offending parameter named.

use serde::{Deserialize, Serialize};

use pforte_session::{Session, Throttle};

/// One live session as the listener and `pforte-admin` show it: enough to recognise the
/// person, the device and the login, never the cookie value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// The public handle, as in listings, logs and OIDC `sid`.
    pub sid: String,
    /// The login name.
    pub user: String,
    /// The stable subject (directory id).
    pub subject: String,
    /// When the session was opened.
    pub created: u64,
    /// The last activity the store recorded.
    pub last_seen: u64,
    /// The client address at login.
    pub source: String,
    /// A short description of the browser and system (from its User-Agent), if known.
    pub device: Option<String>,
    /// `password` or `mfa`.
    pub login: String,
    /// The factors shown, in order (`password`, `totp`, `recovery_code`, `security_key`,
    /// `passkey`).
    pub methods: Vec<String>,
    /// When the person last showed a factor (OIDC `auth_time`).
    pub auth_time: u64,
    /// The OpenID Connect clients that received tokens in this session (they get a back-channel
    /// logout when it ends).
    pub clients: Vec<String>,
    /// When the person's identity (enabled, name, mail, groups) was last read from the
    /// directory for this session: at login, then at each refresh.
    pub identity_refreshed: u64,
}

impl From<&Session> for SessionView {
    fn from(s: &Session) -> Self {
        Self {
            sid: s.sid.to_string(),
            user: s.username.clone(),
            subject: s.subject.clone(),
            created: s.created.unix_secs(),
            last_seen: s.last_seen.unix_secs(),
            source: s.source.to_string(),
            device: s.device.clone(),
            login: s.login.to_string(),
            methods: s.methods.iter().map(|m| m.as_str().to_owned()).collect(),
            auth_time: s.auth_time.unix_secs(),
            clients: s.clients.clone(),
            identity_refreshed: s.identity_refreshed.unix_secs(),
        }
    }
}

/// `GET /sessions`: the live sessions, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionList {
    /// The sessions (of one subject when the request named one).
    pub sessions: Vec<SessionView>,
}

/// `POST /sessions/revoke`: the sessions that were live and are now ended (empty when there
/// was nothing to end). Each is audited as `session_revoked`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    /// What ended.
    pub revoked: Vec<SessionView>,
}

/// How a failure counter stands, as the next login attempt would meet it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LockState {
    /// Logins go ahead.
    Open,
    /// Failed logins make the next attempt wait.
    Delayed {
        /// When the next attempt is allowed (Unix seconds).
        until: u64,
    },
    /// Locked until `until` unless an admin unlocks.
    Locked {
        /// When the lock ends by itself (Unix seconds).
        until: u64,
    },
}

impl From<Throttle> for LockState {
    fn from(throttle: Throttle) -> Self {
        match throttle {
            Throttle::Allowed => Self::Open,
            Throttle::Wait { until } => Self::Delayed {
                until: until.unix_secs(),
            },
            Throttle::Locked { until } => Self::Locked {
                until: until.unix_secs(),
            },
        }
    }
}

/// `GET /locks`: one account's or address's counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockView {
    /// `account` or `source` (an address).
    pub scope: String,
    /// The lower-cased account name or the canonical address.
    pub key: String,
    /// How it stands.
    pub lock: LockState,
}

/// `POST /unlock`: the counter that was cleared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unlocked {
    /// `account` or `source`.
    pub scope: String,
    /// The lower-cased account name or the canonical address.
    pub key: String,
}

/// Why a request was not answered: the message, and the query parameter at fault if one was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// What went wrong, in a sentence.
    pub error: String,
    /// The parameter that was missing or malformed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// `GET /status`: what runs, and whether its backends answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// The directory and the session store both answer.
    pub healthy: bool,
    /// The gateway's version.
    pub version: String,
    /// Seconds since the process started.
    pub uptime_seconds: u64,
    /// Listeners bound and not draining.
    pub ready: bool,
    /// The config file.
    pub config: String,
    /// When the last reload succeeded (Unix seconds).
    pub last_reload_success: i64,
    /// The apps of the apps file, in order.
    pub apps: Vec<String>,
    /// The policy in force.
    pub policy: PolicyStatus,
    /// How many certificates are loaded.
    pub certificates: usize,
    /// The active signing key's id, when there is a key directory.
    pub keys: Option<String>,
    /// The session store.
    pub sessions: SessionsStatus,
    /// The people directory.
    pub directory: DirectoryStatus,
}

/// The policy in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyStatus {
    /// The main policy file.
    pub file: String,
    /// How many rules it compiled to.
    pub rules: usize,
    /// How many files it was read from.
    pub files: usize,
}

/// The session store's kind and health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsStatus {
    /// `memory` or `redis`.
    pub store: String,
    /// Whether it answers, and how many sessions it holds.
    pub detail: StoreHealth,
}

/// Whether the session store answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreHealth {
    /// It answered.
    pub healthy: bool,
    /// How many sessions it holds, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// Why it did not answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The directory's servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryStatus {
    /// At least one server answers (or no directory is configured).
    pub healthy: bool,
    /// One entry per LDAP URL in order, or one for the people file.
    pub servers: Vec<ServerView>,
}

/// One directory server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerView {
    /// The URL (or the people file's path).
    pub url: String,
    /// `up`, `down` or `untried`.
    pub status: String,
    /// The last error seen with it, kept after it recovers so that flapping shows.
    pub last_error: Option<String>,
}
