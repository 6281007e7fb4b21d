//! Every metric the gateway exports, registered in one place under the `pforte_` prefix, in base
//! units, with low-cardinality labels only (app, method class, status class, kind, result: never
//! a user, a path or an address).

use std::sync::Arc;

use prometheus::core::Collector;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// The registry and handles to each metric.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_duration: HistogramVec,
    upstream_errors: IntCounterVec,
    open_connections: IntGaugeVec,
    tls_handshakes: IntCounterVec,
    reloads: IntCounterVec,
    last_reload_success: IntGauge,
    tls_handshake_duration: Histogram,
    policy_decisions: IntCounterVec,
    policy_reloads: IntCounterVec,
    policy_last_reload_success: IntGauge,
    policy_rules: IntGauge,
    logins: IntCounterVec,
    lockouts: IntCounter,
    second_factors: IntCounterVec,
    identity_refreshes: IntCounterVec,
    oidc_tokens: IntCounterVec,
    oidc_refusals: IntCounterVec,
    oidc_backchannel: IntCounterVec,
    oidc_backchannel_given_up: IntCounter,
    reload_errors: IntCounterVec,
    /// The limits against floods and slow clients.
    pub limits: super::limit_metrics::LimitMetrics,
    /// The directory's servers and the session store: latency, errors, up, sessions.
    pub backends: super::backend_metrics::BackendMetrics,
    /// Certificate expiry and signing-key age, computed at scrape time.
    pub deadlines: super::deadlines::Deadlines,
}

/// Which part of a load refused a reload, as a metric label: what the operator must fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadPart {
    /// `gateway.toml` or the apps file.
    Config,
    /// A certificate or its key.
    Certificates,
    /// An app's upstream TLS settings.
    Upstreams,
    /// The policy files.
    Policy,
    /// The signing-key directory.
    Keys,
    /// The OpenID Connect clients file.
    Clients,
    /// The partners' providers file (`idps.toml`).
    Providers,
}

impl ReloadPart {
    const ALL: [Self; 7] = [
        Self::Config,
        Self::Certificates,
        Self::Upstreams,
        Self::Policy,
        Self::Keys,
        Self::Clients,
        Self::Providers,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Certificates => "certificates",
            Self::Upstreams => "upstreams",
            Self::Policy => "policy",
            Self::Keys => "keys",
            Self::Clients => "clients",
            Self::Providers => "providers",
        }
    }
}

/// How a login attempt ended, as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginResult {
    /// A session was opened.
    Success,
    /// Unknown user, wrong password or disabled account.
    BadCredentials,
    /// Refused by the brute-force throttle.
    Throttled,
    /// The directory did not answer.
    DirectoryUnavailable,
    /// The form failed the anti-forgery check.
    Csrf,
    /// An empty or malformed field.
    BadInput,
}

impl LoginResult {
    const ALL: [Self; 6] = [
        Self::Success,
        Self::BadCredentials,
        Self::Throttled,
        Self::DirectoryUnavailable,
        Self::Csrf,
        Self::BadInput,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::BadCredentials => "bad_credentials",
            Self::Throttled => "throttled",
            Self::DirectoryUnavailable => "directory_unavailable",
            Self::Csrf => "csrf",
            Self::BadInput => "bad_input",
        }
    }
}

/// What the policy said about a request, as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionResult {
    /// Allowed and forwarded.
    Allow,
    /// Denied by a rule or by default.
    Deny,
    /// Refused until the person logs in.
    LoginRequired,
    /// Refused until the person logs in more strongly.
    StepUpRequired,
}

impl DecisionResult {
    const ALL: [Self; 4] = [
        Self::Allow,
        Self::Deny,
        Self::LoginRequired,
        Self::StepUpRequired,
    ];

    /// The metric label, also the request span's `decision`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
            Self::LoginRequired => "login_required",
            Self::StepUpRequired => "step_up_required",
        }
    }
}

