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
//!
//! With Sentinel, `sentinels` and `master` replace `url` (`rediss://` sentinels: TLS to them and
//! to the master, checked against `ca_file`), and `acknowledge_replicas` makes the writes a
//! browser or client is told about wait for the master's replicas (`WAIT`), so a failover does
//! not lose them:
//!
//! ```toml
//! [sessions.redis]
//! sentinels = ["rediss://10.0.0.5:26379", "rediss://10.0.0.6:26379", "rediss://10.0.0.7:26379"]
//! master = "pforte"
//! ca_file = "/etc/pforte/redis-ca.pem"
//! acknowledge_replicas = 1
//! acknowledge_timeout = "500ms"
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use pforte_session::{
    Acknowledgement, Backend, RedisPassword, RedisSettings, SessionSettings, StoreSettings,
    ThrottleSettings,
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
    /// Replicas that must confirm a write the browser is told about (0: off).
    pub acknowledge_replicas: Option<Spanned<i64>>,
    /// How long such a write waits for them.
    pub acknowledge_timeout: Option<Spanned<HumanDuration>>,
    /// The most sessions one replica keeps in its local cache.
    pub cache_sessions: Option<Spanned<i64>>,
}

/// A duration written as `"500ms"`, `"2s"`, kept with its place in the file.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct HumanDuration(#[serde(with = "humantime_serde")] pub Duration);

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
                    Ok(settings) => Backend::Redis(Box::new(settings)),
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
    settings.acknowledge =
        acknowledgement(r).map_err(|(span, key, message)| problem(span, key, message))?;
    if let Some(capacity) = &r.cache_sessions {
        settings.cache_capacity = usize::try_from(*capacity.get_ref())
            .ok()
            .filter(|n| CACHE_SESSIONS.contains(n))
            .ok_or_else(|| {
                problem(
                    capacity.span(),
                    "cache_sessions",
                    format!(
                        "must be a whole number from {} to {}",
                        CACHE_SESSIONS.start(),
                        CACHE_SESSIONS.end()
                    ),
                )
            })?;
    }
    Ok(settings)
}

/// What `cache_sessions` may be: below a thousand the cache misses for every busy replica, and
/// ten million cached sessions already take gigabytes of one replica's memory.
const CACHE_SESSIONS: std::ops::RangeInclusive<usize> = 1_000..=10_000_000;

