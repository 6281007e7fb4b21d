//! `[limits]`: protection against slow, greedy and flooding clients. Every key has a default;
//! the ones that could make the gateway useless (a head buffer hyper refuses, no connections at
//! all, a rate with no burst) are checked, each at its place in the file.
//!
//! ```toml
//! [limits]
//! max_connections = 10000
//! max_connections_per_address = 256
//! first_request_grace = "2s"
//! body_min_rate = 512          # bytes per second, judged over each body_rate_window
//! body_rate_window = "30s"
//!
//! [limits.rate.login]          # also second_factor, token, introspect, device
//! per_minute = 30
//! burst = 10
//! ```
//!
//! `LimitsSection` (as written) ─▶ `validate` ─▶ [`Limits`] (what the server and the rate
//! limiter read). Like every `[limits]` key, the rates take effect at the next start, not on a
//! reload.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::error::Report;

/// `[limits]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSection {
    /// Time a client has to finish the TLS handshake and send a request's headers.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Largest request head accepted.
    pub max_header_bytes: Spanned<usize>,
    /// Connections served at once; when nearly all are taken, idle ones are closed.
    pub max_connections: Spanned<usize>,
    /// Connections one client address may hold at once (trusted proxies are exempt).
    pub max_connections_per_address: Spanned<usize>,
    /// A connection that has sent no request this long after it was accepted counts as idle
    /// (it may be closed to make room).
    #[serde(with = "humantime_serde")]
    pub first_request_grace: Duration,
    /// A connection with no request in flight and no traffic for this long is closed.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// The slowest a request body may arrive, in bytes per second over each window.
    pub body_min_rate: Spanned<u64>,
    /// The window over which `body_min_rate` is judged.
    pub body_rate_window: Spanned<humantime_serde::Serde<Duration>>,
    /// How long a shutdown waits for requests in flight before it closes them.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// `[limits.rate.*]`: requests per client address at the endpoints people or programs
    /// could flood.
    pub rate: RatesSection,
}

impl Default for LimitsSection {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: Spanned::new(0..0, 64 * 1024),
            max_connections: Spanned::new(0..0, 10_000),
            max_connections_per_address: Spanned::new(0..0, 256),
            first_request_grace: Duration::from_secs(2),
            idle_timeout: Duration::from_secs(60),
            body_min_rate: Spanned::new(0..0, 512),
            body_rate_window: Spanned::new(0..0, Duration::from_secs(30).into()),
            shutdown_grace: Duration::from_secs(30),
            rate: RatesSection::default(),
        }
    }
}

/// `[limits.rate]` as written: one table per limited endpoint.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RatesSection {
    /// `POST /login`.
    pub login: RateSection,
    /// The second-factor forms and passkey answers on the login host.
    pub second_factor: RateSection,
    /// `POST /oidc/token`.
    pub token: RateSection,
    /// `POST /oidc/introspect`.
    pub introspect: RateSection,
    /// The device verification page's code lookups (`/device` with a user code).
    pub device: RateSection,
}

/// `[limits.rate.ENDPOINT]` as written; a key left out takes the endpoint's default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateSection {
    /// Requests per minute one address may make on average; 0 turns the limit off.
    pub per_minute: Option<Spanned<u32>>,
    /// Requests one address may make at once before the average applies.
    pub burst: Option<Spanned<u32>>,
}

/// One endpoint's token bucket: `burst` requests at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Refill per minute; 0: no limit.
    pub per_minute: u32,
    /// Bucket size.
    pub burst: u32,
}

/// The rate of each limited endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    /// `POST /login`.
    pub login: Rate,
    /// Second-factor forms and passkey answers.
    pub second_factor: Rate,
    /// The token endpoint.
    pub token: Rate,
    /// The introspection endpoint.
    pub introspect: Rate,
    /// User codes entered on the device verification page.
    pub device: Rate,
}

/// Connection limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Handshake and request-head deadline.
    pub header_read_timeout: Duration,
    /// Largest request head.
    pub max_header_bytes: usize,
    /// Concurrent connections.
    pub max_connections: usize,
    /// Concurrent connections from one address.
    pub max_connections_per_address: usize,
    /// After this, a connection without a request counts as idle.
    pub first_request_grace: Duration,
    /// Idle connection lifetime.
    pub idle_timeout: Duration,
    /// Slowest request body, bytes per second.
    pub body_min_rate: u64,
    /// Window the body rate is judged over.
    pub body_rate_window: Duration,
    /// Drain time on shutdown.
    pub shutdown_grace: Duration,
    /// Requests per address at the limited endpoints.
    pub rates: Rates,
}

impl Default for Limits {
    fn default() -> Self {
        LimitsSection::default().validate(&mut Report::default())
    }
}

/// Smallest head buffer hyper accepts.
const MIN_HEADER_BYTES: usize = 8 * 1024;