/// The decision counters of one app, by result, resolved once per app.
pub struct DecisionCounters([IntCounter; 4]);

impl DecisionCounters {
    /// One decision.
    pub fn record(&self, result: DecisionResult) {
        self.0[result as usize].inc();
    }
}

/// Why an upstream exchange failed, as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamErrorKind {
    /// No connection could be opened.
    Connect,
    /// The upstream did not answer in time.
    Timeout,
    /// The connection broke or the answer was not HTTP.
    Protocol,
}

/// The upstream-error counters of one app, by kind.
pub struct UpstreamErrors([IntCounter; 3]);

impl UpstreamErrors {
    /// One failed upstream exchange.
    pub fn record(&self, kind: UpstreamErrorKind) {
        self.0[kind as usize].inc();
    }
}

impl UpstreamErrorKind {
    const ALL: [Self; 3] = [Self::Connect, Self::Timeout, Self::Protocol];

    fn label(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Timeout => "timeout",
            Self::Protocol => "protocol",
        }
    }
}

/// The result of a reload, as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadResult {
    /// The new state is in use.
    Success,
    /// The new state was refused; the last good one stays.
    Error,
}

/// Which listener a connection came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerKind {
    /// The public HTTPS listener.
    Https,
    /// The plain-HTTP redirect listener.
    HttpRedirect,
}

impl ListenerKind {
    fn label(self) -> &'static str {
        match self {
            Self::Https => "https",
            Self::HttpRedirect => "http_redirect",
        }
    }
}

/// The method classes, the `method` label's values.
const METHOD_CLASSES: [&str; 3] = ["read", "write", "other"];
/// The status classes, the `status` label's values.
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Requests are grouped into few method classes to keep series few: an index into
/// [`METHOD_CLASSES`].
fn method_class(method: &http::Method) -> usize {
    match *method {
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS => 0,
        http::Method::POST | http::Method::PUT | http::Method::PATCH | http::Method::DELETE => 1,
        _ => 2,
    }
}

/// An index into [`STATUS_CLASSES`].
fn status_class(status: http::StatusCode) -> usize {
    usize::from(status.as_u16() / 100).clamp(1, 5) - 1
}

/// The request counters and duration histograms of one route target.
pub struct RouteMetrics {
    /// The `app` label, also used in the access log.
    pub label: Arc<str>,
    /// By method class, then status class.
    requests: Vec<IntCounter>,
    /// By method class.
    durations: Vec<Histogram>,
}

impl RouteMetrics {
    /// One answered request.
    pub fn record(&self, method: &http::Method, status: http::StatusCode, seconds: f64) {
        let method = method_class(method);
        if let Some(counter) = self
            .requests
            .get(method * STATUS_CLASSES.len() + status_class(status))
        {
            counter.inc();
        }
        if let Some(histogram) = self.durations.get(method) {
            histogram.observe(seconds);
        }
    }
}

/// Buckets from 1 ms to 60 s: proxied requests span that whole range.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// A registration failure; only possible through a programming error (a duplicate name).
#[derive(Debug, thiserror::Error)]
#[error("cannot register metric: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

/// Adds `collector` to `registry` and hands it back (a handle to the same series).
fn register<C: Collector + Clone + 'static>(
    registry: &Registry,
    collector: C,
) -> Result<C, prometheus::Error> {
    registry.register(Box::new(collector.clone()))?;
    Ok(collector)
}

/// Requests answered and their durations, by app and class.
fn register_http(registry: &Registry) -> Result<(IntCounterVec, HistogramVec), prometheus::Error> {
    let requests = IntCounterVec::new(
        Opts::new(
            "pforte_http_requests_total",
            "HTTP requests answered, by app, method class and status class.",
        ),
        &["app", "method", "status"],
    )?;
    let request_duration = HistogramVec::new(
        HistogramOpts::new(
            "pforte_http_request_duration_seconds",
            "Time from request head to the end of the response body.",
        )
        .buckets(DURATION_BUCKETS.to_vec()),
        &["app", "method"],
    )?;
    Ok((
        register(registry, requests)?,
        register(registry, request_duration)?,
    ))
}

