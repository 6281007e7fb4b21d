//! What the request path reads: one immutable [`Snapshot`] of everything that a reload can change
//! (config, routes, apps with their upstream pools, the policy compiled for those apps), swapped
//! atomically, so a request never sees routes of one load and the policy of another, plus the parts that live
//! as long as the process (metrics, certificate resolver, task tracking, shutdown signal).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{App, Config};
use crate::policy::engine::Policy;
use crate::proxy::AppProxy;
use crate::proxy::protected::HeaderGuard;
use crate::proxy::upstream::{UpstreamError, UpstreamSet};
use crate::route::RouteTable;
use crate::telemetry::Metrics;
use crate::telemetry::metrics::{DecisionCounters, RouteMetrics};
use crate::tls::CertResolver;

/// One app, ready to serve.
pub struct AppRuntime {
    /// Its definition.
    pub app: App,
    /// Its request metrics and label.
    pub metrics: Arc<RouteMetrics>,
    /// Its policy decision counters.
    pub decisions: DecisionCounters,
    /// Its upstreams.
    pub proxy: AppProxy,
}

/// What the gateway signs tokens with, and for which OIDC clients: loaded together, since the
/// provider advertises the keys' algorithms.
pub struct Signing {
    /// The signing keys, when `[keys]` is configured.
    pub keys: Option<pforte_keys::KeySet>,
    /// The OpenID Connect provider, when `[oidc]` is configured.
    pub oidc: Option<crate::oidc::provider::Provider>,
}

/// Everything a reload replaces, as one consistent value.
pub struct Snapshot {
    /// The validated config.
    pub config: Arc<Config>,
    /// Host and path to target.
    pub routes: RouteTable,
    /// Apps in file order; route targets index into this.
    pub apps: Vec<Arc<AppRuntime>>,
    /// The access policy, compiled for `apps` (same indexes).
    pub policy: Policy,
    /// The signing keys, when `[keys]` is configured.
    pub keys: Option<Arc<pforte_keys::KeySet>>,
    /// The public keys as the JWKS document, rendered once per load (empty without `[keys]`).
    pub jwks: bytes::Bytes,
    /// The OpenID Connect provider (clients tied to their apps), when `[oidc]` is configured.
    pub oidc: Option<Arc<crate::oidc::provider::Provider>>,
    /// The issuer of the gateway's tokens: the login host's URL (made once per load).
    pub issuer: String,
    /// The partners' OpenID providers (`idps.toml`) with their client secrets, when
    /// `[federation]` is configured; set by the reload after the build.
    pub partners: Option<Arc<crate::federation::partners::Partners>>,
    /// The passkey relying party (the login host's origin), made once per load when second
    /// factors are set up; `None` also when the login host cannot be one (logged at load).
    pub passkeys: Option<Arc<pforte_factors::passkey::Passkeys>>,
    /// Request metrics of the login host.
    pub portal_metrics: Arc<RouteMetrics>,
    /// Request metrics of requests that matched no route.
    pub unrouted_metrics: Arc<RouteMetrics>,
}

impl Snapshot {
    /// Builds routes and upstream pools for `apps`, which `policy` was compiled for. An app whose
    /// definition did not change since `previous` keeps its pools and health records, so a
    /// reload does not drop warm connections.
    pub fn build(
        config: Config,
        apps: Vec<App>,
        policy: Policy,
        signing: Signing,
        provider: &Arc<CryptoProvider>,
        metrics: &Metrics,
        previous: Option<&Snapshot>,
    ) -> Result<Self, UpstreamError> {
        let routes = RouteTable::new(&apps, &config.portal_host, signing.oidc.is_some());
        let apps = apps
            .into_iter()
            .map(|app| {
                if let Some(same) = previous.and_then(|p| p.apps.iter().find(|old| old.app == app))
                {
                    return Ok(same.clone());
                }
                let upstreams = UpstreamSet::new(&app, provider)?;
                let proxy = AppProxy {
                    name: app.name.clone(),
                    upstreams,
                    response_timeout: app.response_timeout,
                    max_body_bytes: app.max_body_bytes,
                    errors: metrics.upstream_errors(&app.name),
                    identity_headers: app.identity_headers.clone(),
                    guard: HeaderGuard::new(&app.identity_headers, &app.request_headers),
                };
                Ok(Arc::new(AppRuntime {
                    metrics: Arc::new(metrics.route(&app.name)),
                    decisions: metrics.decisions(&app.name),
                    app,
                    proxy,
                }))
            })
            .collect::<Result<Vec<_>, UpstreamError>>()?;
        let issuer = issuer(&config);
        let passkeys = relying_party(&config, &issuer);
        Ok(Self {
            partners: None,
            passkeys,
            jwks: signing
                .keys
                .as_ref()
                .map(|keys| bytes::Bytes::from(keys.jwks().to_string()))
                .unwrap_or_default(),
            oidc: signing.oidc.map(Arc::new),
            issuer,
            config: Arc::new(config),
            routes,
            apps,
            policy,
            keys: signing.keys.map(Arc::new),
            portal_metrics: Arc::new(metrics.route("portal")),
            unrouted_metrics: Arc::new(metrics.route("-")),
        })
    }

