//! An app's upstreams: one pooled client each ([`super::client`]), picked round-robin, with
//! passive health: an upstream that fails to connect or answer in time is skipped for a
//! cool-down, and tried again after it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use rustls::crypto::CryptoProvider;

use super::client::UpstreamClient;
use crate::config::apps::{App, PassiveHealth, UpstreamUrl};
use crate::tls::roots::{CaFileError, add_ca_file, add_system_roots};

/// Why an app's upstream clients could not be built.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The CA file is unreadable, malformed or holds no usable certificate.
    #[error("app {app}: upstream_ca {source}")]
    Ca {
        /// The app.
        app: String,
        /// What is wrong with the file.
        source: CaFileError,
    },
    /// The TLS client configuration was refused.
    #[error("app {app}: TLS client configuration: {source}")]
    Tls {
        /// The app.
        app: String,
        /// What rustls said.
        source: rustls::Error,
    },
}

/// One upstream URL with its pool and health record.
pub struct Upstream {
    /// Where it is.
    pub url: UpstreamUrl,
    /// Its pooled client.
    pub client: UpstreamClient,
    consecutive_failures: AtomicU32,
    down_until_millis: AtomicU64,
}

/// The upstreams of one app.
pub struct UpstreamSet {
    upstreams: Vec<Upstream>,
    next: AtomicUsize,
    health: PassiveHealth,
    anchor: Instant,
}

impl UpstreamSet {
    /// Builds a client per upstream URL of `app`.
    // A network timer (the passive health check's cool-down), not a judgement a test moves.
    #[allow(clippy::disallowed_methods)]
    pub fn new(app: &App, provider: &Arc<CryptoProvider>) -> Result<Self, UpstreamError> {
        let tls = client_tls(app, provider)?;
        let upstreams = app
            .upstreams
            .iter()
            .map(|url| Upstream {
                url: url.clone(),
                client: UpstreamClient::new(app, url, &tls),
                consecutive_failures: AtomicU32::new(0),
                down_until_millis: AtomicU64::new(0),
            })
            .collect();
        Ok(Self {
            upstreams,
            next: AtomicUsize::new(0),
            health: app.passive_health,
            anchor: Instant::now(),
        })
    }

    /// How many upstreams the app has.
    pub fn count(&self) -> usize {
        self.upstreams.len()
    }

    /// The upstreams in the order to try them for one request: round-robin start, healthy ones
    /// first, the ones cooling down last (tried only when nothing healthy is left). Health is read
    /// once, up front, so an upstream that fails during this request is not offered twice.
    pub fn candidates(&self) -> impl Iterator<Item = &Upstream> {
        let n = self.upstreams.len();
        let start = if n > 1 {
            self.next.fetch_add(1, Ordering::Relaxed) % n
        } else {
            0
        };
        // The clock is read only when some upstream has been marked down (0: never, or healthy
        // again), not for every request to a healthy app.
        let mut now = None;
        // At most MAX_UPSTREAMS per app (checked when the apps file is loaded), so one bit each.
        let down: u64 = self
            .upstreams
            .iter()
            .enumerate()
            .filter(|(_, u)| {
                let until = u.down_until_millis.load(Ordering::Relaxed);
                until != 0 && until > *now.get_or_insert_with(|| self.now_millis())
            })
            .fold(0, |mask, (i, _)| mask | (1u64 << (i % 64)));
        let order = move |want_down: bool| {
            (0..n)
                .map(move |i| (start + i) % n)
                .filter(move |&i| (down & (1u64 << (i % 64)) != 0) == want_down)
                .filter_map(|i| self.upstreams.get(i))
        };
        order(false).chain(order(true))
    }

    /// Records a connect error or timeout; enough of them in a row take the upstream out.
    pub fn record_failure(&self, upstream: &Upstream) {
        let failures = upstream
            .consecutive_failures
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        if failures >= self.health.failures.max(1) {
            let cooldown = u64::try_from(self.health.cooldown.as_millis()).unwrap_or(u64::MAX);
            upstream.down_until_millis.store(
                self.now_millis().saturating_add(cooldown),
                Ordering::Relaxed,
            );
            upstream.consecutive_failures.store(0, Ordering::Relaxed);
            tracing::warn!(upstream = %upstream.url, cooldown = ?self.health.cooldown, "upstream marked down");
        }
    }

    /// Records an answer: the upstream is healthy again.
    pub fn record_success(&self, upstream: &Upstream) {
        if upstream.consecutive_failures.load(Ordering::Relaxed) != 0 {
            upstream.consecutive_failures.store(0, Ordering::Relaxed);
        }
        if upstream.down_until_millis.load(Ordering::Relaxed) != 0 {
            upstream.down_until_millis.store(0, Ordering::Relaxed);
        }
    }

    fn now_millis(&self) -> u64 {
        // Offset by one so that 0 always means "never marked down".
        u64::try_from(self.anchor.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1)
    }
}

fn client_tls(
    app: &App,
    provider: &Arc<CryptoProvider>,
) -> Result<rustls::ClientConfig, UpstreamError> {
    let tls_err = |source| UpstreamError::Tls {
        app: app.name.clone(),
        source,
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(tls_err)?;
    let mut roots = rustls::RootCertStore::empty();
    match &app.upstream_ca {
        Some(path) => add_ca_file(&mut roots, path).map_err(|source| UpstreamError::Ca {
            app: app.name.clone(),
            source,
        })?,
        // Apps without their own CA are verified against the system's roots.
        None => add_system_roots(&mut roots),
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::apps::parse;
    use std::path::Path;

    fn set(upstreams: usize) -> UpstreamSet {
        let urls: Vec<String> = (0..upstreams)
            .map(|i| format!("\"http://127.0.0.1:{}\"", 1000 + i))
            .collect();
        let src = format!(
            "[[app]]\nname = \"a\"\nhosts = [\"a.org\"]\nupstreams = [{}]\n",
            urls.join(",")
        );
        let app = parse(Path::new("apps.toml"), &src).unwrap().remove(0);
        UpstreamSet::new(&app, &crate::crypto::client_provider()).unwrap()
    }

    fn ports(set: &UpstreamSet) -> Vec<u16> {
        set.candidates()
            .map(|u| u.url.authority.port_u16().unwrap())
            .collect()
    }

    #[test]
    fn rotates_and_puts_failing_upstreams_last_once() {
        let set = set(3);
        assert_eq!(ports(&set), vec![1000, 1001, 1002]);
        assert_eq!(ports(&set), vec![1001, 1002, 1000]);
        let mut order = set.candidates();
        let first = order.next().unwrap();
        set.record_failure(first);
        let rest: Vec<u16> = order.map(|u| u.url.authority.port_u16().unwrap()).collect();
        assert_eq!(
            rest,
            vec![1000, 1001],
            "an upstream failing mid-request is not offered again"
        );
        assert_eq!(
            ports(&set),
            vec![1000, 1001, 1002],
            "the failing one goes last while cooling down"
        );
        let failing = set.candidates().last().unwrap();
        set.record_success(failing);
        assert_eq!(
            ports(&set),
            vec![1002, 1000, 1001],
            "an answer makes it healthy again"
        );
    }
}
