//! The store's settings as plain, already-checked Rust; the gateway's config layer fills them
//! from `gateway.toml`.
//!
//! Default timeouts, and why:
//! - idle 2 h: a desk left unattended over lunch or a long meeting asks for the password again,
//!   while a person working steadily is never interrupted.
//! - absolute 12 h: one working day. Each morning starts with a fresh login, so a disabled
//!   account, a changed password or new group memberships take effect by the next day at the
//!   latest, even for a session used without pause.
//! - touch interval 60 s: the idle clock is written to Redis at most once a minute per session,
//!   which bounds the write load; the cost is that the idle timeout may end up to a minute
//!   early, which nobody notices at 2 h.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use redis::IntoConnectionInfo as _;

use crate::throttle::ThrottleSettings;

/// Everything the store needs, for either backend.
#[derive(Debug, Clone, Default)]
pub struct StoreSettings {
    /// Where sessions and counters live.
    pub backend: Backend,
    /// Session timeouts.
    pub sessions: SessionSettings,
    /// Brute-force thresholds.
    pub throttle: ThrottleSettings,
}

/// The two places sessions can live.
#[derive(Debug, Clone, Default)]
pub enum Backend {
    /// In this process only: for a single gateway; sessions end when it restarts.
    #[default]
    Memory,
    /// In Redis, shared by every replica (boxed: the settings are large beside `Memory`).
    Redis(Box<RedisSettings>),
}

/// How long sessions last. Defaults and their reasons are in the module doc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSettings {
    /// A session unused this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after login, however busy.
    pub absolute_timeout: Duration,
    /// Activity is written to the shared store at most this often per session.
    pub touch_interval: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(2 * 3600),
            absolute_timeout: Duration::from_secs(12 * 3600),
            touch_interval: Duration::from_secs(60),
        }
    }
}

/// How many replicas must hold a write before the store reports it done: the writes a browser
/// or client is told about (a new session, a step-up or identity rewrite, a revocation, an OIDC
/// code, refresh family or revoked token) are followed by Redis's `WAIT` when `replicas > 0`, so
/// a failover that promotes a replica does not lose them. See the `redis_store::acknowledge`
/// module doc for which writes, and what happens when too few replicas answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acknowledgement {
    /// Replicas that must confirm each acknowledged write (at most as many as are connected to
    /// the master at the time); 0 turns `WAIT` off, right for a single server.
    pub replicas: u32,
    /// How long a write waits for them before it is reported as a failure.
    pub timeout: Duration,
}

impl Acknowledgement {
    /// The most replicas that can be asked for: far more than any Sentinel deployment has, and
    /// a bound that keeps a typo (`acknowledge_replicas = 1000`) from failing every write.
    pub const MAX_REPLICAS: u32 = 16;
    /// The longest wait allowed: a login waits this long at worst, so it stays below what a
    /// person waits for a page.
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(5);

    /// Whether writes wait for replicas at all.
    pub fn is_on(&self) -> bool {
        self.replicas > 0
    }
}

impl Default for Acknowledgement {
    /// Off (a single server has no replica to wait for); 500 ms once turned on: ample for a
    /// replica on the same network, which acknowledges in well under a millisecond.
    fn default() -> Self {
        Self {
            replicas: 0,
            timeout: Duration::from_millis(500),
        }
    }
}

/// Where Redis is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// One server, `redis://host:port` or `rediss://host:port` (TLS).
    Url(String),
    /// A Sentinel-managed master: the store asks the sentinels for the master on every
    /// (re)connect, so it follows a failover. The sentinels' scheme decides TLS for them and
    /// for the master alike: `rediss://` sentinels mean a TLS master (checked against
    /// `ca_file`, else the system's roots, under the address the sentinels announce).
    Sentinel {
        /// `redis://host:port` (or all `rediss://host:port`) of each sentinel.
        sentinels: Vec<String>,
        /// The master's name in the sentinels' configuration.
        master: String,
    },
}

/// How to reach Redis and how to share it.
#[derive(Clone)]
pub struct RedisSettings {
    target: RedisTarget,
    /// The ACL user, if Redis has ACLs.
    pub username: Option<String>,
    /// The password, read by the config layer from a file.
    pub password: Option<RedisPassword>,
    /// A PEM file of the CA that signed Redis's certificate (and the sentinels'), for
    /// `rediss://` with a private CA; `None` trusts the system's roots. Refused with `redis://`
    /// sentinels, where it would protect nothing.
    pub ca_file: Option<PathBuf>,
    /// Put before every key and the invalidation channel, so several deployments (or tests)
    /// can share one Redis.
    pub key_prefix: String,
    /// How long one command may take before the store answers `Unavailable`.
    pub command_timeout: Duration,
    /// The longest a revoked session may still be accepted by another replica's local cache,
    /// also while the link to Redis is failing. See the `redis` module doc.
    pub revocation_bound: Duration,
    /// The most sessions one replica's local cache holds.
    pub cache_capacity: usize,
    /// Replicas that must confirm the writes a browser or client is told about.
    pub acknowledge: Acknowledgement,
}