/// `acknowledge_replicas` and `acknowledge_timeout`, each within its bounds, the timeout no
/// longer than a command may take altogether.
fn acknowledgement(
    r: &RedisSection,
) -> Result<Acknowledgement, (std::ops::Range<usize>, &'static str, String)> {
    let mut acknowledge = Acknowledgement::default();
    if let Some(replicas) = &r.acknowledge_replicas {
        acknowledge.replicas = u32::try_from(*replicas.get_ref())
            .ok()
            .filter(|n| *n <= Acknowledgement::MAX_REPLICAS)
            .ok_or_else(|| {
                (
                    replicas.span(),
                    "acknowledge_replicas",
                    format!(
                        "must be a whole number from 0 (off) to {}",
                        Acknowledgement::MAX_REPLICAS
                    ),
                )
            })?;
    }
    if let Some(timeout) = &r.acknowledge_timeout {
        let HumanDuration(wait) = *timeout.get_ref();
        if wait < Duration::from_millis(1) || wait > Acknowledgement::MAX_TIMEOUT {
            return Err((
                timeout.span(),
                "acknowledge_timeout",
                format!(
                    "must be from 1ms to {}",
                    humantime_serde::re::humantime::format_duration(Acknowledgement::MAX_TIMEOUT)
                ),
            ));
        }
        acknowledge.timeout = wait;
    }
    Ok(acknowledge)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// The settings a `[sessions.redis]` table gives, or the errors as the operator reads them.
    fn load(redis: &str) -> Result<RedisSettings, String> {
        let dir = tempfile::tempdir().unwrap();
        for file in ["c.pem", "k.pem", "apps.toml", "policy.toml"] {
            std::fs::write(dir.path().join(file), "").unwrap();
        }
        let path = dir.path().join("gateway.toml");
        std::fs::write(
            &path,
            format!(
                "[server]\nlisten = [\"127.0.0.1:8443\"]\n[[tls.certificates]]\ncert = \"c.pem\"\nkey = \"k.pem\"\n\
                 [portal]\nhost = \"login.example.org\"\n[apps]\nfile = \"apps.toml\"\n[policy]\nfile = \"policy.toml\"\n\
                 [sessions]\nstore = \"redis\"\n[sessions.redis]\n{redis}"
            ),
        )
        .unwrap();
        match Config::load(&path) {
            Ok(config) => match config.sessions.backend {
                Backend::Redis(settings) => Ok(*settings),
                Backend::Memory => Err("memory".into()),
            },
            Err(errors) => Err(errors.to_string()),
        }
    }

    const SENTINELS: &str = "sentinels = [\"redis://127.0.0.1:26379\"]\nmaster = \"pforte\"\n";

    #[test]
    fn the_local_cache_holds_as_many_sessions_as_configured_within_bounds() {
        assert_eq!(load(SENTINELS).unwrap().cache_capacity, 100_000);
        let settings = load(&format!("{SENTINELS}cache_sessions = 250000\n")).unwrap();
        assert_eq!(settings.cache_capacity, 250_000);
        for wrong in ["10", "-1", "20000000"] {
            let error = load(&format!("{SENTINELS}cache_sessions = {wrong}\n")).unwrap_err();
            assert!(
                error.contains("sessions.redis.cache_sessions")
                    && error.contains("from 1000 to 10000000"),
                "{error}"
            );
        }
    }

    #[test]
    fn acknowledgement_is_off_by_default_and_takes_its_settings() {
        let settings = load(SENTINELS).unwrap();
        assert_eq!(settings.acknowledge, Acknowledgement::default());
        assert!(!settings.acknowledge.is_on());
        let settings = load(&format!(
            "{SENTINELS}acknowledge_replicas = 2\nacknowledge_timeout = \"250ms\"\n"
        ))
        .unwrap();
        assert_eq!(
            settings.acknowledge,
            Acknowledgement {
                replicas: 2,
                timeout: Duration::from_millis(250)
            }
        );
    }

    #[test]
    fn bad_acknowledgement_values_are_refused_at_their_line() {
        for (bad, key) in [
            (
                "acknowledge_replicas = -1",
                "sessions.redis.acknowledge_replicas",
            ),
            (
                "acknowledge_replicas = 17",
                "sessions.redis.acknowledge_replicas",
            ),
            (
                "acknowledge_timeout = \"0s\"",
                "sessions.redis.acknowledge_timeout",
            ),
            (
                "acknowledge_timeout = \"1m\"",
                "sessions.redis.acknowledge_timeout",
            ),
        ] {
            let err = load(&format!("{SENTINELS}{bad}\n")).unwrap_err();
            // The table starts on line 14; its two sentinel lines come first.
            assert!(
                err.contains("gateway.toml:17:") && err.contains(key),
                "{bad}: {err}"
            );
        }
        let err = load(&format!("{SENTINELS}acknowledge_timeout = \"soon\"\n")).unwrap_err();
        assert!(err.contains("gateway.toml:17:"), "{err}");
    }

    #[test]
    fn sentinels_over_tls_take_the_ca_file_and_mixed_schemes_are_refused() {
        let settings = load(
            "sentinels = [\"rediss://127.0.0.1:26379\"]\nmaster = \"pforte\"\nca_file = \"ca.pem\"\n",
        )
        .unwrap();
        assert!(settings.ca_file.is_some());
        let err = load(
            "sentinels = [\"rediss://127.0.0.1:26379\", \"redis://127.0.0.1:26380\"]\nmaster = \"pforte\"\n",
        )
        .unwrap_err();
        assert!(
            err.contains("sessions.redis.sentinels") && err.contains("mix"),
            "{err}"
        );
    }
}
