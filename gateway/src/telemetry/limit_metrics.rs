//! The metrics of the limits against floods and slow clients (`[limits]`): connections refused
//! for their address, idle connections closed to make room, request bodies cut off for being too
//! slow, and requests refused by an endpoint's rate limit. Registered by [`super::Metrics::new`]
//! with the others.

use prometheus::{IntCounter, IntCounterVec, Opts, Registry};

/// An endpoint with a rate limit per client address, as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitedEndpoint {
    /// `POST /login`.
    Login,
    /// The second-factor forms and passkey answers on the login host.
    SecondFactor,
    /// `POST /oidc/token`.
    Token,
    /// `POST /oidc/introspect`.
    Introspect,
    /// User codes entered on the device verification page (`/device`).
    Device,
}

impl LimitedEndpoint {
    /// Every endpoint, so each label is exported from the start.
    pub const ALL: [Self; 5] = [
        Self::Login,
        Self::SecondFactor,
        Self::Token,
        Self::Introspect,
        Self::Device,
    ];

    /// The label, also the key of its `[limits.rate.*]` table.
    pub fn label(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::SecondFactor => "second_factor",
            Self::Token => "token",
            Self::Introspect => "introspect",
            Self::Device => "device",
        }
    }
}

/// The limits' counters.
#[derive(Clone)]
pub struct LimitMetrics {
    /// Connections closed at accept because their address held its maximum.
    pub refused_per_address: IntCounter,
    /// Idle connections closed to make room for new ones.
    pub shed: IntCounter,
    /// Request bodies cut off for arriving slower than `body_min_rate`.
    pub slow_bodies: IntCounter,
    rate_limited: IntCounterVec,
}

impl LimitMetrics {
    /// Registers the counters in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let counter = |name: &str, help: &str| -> Result<IntCounter, prometheus::Error> {
            let counter = IntCounter::new(name, help)?;
            registry.register(Box::new(counter.clone()))?;
            Ok(counter)
        };
        let rate_limited = IntCounterVec::new(
            Opts::new(
                "pforte_rate_limited_total",
                "Requests refused with 429 by the rate limit per client address, by endpoint.",
            ),
            &["endpoint"],
        )?;
        for endpoint in LimitedEndpoint::ALL {
            rate_limited.with_label_values(&[endpoint.label()]);
        }
        registry.register(Box::new(rate_limited.clone()))?;
        Ok(Self {
            refused_per_address: counter(
                "pforte_connections_refused_total",
                "Connections closed at accept: their address held max_connections_per_address.",
            )?,
            shed: counter(
                "pforte_connections_shed_total",
                "Idle connections closed to make room when max_connections was nearly reached.",
            )?,
            slow_bodies: counter(
                "pforte_slow_bodies_total",
                "Request bodies cut off for arriving slower than limits.body_min_rate.",
            )?,
            rate_limited,
        })
    }

    /// One request refused by `endpoint`'s rate limit.
    pub fn record_rate_limited(&self, endpoint: LimitedEndpoint) {
        self.rate_limited
            .with_label_values(&[endpoint.label()])
            .inc();
    }

    /// Requests refused so far at `endpoint`.
    #[cfg(test)]
    pub fn rate_limited_count(&self, endpoint: LimitedEndpoint) -> u64 {
        self.rate_limited
            .with_label_values(&[endpoint.label()])
            .get()
    }
}