/// The defaults: a person types a password a few times a minute; programs fetch tokens and
/// introspect far more often, mostly from a few server addresses.
const LOGIN: Rate = Rate {
    per_minute: 30,
    burst: 10,
};
const SECOND_FACTOR: Rate = Rate {
    per_minute: 30,
    burst: 10,
};
const TOKEN: Rate = Rate {
    per_minute: 1200,
    burst: 200,
};
const INTROSPECT: Rate = Rate {
    per_minute: 6000,
    burst: 1000,
};
/// A person types a device's user code once or twice (each lookup and each decision counts);
/// a guesser needs billions of tries.
const DEVICE: Rate = Rate {
    per_minute: 20,
    burst: 10,
};

impl LimitsSection {
    /// The limits, refusing a head buffer hyper would not take, zero connections, a zero body
    /// window and a rate without a burst.
    pub fn validate(&self, report: &mut Report) -> Limits {
        if *self.max_header_bytes.get_ref() < MIN_HEADER_BYTES {
            report.at(
                self.max_header_bytes.span(),
                "limits.max_header_bytes",
                format!("must be at least {MIN_HEADER_BYTES}"),
            );
        }
        for (value, key) in [
            (&self.max_connections, "limits.max_connections"),
            (
                &self.max_connections_per_address,
                "limits.max_connections_per_address",
            ),
        ] {
            if *value.get_ref() == 0 {
                report.at(value.span(), key, "must be at least 1");
            }
        }
        if self.body_rate_window.get_ref().is_zero() {
            report.at(
                self.body_rate_window.span(),
                "limits.body_rate_window",
                "must be longer than 0s (body_min_rate = 0 turns the check off)",
            );
        }
        let r = &self.rate;
        let rates = Rates {
            login: r.login.validate("login", LOGIN, report),
            second_factor: r
                .second_factor
                .validate("second_factor", SECOND_FACTOR, report),
            token: r.token.validate("token", TOKEN, report),
            introspect: r.introspect.validate("introspect", INTROSPECT, report),
            device: r.device.validate("device", DEVICE, report),
        };
        Limits {
            header_read_timeout: self.header_read_timeout,
            max_header_bytes: *self.max_header_bytes.get_ref(),
            max_connections: *self.max_connections.get_ref(),
            max_connections_per_address: *self.max_connections_per_address.get_ref(),
            first_request_grace: self.first_request_grace,
            idle_timeout: self.idle_timeout,
            body_min_rate: *self.body_min_rate.get_ref(),
            body_rate_window: **self.body_rate_window.get_ref(),
            shutdown_grace: self.shutdown_grace,
            rates,
        }
    }
}

impl RateSection {
    /// The rate, each missing key from `default`; a limit needs a burst of at least 1.
    fn validate(&self, endpoint: &str, default: Rate, report: &mut Report) -> Rate {
        let per_minute = self
            .per_minute
            .as_ref()
            .map_or(default.per_minute, |v| *v.get_ref());
        let burst = self.burst.as_ref().map_or(default.burst, |v| *v.get_ref());
        if per_minute > 0 && burst == 0 {
            let span = self
                .burst
                .as_ref()
                .or(self.per_minute.as_ref())
                .map_or(0..0, Spanned::span);
            report.at(
                span,
                format!("limits.rate.{endpoint}.burst"),
                "must be at least 1 (per_minute = 0 turns the limit off)",
            );
        }
        Rate { per_minute, burst }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> (Limits, Vec<String>) {
        #[derive(Deserialize)]
        struct File {
            limits: LimitsSection,
        }
        let file: File = toml::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        let mut report = Report::default();
        let limits = file.limits.validate(&mut report);
        let errors = match report.finish(std::path::Path::new("gateway.toml"), text) {
            Ok(()) => Vec::new(),
            Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
        };
        (limits, errors)
    }

    #[test]
    fn defaults_limit_every_endpoint_and_address() {
        let (limits, errors) = load("[limits]\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(limits.max_connections_per_address, 256);
        assert_eq!(limits.rates.login, LOGIN);
        assert_eq!(limits.rates.introspect, INTROSPECT);
        assert_eq!(limits.rates.device, DEVICE);
        assert_eq!(limits, Limits::default());
    }

    #[test]
    fn a_rate_takes_its_missing_key_from_the_default() {
        let (limits, errors) = load(
            "[limits.rate.login]\nper_minute = 6\n[limits.rate.token]\nper_minute = 0\nburst = 0\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            limits.rates.login,
            Rate {
                per_minute: 6,
                burst: 10
            }
        );
        assert_eq!(limits.rates.token.per_minute, 0);
    }

    #[test]
    fn bad_values_are_reported_at_their_line() {
        let (_, errors) = load(
            "[limits]\nmax_connections_per_address = 0\nbody_rate_window = \"0s\"\n\
             [limits.rate.introspect]\nper_minute = 60\nburst = 0\n",
        );
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains(":2:"), "{}", errors[0]);
        assert!(errors[1].contains(":3:"), "{}", errors[1]);
        assert!(
            errors[2].contains(":6:") && errors[2].contains("limits.rate.introspect.burst"),
            "{}",
            errors[2]
        );
    }

    #[test]
    fn unknown_rate_endpoints_are_refused() {
        let parsed: Result<RatesSection, _> = toml::from_str("[logn]\nper_minute = 1\n");
        assert!(parsed.is_err());
    }
}