    /// True when `peer` is a trusted proxy.
    pub fn trusts(&self, peer: std::net::IpAddr) -> bool {
        self.config
            .server
            .trusted_proxies
            .iter()
            .any(|net| net.contains(&peer))
    }
}

/// The passkey relying party for the login host at `origin`, when second factors are set up.
fn relying_party(config: &Config, origin: &str) -> Option<Arc<pforte_factors::passkey::Passkeys>> {
    config.mfa.as_ref()?;
    match pforte_factors::passkey::Passkeys::new(origin, &config.portal.theme.product_name) {
        Ok(passkeys) => Some(Arc::new(passkeys)),
        Err(e) => {
            tracing::warn!(error = %e, "passkeys are not offered");
            None
        }
    }
}

/// The login host's URL, as tokens name their issuer.
pub fn issuer(config: &Config) -> String {
    let port = config.server.public_https_port;
    if port == 443 {
        format!("https://{}", config.portal_host)
    } else {
        format!("https://{}:{port}", config.portal_host)
    }
}

/// State shared by every connection of the process.
pub struct Shared {
    /// The current snapshot.
    pub snapshot: ArcSwap<Snapshot>,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
    /// The SNI resolver whose store reloads replace.
    pub certs: Arc<CertResolver>,
    /// The crypto provider (for upstream TLS and certificate loading).
    pub provider: Arc<CryptoProvider>,
    /// Connection and tunnel tasks, so shutdown can wait for them.
    pub tasks: TaskTracker,
    /// Fired once on SIGTERM/SIGINT.
    pub shutdown: CancellationToken,
    /// Process start, for uptime.
    pub started: Instant,
    /// What every judgement of time reads: the system clock in production, a manual one that
    /// tests move instead of sleeping.
    pub clock: pforte_session::Clock,
    /// Set once listeners are bound and unset when draining: what `/readyz` says.
    pub ready: AtomicBool,
    /// Who people are; `None` when no directory is configured (nobody can log in).
    pub directory: Option<pforte_directory::Directory>,
    /// Who is logged in.
    pub sessions: pforte_session::SessionStore,
    /// Signed assertions, reused per session and app until shortly before they expire.
    pub assertions: crate::proxy::assertion::AssertionCache,
    /// Sessions prepared for the policy and the proxy, reused across requests.
    pub prepared: crate::visitor::PreparedCache,
    /// The rate limits per client address (`[limits.rate]`, read at start).
    pub rate_limits: Arc<crate::rate_limit::RateLimits>,
    /// The backends' answers to `/readyz` and scrapes, bounded and cached.
    pub probe: crate::telemetry::probe::Probe,
    /// The OIDC provider's HTTPS client for calls to apps (back-channel logout, clients'
    /// published keys); `None` without `[oidc]`.
    pub outbound: Option<crate::outbound::HttpsClient>,
    /// Clients' key sets fetched from their `jwks_uri`, cached.
    pub client_keys: crate::oidc::client_keys::RemoteKeys,
    /// The partners' providers as reached (their documents, cached; the code exchange);
    /// `None` without `[federation]`.
    pub upstreams: Option<crate::federation::upstream::Upstreams>,
}

impl Shared {
    /// The backends as the probe asks them, with the metrics it writes to.
    pub fn probed(&self) -> crate::telemetry::probe::Backends<'_> {
        crate::telemetry::probe::Backends {
            store: &self.sessions,
            directory: self.directory.as_ref(),
            clock: &self.clock,
            metrics: &self.metrics.backends,
        }
    }

    /// What reads sessions' identities again from the directory, with the interval and grace
    /// of `snapshot`, auditing as `audit` says.
    pub fn refresher<'a>(
        &'a self,
        snapshot: &Snapshot,
        audit: crate::telemetry::audit::AuditContext<'a>,
    ) -> crate::directory_refresh::Refresher<'a> {
        crate::directory_refresh::Refresher {
            store: &self.sessions,
            directory: self.directory.as_ref(),
            settings: snapshot.config.directory_refresh,
            metrics: &self.metrics,
            audit,
        }
    }
}