/// Failed exchanges with upstream apps; each app's series are made by [`Metrics::upstream_errors`].
fn register_upstream(registry: &Registry) -> Result<IntCounterVec, prometheus::Error> {
    let upstream_errors = IntCounterVec::new(
        Opts::new(
            "pforte_upstream_errors_total",
            "Failed exchanges with upstream apps, by app and kind.",
        ),
        &["app", "kind"],
    )?;
    register(registry, upstream_errors)
}

/// Open client connections by listener, and TLS handshakes: counted by result, timed when they
/// succeed.
fn register_connections(
    registry: &Registry,
) -> Result<(IntGaugeVec, IntCounterVec, Histogram), prometheus::Error> {
    let open_connections = IntGaugeVec::new(
        Opts::new(
            "pforte_open_connections",
            "Client connections open now, by listener.",
        ),
        &["listener"],
    )?;
    for listener in [ListenerKind::Https, ListenerKind::HttpRedirect] {
        open_connections
            .with_label_values(&[listener.label()])
            .set(0);
    }
    let tls_handshakes = IntCounterVec::new(
        Opts::new("pforte_tls_handshakes_total", "TLS handshakes, by result."),
        &["result"],
    )?;
    for result in ["success", "error"] {
        tls_handshakes.with_label_values(&[result]);
    }
    let tls_handshake_duration = Histogram::with_opts(
        HistogramOpts::new(
            "pforte_tls_handshake_duration_seconds",
            "Time to complete a TLS handshake.",
        )
        .buckets(vec![
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
        ]),
    )?;
    Ok((
        register(registry, open_connections)?,
        register(registry, tls_handshakes)?,
        register(registry, tls_handshake_duration)?,
    ))
}

/// Reloads of the config and certificates, and when the last one succeeded.
fn register_reloads(registry: &Registry) -> Result<(IntCounterVec, IntGauge), prometheus::Error> {
    let reloads = IntCounterVec::new(
        Opts::new(
            "pforte_config_reloads_total",
            "Reloads of gateway.toml, the apps file and the certificates, by result.",
        ),
        &["result"],
    )?;
    for result in ["success", "error"] {
        reloads.with_label_values(&[result]);
    }
    let last_reload_success = IntGauge::new(
        "pforte_config_last_reload_success_timestamp_seconds",
        "Unix time of the last successful reload.",
    )?;
    Ok((
        register(registry, reloads)?,
        register(registry, last_reload_success)?,
    ))
}

/// The policy's decisions by app and result, its loads, when the one in force was loaded, and
/// its size.
fn register_policy(
    registry: &Registry,
) -> Result<(IntCounterVec, IntCounterVec, IntGauge, IntGauge), prometheus::Error> {
    let policy_decisions = IntCounterVec::new(
        Opts::new(
            "pforte_policy_decisions_total",
            "Access decisions of the policy, by app and result.",
        ),
        &["app", "result"],
    )?;
    let policy_reloads = IntCounterVec::new(
        Opts::new(
            "pforte_policy_reload_total",
            "Loads of the policy files (at start and on reload), by result; an error keeps the last good policy.",
        ),
        &["result"],
    )?;
    for result in ["success", "error"] {
        policy_reloads.with_label_values(&[result]);
    }
    let policy_last_reload_success = IntGauge::new(
        "pforte_policy_last_reload_success_timestamp_seconds",
        "Unix time the policy in force was loaded.",
    )?;
    let policy_rules = IntGauge::new("pforte_policy_rules", "Rules in the policy in force.")?;
    Ok((
        register(registry, policy_decisions)?,
        register(registry, policy_reloads)?,
        register(registry, policy_last_reload_success)?,
        register(registry, policy_rules)?,
    ))
}

