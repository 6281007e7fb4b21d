//! `[sessions]`: where SSO sessions and brute-force counters live, and how long sessions last.
//! Memory (the default) for a single gateway; Redis for several replicas, which then share every
//! session, revocation and counter.
//!
//! ```toml
//! [sessions]
//! store = "redis"
//! idle_timeout = "2h"
//! absolute_timeout = "12h"
//! [sessions.redis]
//! url = "rediss://redis.example.org:6380"
//! password = { file = "/etc/pforte/secrets/redis-password" }
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use pforte_session::{
    Backend, RedisPassword, RedisSettings, SessionSettings, StoreSettings, ThrottleSettings,
};
use serde::Deserialize;
use toml::Spanned;

use super::error::Problem;
use super::secret::SecretSource;

/// `[sessions]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsSection {
    /// `memory` or `redis`.
    #[serde(default = "memory")]
    pub store: Spanned<StoreKind>,
    /// A session unused this long ends.
    #[serde(default, with = "humantime_serde")]
    pub idle_timeout: Option<Duration>,
    /// A session ends this long after login.
    #[serde(default, with = "humantime_serde")]
    pub absolute_timeout: Option<Duration>,
    /// Redis, for `store = "redis"`.
    pub redis: Option<Spanned<RedisSection>>,
    /// Brute-force protection.
    #[serde(default)]
    pub throttle: ThrottleSection,
}

fn memory() -> Spanned<StoreKind> {
    Spanned::new(0..0, StoreKind::Memory)
}

impl Default for SessionsSection {
    fn default() -> Self {
        Self {
            store: memory(),
            idle_timeout: None,
            absolute_timeout: None,
            redis: None,
            throttle: ThrottleSection::default(),
        }
    }
}

/// The session stores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// In this process.
    #[default]
    Memory,
    /// In Redis, shared by replicas.
    Redis,
}

/// `[sessions.redis]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSection {
    /// `redis://` or `rediss://` (TLS) URL, without a password.
    pub url: Option<Spanned<String>>,
    /// Sentinel URLs, instead of `url`.
    #[serde(default)]
    pub sentinels: Vec<String>,
    /// The master's name, with `sentinels`.
    pub master: Option<String>,
    /// The ACL user.
    pub username: Option<String>,
    /// The password.
    pub password: Option<Spanned<SecretSource>>,
    /// CA file for `rediss://`.
    pub ca_file: Option<PathBuf>,
    /// Prefix of every key and channel.
    pub key_prefix: Option<String>,
}

/// `[sessions.throttle]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleSection {
    /// Failures that cost no delay.
    pub free_failures: Option<u32>,
    /// The first delay; it doubles.
    #[serde(default, with = "humantime_serde")]
    pub first_delay: Option<Duration>,
    /// The longest delay.
    #[serde(default, with = "humantime_serde")]
    pub max_delay: Option<Duration>,
    /// Failures that lock.
    pub lock_after: Option<u32>,
    /// How long a lock lasts.
    #[serde(default, with = "humantime_serde")]
    pub lock_for: Option<Duration>,
}

impl SessionsSection {
    /// The store's runtime settings; relative paths are resolved against `base`.
    pub fn validate(&self, base: &Path) -> Result<StoreSettings, Vec<Problem>> {
        let mut problems = Vec::new();
        let defaults = SessionSettings::default();
        let sessions = SessionSettings {
            idle_timeout: self.idle_timeout.unwrap_or(defaults.idle_timeout),
            absolute_timeout: self.absolute_timeout.unwrap_or(defaults.absolute_timeout),
            ..defaults
        };
        if sessions.idle_timeout.is_zero() || sessions.absolute_timeout < sessions.idle_timeout {
            problems.push(Problem {
                span: None,
                key: "sessions.idle_timeout".into(),
                message: "must be longer than 0s and not longer than sessions.absolute_timeout"
                    .into(),
            });
        }
        let t = &self.throttle;
        let d = ThrottleSettings::default();
        let throttle = ThrottleSettings {
            free_failures: t.free_failures.unwrap_or(d.free_failures),
            first_delay: t.first_delay.unwrap_or(d.first_delay),
            max_delay: t.max_delay.unwrap_or(d.max_delay),
            lock_after: t.lock_after.unwrap_or(d.lock_after),
            lock_for: t.lock_for.unwrap_or(d.lock_for),
            // A counter lives at least as long as its lock, and never less than the default.
            forget_after: t
                .lock_for
                .map_or(d.forget_after, |lock| lock.max(d.forget_after)),
        };
        if throttle.lock_after <= throttle.free_failures {
            problems.push(Problem {
                span: None,
                key: "sessions.throttle.lock_after".into(),
                message: "must be more than sessions.throttle.free_failures".into(),
            });
        }
        let backend = match self.store.get_ref() {
            StoreKind::Memory => Backend::Memory,
            StoreKind::Redis => match &self.redis {
                Some(redis) => match redis_settings(redis, base) {
                    Ok(settings) => Backend::Redis(settings),
                    Err(problem) => {
                        problems.push(problem);
                        Backend::Memory
                    }
                },
                None => {
                    problems.push(Problem {
                        span: Some(self.store.span()),
                        key: "sessions.redis".into(),
                        message: "store = \"redis\" needs a [sessions.redis] table with url".into(),
                    });
                    Backend::Memory
                }
            },
        };
        if problems.is_empty() {
            Ok(StoreSettings {
                backend,
                sessions,
                throttle,
            })
        } else {
            Err(problems)
        }
    }
}

fn redis_settings(section: &Spanned<RedisSection>, base: &Path) -> Result<RedisSettings, Problem> {
    let r = section.get_ref();
    let problem = |span: std::ops::Range<usize>, key: &str, message: String| Problem {
        span: Some(span),
        key: format!("sessions.redis.{key}"),
        message,
    };
    let mut settings = match (&r.url, &r.master) {
        (Some(url), None) => RedisSettings::new(url.get_ref())
            .map_err(|e| problem(url.span(), "url", e.to_string()))?,
        (None, Some(master)) => RedisSettings::sentinel(&r.sentinels, master)
            .map_err(|e| problem(section.span(), "sentinels", e.to_string()))?,
        _ => {
            return Err(problem(
                section.span(),
                "url",
                "give either url, or sentinels with master".into(),
            ));
        }
    };
    if let Some(password) = &r.password {
        let secret = password
            .get_ref()
            .read(base)
            .map_err(|e| problem(password.span(), "password", e.to_string()))?;
        settings.password = Some(RedisPassword::new(secret.expose().to_string()));
    }
    settings.username = r.username.clone();
    settings.ca_file = r.ca_file.as_ref().map(|f| base.join(f));
    if let Some(prefix) = &r.key_prefix {
        prefix.clone_into(&mut settings.key_prefix);
    }
    Ok(settings)
}
