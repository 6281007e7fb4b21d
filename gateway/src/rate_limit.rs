//! Rate limits per client address at the endpoints one address could flood: the login form,
//! the second-factor forms and passkey answers, the OIDC token and introspection endpoints, the
//! device verification page's code lookups (`[limits.rate.*]`). Each is a token bucket per
//! address (GCRA, by `governor`, in its keyed DashMap store): `burst` requests at once,
//! refilled at `per_minute`. The buckets are timed by the gateway's clock, so tests move it
//! instead of sleeping.
//!
//! The address is the one the gateway believes (`web::client`): the peer, or what a trusted
//! proxy reports. The buckets live in each replica: with N replicas behind a balancer, an address
//! may make up to N times the rate. Addresses whose buckets are full again are forgotten every
//! minute ([`RateLimits::forget_quiet_addresses`]), so the memory follows the addresses active in
//! the last minutes, not every address ever seen.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use pforte_session::Clock;

use crate::config::limits::{Rate, Rates};
use crate::telemetry::limit_metrics::{LimitMetrics, LimitedEndpoint};

/// How often the buckets of quiet addresses are dropped.
const FORGET_EVERY: Duration = Duration::from_secs(60);

/// The gateway's clock as `governor` reads it.
#[derive(Clone)]
struct Ticks(Clock);

impl GovernorClock for Ticks {
    type Instant = std::time::Instant;

    fn now(&self) -> Self::Instant {
        self.0.instant()
    }
}

type Buckets =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, Ticks, NoOpMiddleware<std::time::Instant>>;

/// The buckets of every limited endpoint; an endpoint whose `per_minute` is 0 has none.
pub struct RateLimits {
    login: Option<Buckets>,
    second_factor: Option<Buckets>,
    token: Option<Buckets>,
    introspect: Option<Buckets>,
    device: Option<Buckets>,
    clock: Ticks,
    metrics: LimitMetrics,
}

/// A request refused by its endpoint's rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// Whole seconds until the address may try again (at least 1), for `Retry-After`.
    pub retry_after: u64,
}

impl RateLimits {
    /// Buckets for `rates`, timed by `clock`, refusals counted in `metrics`.
    pub fn new(rates: &Rates, clock: Clock, metrics: LimitMetrics) -> Arc<Self> {
        let clock = Ticks(clock);
        let buckets = |rate: Rate| {
            let per_minute = NonZeroU32::new(rate.per_minute)?;
            let burst = NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
            let quota = Quota::per_minute(per_minute).allow_burst(burst);
            Some(RateLimiter::new(
                quota,
                DefaultKeyedStateStore::default(),
                clock.clone(),
            ))
        };
        Arc::new(Self {
            login: buckets(rates.login),
            second_factor: buckets(rates.second_factor),
            token: buckets(rates.token),
            introspect: buckets(rates.introspect),
            device: buckets(rates.device),
            clock,
            metrics,
        })
    }

    /// Takes one request of `client` at `endpoint` from its bucket; [`Limited`] (counted) when
    /// the bucket is empty.
    pub fn check(&self, endpoint: LimitedEndpoint, client: IpAddr) -> Result<(), Limited> {
        let Some(buckets) = self.buckets(endpoint) else {
            return Ok(());
        };
        buckets.check_key(&client).map_err(|not_until| {
            self.metrics.record_rate_limited(endpoint);
            let now = self.clock.now();
            let wait = not_until.earliest_possible().duration_since(now);
            Limited {
                retry_after: (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1),
            }
        })
    }

    fn buckets(&self, endpoint: LimitedEndpoint) -> Option<&Buckets> {
        match endpoint {
            LimitedEndpoint::Login => self.login.as_ref(),
            LimitedEndpoint::SecondFactor => self.second_factor.as_ref(),
            LimitedEndpoint::Token => self.token.as_ref(),
            LimitedEndpoint::Introspect => self.introspect.as_ref(),
            LimitedEndpoint::Device => self.device.as_ref(),
        }
    }

    /// Drops the buckets that are full again (their addresses are as if never seen) and gives
    /// the memory back.
    pub fn forget(&self) {
        for buckets in [
            &self.login,
            &self.second_factor,
            &self.token,
            &self.introspect,
            &self.device,
        ]
        .into_iter()
        .flatten()
        {
            buckets.retain_recent();
            buckets.shrink_to_fit();
        }
    }

    /// Runs [`Self::forget`] every minute, for as long as the process lives.
    pub async fn forget_quiet_addresses(self: Arc<Self>) {
        let mut every = tokio::time::interval(FORGET_EVERY);
        loop {
            every.tick().await;
            self.forget();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pforte_session::Timestamp;

    fn limits(login: Rate) -> (Arc<RateLimits>, Clock) {
        let clock = Clock::manual(Timestamp::from_unix_secs(1_000_000));
        let rates = Rates {
            login,
            second_factor: Rate {
                per_minute: 0,
                burst: 0,
            },
            token: login,
            introspect: login,
            device: login,
        };
        let metrics =
            LimitMetrics::register(&prometheus::Registry::new()).unwrap_or_else(|e| panic!("{e}"));
        (RateLimits::new(&rates, clock.clone(), metrics), clock)
    }

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn a_burst_then_refusal_until_the_bucket_refills() {
        let (limits, clock) = limits(Rate {
            per_minute: 6,
            burst: 3,
        });
        for _ in 0..3 {
            assert_eq!(limits.check(LimitedEndpoint::Login, A), Ok(()));
        }
        let refused = limits.check(LimitedEndpoint::Login, A);
        assert_eq!(refused, Err(Limited { retry_after: 10 }));
        assert_eq!(
            limits.check(LimitedEndpoint::Login, B),
            Ok(()),
            "per address"
        );
        assert_eq!(
            limits.check(LimitedEndpoint::Token, A),
            Ok(()),
            "per endpoint"
        );
        clock
            .advance(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(limits.check(LimitedEndpoint::Login, A), Ok(()));
        assert!(limits.check(LimitedEndpoint::Login, A).is_err());
        assert_eq!(limits.metrics.rate_limited_count(LimitedEndpoint::Login), 2);
    }

    #[test]
    fn zero_per_minute_is_no_limit_and_quiet_addresses_are_forgotten() {
        let (limits, clock) = limits(Rate {
            per_minute: 60,
            burst: 1,
        });
        for _ in 0..100 {
            assert_eq!(limits.check(LimitedEndpoint::SecondFactor, A), Ok(()));
        }
        assert_eq!(limits.check(LimitedEndpoint::Login, A), Ok(()));
        assert_eq!(limits.login.as_ref().map(|b| b.len()), Some(1));
        clock
            .advance(Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("{e}"));
        limits.forget();
        assert_eq!(limits.login.as_ref().map(|b| b.len()), Some(0));
    }
}