/// Login attempts by result, and lockouts.
fn register_logins(registry: &Registry) -> Result<(IntCounterVec, IntCounter), prometheus::Error> {
    let logins = IntCounterVec::new(
        Opts::new(
            "pforte_logins_total",
            "Login attempts on the login page, by result.",
        ),
        &["result"],
    )?;
    for result in LoginResult::ALL {
        logins.with_label_values(&[result.label()]);
    }
    let lockouts = IntCounter::new(
        "pforte_login_lockouts_total",
        "Accounts or client addresses locked after too many failed logins.",
    )?;
    Ok((register(registry, logins)?, register(registry, lockouts)?))
}

/// Second-factor attempts by kind and result.
fn register_second_factors(registry: &Registry) -> Result<IntCounterVec, prometheus::Error> {
    let attempts = IntCounterVec::new(
        Opts::new(
            "pforte_second_factor_attempts_total",
            "Second-factor checks (step-up, enrolment, passwordless), by kind and result.",
        ),
        &["kind", "result"],
    )?;
    for kind in FactorKindLabel::ALL {
        for result in FactorResult::ALL {
            attempts.with_label_values(&[kind.label(), result.label()]);
        }
    }
    register(registry, attempts)
}

/// Identity refreshes of sessions by result.
fn register_identity_refreshes(registry: &Registry) -> Result<IntCounterVec, prometheus::Error> {
    let refreshes = IntCounterVec::new(
        Opts::new(
            "pforte_identity_refreshes_total",
            "Sessions' identities read again from the directory, by result.",
        ),
        &["result"],
    )?;
    for result in RefreshResult::ALL {
        refreshes.with_label_values(&[result.label()]);
    }
    register(registry, refreshes)
}

/// How a session's identity refresh ended, as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshResult {
    /// Read; nothing the gateway uses changed.
    Unchanged,
    /// Read; groups, name or mail changed.
    Changed,
    /// The person is disabled or gone: the session was ended.
    Ended,
    /// The directory did not answer; the last identity serves within the grace.
    Unavailable,
    /// The directory did not answer past the grace: the request was refused.
    Refused,
}

impl RefreshResult {
    const ALL: [Self; 5] = [
        Self::Unchanged,
        Self::Changed,
        Self::Ended,
        Self::Unavailable,
        Self::Refused,
    ];

    /// The label value.
    pub fn label(self) -> &'static str {
        match self {
            Self::Unchanged => "unchanged",
            Self::Changed => "changed",
            Self::Ended => "ended",
            Self::Unavailable => "unavailable",
            Self::Refused => "refused",
        }
    }
}

/// The kind of second factor, as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorKindLabel {
    /// An authenticator app's code.
    Totp,
    /// A passkey or security key.
    Passkey,
    /// A recovery code.
    RecoveryCode,
}

impl FactorKindLabel {
    const ALL: [Self; 3] = [Self::Totp, Self::Passkey, Self::RecoveryCode];

    /// The label value (also the audit log's `kind`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Passkey => "passkey",
            Self::RecoveryCode => "recovery_code",
        }
    }
}

/// How a second-factor check ended, as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorResult {
    /// Accepted.
    Success,
    /// Wrong code or assertion.
    Wrong,
    /// A right code used again.
    Replayed,
    /// Not the shape of a code or an assertion.
    Malformed,
    /// Refused by the brute-force throttle.
    Throttled,
}

impl FactorResult {
    const ALL: [Self; 5] = [
        Self::Success,
        Self::Wrong,
        Self::Replayed,
        Self::Malformed,
        Self::Throttled,
    ];

    /// The label value (also the audit log's failure detail).
    pub fn label(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Wrong => "wrong",
            Self::Replayed => "replayed",
            Self::Malformed => "malformed",
            Self::Throttled => "throttled",
        }
    }
}

