//! What every handler on the login host needs for one request: the process state, the loaded
//! snapshot and the request's facts, with the few readings of them that pages, the OIDC
//! provider and the built-ins share.

use std::time::Duration;

use http::{HeaderMap, header};
use pforte_session::SessionStore;

use crate::config::Config;
use crate::config::lang::Lang;
use crate::state::{Shared, Snapshot};
use crate::telemetry::audit::AuditContext;
use crate::telemetry::limit_metrics::LimitedEndpoint;
use crate::web::client;
use crate::web::context::RequestContext;
use crate::web::error::GatewayError;
use crate::web::look::{self, Look};
use crate::web::url::port_suffix;

/// What the login host's handlers need for one request.
pub struct LoginHost<'a> {
    /// Process state: directory, sessions, metrics.
    pub shared: &'a Shared,
    /// The loaded config, routes, apps and policy.
    pub snapshot: &'a Snapshot,
    /// This request's facts.
    pub ctx: &'a RequestContext,
}

impl LoginHost<'_> {
    /// The loaded gateway config.
    pub fn config(&self) -> &Config {
        &self.snapshot.config
    }

    /// The session store.
    pub fn sessions(&self) -> &SessionStore {
        &self.shared.sessions
    }

    /// `:8443`, or nothing on the default HTTPS port: what URLs to this gateway carry.
    pub fn port_suffix(&self) -> String {
        port_suffix(self.config().server.public_https_port)
    }

    /// `https://login.example.org[:port]`, what the browser sends as `Origin` for our forms.
    pub fn login_origin(&self) -> String {
        format!(
            "https://{}{}",
            self.config().portal_host,
            self.port_suffix()
        )
    }

    /// The language of the page: the explicit choice, else the browser's, else the default.
    pub fn language(&self, choice: Option<&str>, headers: &HeaderMap) -> Lang {
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        look::language(self.config(), choice, accept)
    }

    /// The language and look of an error page for this request (`choice`: an explicit
    /// language, as [`Self::language`] takes it).
    pub fn look(&self, choice: Option<&str>) -> Look<'_> {
        Look::of(self.config(), choice, self.ctx.accept_language())
    }

    /// Whether the login page offers a passwordless passkey login: `[mfa] passwordless` (the
    /// default) with a directory to find people in.
    pub fn passwordless_offered(&self) -> bool {
        self.shared.directory.is_some()
            && self.config().mfa.as_ref().is_some_and(|m| m.passwordless)
    }

    /// How long a session cookie lives: the session's absolute timeout.
    pub fn cookie_lifetime(&self) -> Duration {
        self.config().sessions.sessions.absolute_timeout
    }

    /// Takes this request from its client's bucket at `endpoint` (`[limits.rate]`): the client
    /// as `web::client` believes it (a trusted proxy's report, else the peer).
    pub fn rate_limit(
        &self,
        endpoint: LimitedEndpoint,
        headers: &HeaderMap,
    ) -> Result<(), GatewayError> {
        let peer = self.ctx.peer.ip();
        let client = client::address(peer, self.snapshot.trusts(peer), headers);
        self.shared
            .rate_limits
            .check(endpoint, client::network(client))
            .map_err(|limited| GatewayError::RateLimited {
                retry_after: limited.retry_after,
            })
    }

    /// Where audit events of this request come from.
    pub fn audit_context(&self) -> AuditContext<'_> {
        self.ctx.audit()
    }
}