/// Why Redis settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// The URL does not parse as a Redis URL.
    #[error("invalid Redis URL: {0}")]
    InvalidUrl(String),
    /// The CA file is not a usable PEM certificate.
    #[error("invalid Redis CA certificate: {0}")]
    InvalidCa(String),
    /// Sentinel settings without a sentinel or a master name.
    #[error("Sentinel needs at least one sentinel URL and the master's name")]
    IncompleteSentinel,
    /// A CA file was given with plain `redis://` sentinels; refused rather than ignored, so
    /// nobody believes the links are encrypted when they are not.
    #[error(
        "ca_file with Sentinel needs rediss:// sentinel URLs (their scheme decides TLS for the sentinels and the master)"
    )]
    SentinelTls,
    /// Some sentinel URLs are `redis://` and others `rediss://`: the store would not know
    /// whether to speak TLS to the master they name.
    #[error("the sentinel URLs mix redis:// and rediss://; use one scheme for all")]
    SentinelSchemes,
    /// The URL has a password in it; passwords come from a file so they stay out of config
    /// files and logs.
    #[error("the Redis URL contains a password; set the password file setting instead")]
    PasswordInUrl,
}

/// Parses a URL and refuses one with a password in it.
fn checked_url(url: &str) -> Result<String, SettingsError> {
    let info = url
        .into_connection_info()
        .map_err(|e| SettingsError::InvalidUrl(e.to_string()))?;
    if info.redis_settings().password().is_some() {
        return Err(SettingsError::PasswordInUrl);
    }
    Ok(url.to_owned())
}

impl RedisSettings {
    /// One server at a `redis://` or `rediss://` URL, other settings at their defaults (prefix
    /// `pforte:`, 1 s command timeout, 1 s revocation bound, 100 000 cached sessions).
    pub fn new(url: &str) -> Result<Self, SettingsError> {
        Ok(Self::with_target(RedisTarget::Url(checked_url(url)?)))
    }

    /// A master found through Sentinel (plain TCP to the sentinels and the master with
    /// `redis://` sentinel URLs, TLS to both with `rediss://`; the password and username
    /// settings apply to the master), other settings at their defaults.
    pub fn sentinel(sentinels: &[String], master: &str) -> Result<Self, SettingsError> {
        if sentinels.is_empty() || master.is_empty() {
            return Err(SettingsError::IncompleteSentinel);
        }
        let sentinels: Vec<String> = sentinels
            .iter()
            .map(|url| checked_url(url))
            .collect::<Result<_, _>>()?;
        let tls = sentinels.iter().filter(|url| is_tls(url)).count();
        if tls != 0 && tls != sentinels.len() {
            return Err(SettingsError::SentinelSchemes);
        }
        Ok(Self::with_target(RedisTarget::Sentinel {
            sentinels,
            master: master.to_owned(),
        }))
    }

    fn with_target(target: RedisTarget) -> Self {
        Self {
            target,
            username: None,
            password: None,
            ca_file: None,
            key_prefix: "pforte:".to_owned(),
            command_timeout: Duration::from_secs(1),
            revocation_bound: Duration::from_secs(1),
            cache_capacity: 100_000,
            acknowledge: Acknowledgement::default(),
        }
    }

    /// Where Redis is (checked: no password in any URL).
    pub fn target(&self) -> &RedisTarget {
        &self.target
    }
}

/// Whether a (checked) URL asks for TLS.
pub(crate) fn is_tls(url: &str) -> bool {
    url.get(..9)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("rediss://"))
}

impl fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSettings")
            .field("target", &self.target)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("ca_file", &self.ca_file)
            .field("key_prefix", &self.key_prefix)
            .field("command_timeout", &self.command_timeout)
            .field("revocation_bound", &self.revocation_bound)
            .field("cache_capacity", &self.cache_capacity)
            .field("acknowledge", &self.acknowledge)
            .finish()
    }
}

/// Redis's password; its `Debug` prints `***` so settings can be logged whole.
#[derive(Clone)]
pub struct RedisPassword(String);

impl RedisPassword {
    /// Wraps a password read from a file (trailing newline already trimmed by the caller).
    pub fn new(password: String) -> Self {
        Self(password)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RedisPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let mut settings = RedisSettings::new("rediss://127.0.0.1:6380").unwrap();
        settings.password = Some(RedisPassword::new("hunter2-secret".to_owned()));
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn urls_with_a_password_or_garbage_are_refused() {
        assert_eq!(
            RedisSettings::new("redis://:pw@127.0.0.1:6379").unwrap_err(),
            SettingsError::PasswordInUrl
        );
        assert!(matches!(
            RedisSettings::new("http://example.org"),
            Err(SettingsError::InvalidUrl(_))
        ));
        assert_eq!(
            RedisSettings::new("redis://127.0.0.1:6379")
                .unwrap()
                .key_prefix,
            "pforte:"
        );
    }

    #[test]
    fn sentinel_urls_take_one_scheme() {
        let mixed = [
            "redis://127.0.0.1:26379".to_owned(),
            "rediss://127.0.0.1:26380".to_owned(),
        ];
        assert_eq!(
            RedisSettings::sentinel(&mixed, "pforte").unwrap_err(),
            SettingsError::SentinelSchemes
        );
        let tls = ["rediss://127.0.0.1:26380".to_owned()];
        assert!(RedisSettings::sentinel(&tls, "pforte").is_ok());
        assert_eq!(
            RedisSettings::sentinel(&tls, "pforte").unwrap().acknowledge,
            Acknowledgement::default()
        );
        assert!(!Acknowledgement::default().is_on());
    }
}