/// The OpenID Connect provider: tokens issued by grant, refusals by endpoint and error code,
/// back-channel logout calls by result.
fn register_oidc(
    registry: &Registry,
) -> Result<(IntCounterVec, IntCounterVec, IntCounterVec), prometheus::Error> {
    let oidc_tokens = IntCounterVec::new(
        Opts::new(
            "pforte_oidc_tokens_issued_total",
            "Token responses of the OpenID Connect provider, by grant type.",
        ),
        &["grant"],
    )?;
    for grant in [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "device_code",
        "token_exchange",
    ] {
        oidc_tokens.with_label_values(&[grant]);
    }
    let oidc_refusals = IntCounterVec::new(
        Opts::new(
            "pforte_oidc_errors_total",
            "Requests the OpenID Connect provider refused, by endpoint and OAuth error code.",
        ),
        &["endpoint", "error"],
    )?;
    let oidc_backchannel = IntCounterVec::new(
        Opts::new(
            "pforte_oidc_backchannel_logout_total",
            "Back-channel logout calls to clients, by result.",
        ),
        &["result"],
    )?;
    for result in ["success", "error"] {
        oidc_backchannel.with_label_values(&[result]);
    }
    Ok((
        register(registry, oidc_tokens)?,
        register(registry, oidc_refusals)?,
        register(registry, oidc_backchannel)?,
    ))
}

/// Back-channel logouts given up (refused, retries spent, no retry slot, shutdown): the
/// client's own session with the person may live on, which an operator must hear of.
fn register_backchannel_given_up(registry: &Registry) -> Result<IntCounter, prometheus::Error> {
    let given_up = IntCounter::new(
        "pforte_oidc_backchannel_logout_given_up_total",
        "Back-channel logout notices given up for a client after their last attempt (audited as backchannel_failed).",
    )?;
    register(registry, given_up)
}

/// Refused reloads by the part that refused them, every part exported from the start.
fn register_reload_errors(registry: &Registry) -> Result<IntCounterVec, prometheus::Error> {
    let errors = IntCounterVec::new(
        Opts::new(
            "pforte_reload_errors_total",
            "Loads refused (at reload; the last good state stays), by the part at fault: config, certificates, upstreams, policy, keys, clients.",
        ),
        &["part"],
    )?;
    for part in ReloadPart::ALL {
        errors.with_label_values(&[part.label()]);
    }
    register(registry, errors)
}

/// `pforte_build_info`, always 1, with the running `version` as its label; nothing records it
/// later, so no handle is kept.
fn register_build_info(registry: &Registry, version: &str) -> Result<(), prometheus::Error> {
    let build_info = IntGaugeVec::new(
        Opts::new(
            "pforte_build_info",
            "Always 1; the labels say which build runs.",
        ),
        &["version"],
    )?;
    build_info.with_label_values(&[version]).set(1);
    registry.register(Box::new(build_info))
}

impl Metrics {
    /// Registers every metric; `version` goes into `pforte_build_info`; `clock` is what the
    /// readings computed at scrape time (certificate expiry, key age) read.
    pub fn new(version: &str, clock: pforte_session::Clock) -> Result<Self, MetricsError> {
        let registry = Registry::new();
        let (requests, request_duration) = register_http(&registry)?;
        let upstream_errors = register_upstream(&registry)?;
        let (open_connections, tls_handshakes, tls_handshake_duration) =
            register_connections(&registry)?;
        let (reloads, last_reload_success) = register_reloads(&registry)?;
        let (policy_decisions, policy_reloads, policy_last_reload_success, policy_rules) =
            register_policy(&registry)?;
        let (logins, lockouts) = register_logins(&registry)?;
        let second_factors = register_second_factors(&registry)?;
        let identity_refreshes = register_identity_refreshes(&registry)?;
        let (oidc_tokens, oidc_refusals, oidc_backchannel) = register_oidc(&registry)?;
        let oidc_backchannel_given_up = register_backchannel_given_up(&registry)?;
        let reload_errors = register_reload_errors(&registry)?;
        let limits = super::limit_metrics::LimitMetrics::register(&registry)?;
        let backends = super::backend_metrics::BackendMetrics::register(&registry)?;
        let deadlines = register(&registry, super::deadlines::Deadlines::new(clock)?)?;
        register(&registry, super::audit_log::counters::AuditMetrics::new()?)?;
        register_build_info(&registry, version)?;
        Ok(Self {
            registry,
            requests,
            request_duration,
            upstream_errors,
            open_connections,
            tls_handshakes,
            reloads,
            last_reload_success,
            tls_handshake_duration,
            policy_decisions,
            policy_reloads,
            policy_last_reload_success,
            policy_rules,
            logins,
            lockouts,
            second_factors,
            identity_refreshes,
            oidc_tokens,
            oidc_refusals,
            oidc_backchannel,
            oidc_backchannel_given_up,
            reload_errors,
            limits,
            backends,
            deadlines,
        })
    }

    /// The request series of one route target (an app, the login host, "no route"), resolved
    /// once so that recording a request is a few atomic adds and no label lookup.
    pub fn route(&self, label: &str) -> RouteMetrics {
        let requests = METHOD_CLASSES
            .iter()
            .flat_map(|method| {
                STATUS_CLASSES
                    .iter()
                    .map(move |status| self.requests.with_label_values(&[label, method, status]))
            })
            .collect();
        let durations = METHOD_CLASSES
            .iter()
            .map(|method| self.request_duration.with_label_values(&[label, method]))
            .collect();
        RouteMetrics {
            label: Arc::from(label),
            requests,
            durations,
        }
    }

    /// The upstream-error counters of one app, resolved once and exported at zero from the start
    /// (a series that appears only with its first error cannot be alerted on by rate).
    pub fn upstream_errors(&self, app: &str) -> UpstreamErrors {
        let counters = UpstreamErrorKind::ALL
            .map(|kind| self.upstream_errors.with_label_values(&[app, kind.label()]));
        UpstreamErrors(counters)
    }

    /// The open-connections gauge of a listener; the caller increments and decrements it.
    pub fn open_connections(&self, listener: ListenerKind) -> IntGauge {
        self.open_connections.with_label_values(&[listener.label()])
    }

    /// One TLS handshake.
    pub fn record_tls_handshake(&self, ok: bool, seconds: f64) {
        self.tls_handshakes
            .with_label_values(&[if ok { "success" } else { "error" }])
            .inc();
        if ok {
            self.tls_handshake_duration.observe(seconds);
        }
    }

    /// One reload, stamped with `now_unix`.
    pub fn record_reload(&self, result: ReloadResult, now_unix: i64) {
        let label = match result {
            ReloadResult::Success => "success",
            ReloadResult::Error => "error",
        };
        self.reloads.with_label_values(&[label]).inc();
        if result == ReloadResult::Success {
            self.last_reload_success.set(now_unix);
        }
    }

    /// The decision counters of one app, exported at zero from the start.
    pub fn decisions(&self, app: &str) -> DecisionCounters {
        DecisionCounters(DecisionResult::ALL.map(|result| {
            self.policy_decisions
                .with_label_values(&[app, result.label()])
        }))
    }

    /// One load of the policy files, stamped with `now_unix`; `rules` is the size of the policy
    /// now in force (after an error, the last good one's).
    pub fn record_policy_load(&self, result: ReloadResult, now_unix: i64, rules: usize) {
        let label = match result {
            ReloadResult::Success => "success",
            ReloadResult::Error => "error",
        };
        self.policy_reloads.with_label_values(&[label]).inc();
        if result == ReloadResult::Success {
            self.policy_last_reload_success.set(now_unix);
        }
        self.policy_rules
            .set(i64::try_from(rules).unwrap_or(i64::MAX));
    }

    /// Unix time of the last successful reload (the start counts as one).
    pub fn last_reload_success(&self) -> i64 {
        self.last_reload_success.get()
    }

    /// Counts one token response of the OpenID Connect provider.
    pub fn record_oidc_tokens(&self, grant: &str) {
        self.oidc_tokens.with_label_values(&[grant]).inc();
    }

    /// Counts a request the OpenID Connect provider refused; `error` is the OAuth error code,
    /// a closed set, so the label cannot grow without bound.
    pub fn record_oidc_refusal(&self, endpoint: &'static str, error: &'static str) {
        self.oidc_refusals
            .with_label_values(&[endpoint, error])
            .inc();
    }

    /// Counts one back-channel logout call.
    pub fn record_backchannel(&self, delivered: bool) {
        let result = if delivered { "success" } else { "error" };
        self.oidc_backchannel.with_label_values(&[result]).inc();
    }

    /// Counts one back-channel logout given up.
    pub fn record_backchannel_given_up(&self) {
        self.oidc_backchannel_given_up.inc();
    }

    /// Counts one refused reload by the part that refused it (besides
    /// `pforte_config_reloads_total{result="error"}`, which counts every refused reload).
    pub fn record_reload_error(&self, part: ReloadPart) {
        self.reload_errors.with_label_values(&[part.label()]).inc();
    }

    /// One login attempt.
    pub fn record_login(&self, result: LoginResult) {
        self.logins.with_label_values(&[result.label()]).inc();
    }

    /// One account or address locked.
    pub fn record_lockout(&self) {
        self.lockouts.inc();
    }

    /// Counts a second-factor check.
    pub fn record_second_factor(&self, kind: FactorKindLabel, result: FactorResult) {
        self.second_factors
            .with_label_values(&[kind.label(), result.label()])
            .inc();
    }

    /// Counts a session's identity refresh.
    pub fn record_identity_refresh(&self, result: RefreshResult) {
        self.identity_refreshes
            .with_label_values(&[result.label()])
            .inc();
    }

    /// The text exposition format for `/metrics`.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metrics; an empty page would show it.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prefixed_metrics_with_classes() {
        let m = Metrics::new("1.2.3", pforte_session::Clock::system()).unwrap();
        m.route("mail")
            .record(&http::Method::POST, http::StatusCode::BAD_GATEWAY, 0.01);
        let errors = m.upstream_errors("mail");
        errors.record(UpstreamErrorKind::Timeout);
        m.record_reload(ReloadResult::Error, 5);
        m.decisions("mail").record(DecisionResult::LoginRequired);
        m.record_policy_load(ReloadResult::Success, 7, 12);
        m.record_policy_load(ReloadResult::Error, 9, 12);
        let text = String::from_utf8(m.render()).unwrap();
        assert!(
            text.contains(
                "pforte_http_requests_total{app=\"mail\",method=\"write\",status=\"5xx\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("pforte_upstream_errors_total{app=\"mail\",kind=\"timeout\"} 1"));
        assert!(text.contains("pforte_upstream_errors_total{app=\"mail\",kind=\"connect\"} 0"));
        assert!(text.contains("pforte_config_reloads_total{result=\"error\"} 1"));
        assert!(text.contains("pforte_config_reloads_total{result=\"success\"} 0"));
        assert!(text.contains("pforte_build_info{version=\"1.2.3\"} 1"));
        assert!(
            text.contains(
                "pforte_policy_decisions_total{app=\"mail\",result=\"login_required\"} 1"
            )
        );
        assert!(text.contains("pforte_policy_decisions_total{app=\"mail\",result=\"allow\"} 0"));
        assert!(text.contains("pforte_policy_reload_total{result=\"error\"} 1"));
        assert!(text.contains("pforte_policy_last_reload_success_timestamp_seconds 7"));
        assert!(text.contains("pforte_policy_rules 12"));
        assert!(text.contains("pforte_config_last_reload_success_timestamp_seconds 0"));
    }
}
