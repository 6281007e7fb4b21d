//! What happens to OIDC clients when a session ends (logout on the portal, `end_session`, an
//! admin's revocation from any process): the refresh-token families started from it are
//! revoked, and every client that received tokens from it gets a signed logout token posted to
//! its `backchannel_logout_uri` (OIDC Back-Channel Logout 1.0).
//!
//! The session store queues a notice atomically with each revocation, and exactly one gateway
//! replica takes each notice, so a revocation made by `pforte-admin` (which runs no server) is
//! delivered too, and no client is told twice by two replicas.
//!
//! ```text
//! run: take a permit ─▶ take a notice ─▶ spawn deliver ─▶ (next notice)
//! deliver: revoke families ─▶ per client, at once: attempt ─▶ release the permit
//!          ─▶ each failed client: keep_trying, under a retry slot (none free: give up)
//! attempt: sign a fresh token ─▶ post ─▶ 2xx: done
//! keep_trying: transient failure: wait (1 s, 5 s, 30 s, 2 min), attempt again
//!              refused, schedule spent, or shutdown: give up (audited)
//! ```
//!
//! A relying party that restarts for a few seconds would otherwise keep a logged-out person's
//! local session, so connection errors, timeouts, 5xx and 429 are retried; any other answer is
//! the client's verdict on the token (a 400 says it could not log out, §2.8), and the same call
//! would get it again. Each delivery runs as its own task, so a slow or dead client holds up
//! nobody else, and at most [`MAX_IN_FLIGHT`] notices are in their first attempts: past that the
//! notices wait in the store's queue, not in memory. A notice gives its place back once every
//! client had its first call; the retries wait apart, at most [`MAX_RETRYING`] calls, so an app
//! that is down for minutes cannot fill the places and hold up every other app's logouts (it
//! did: each notice kept its place through the whole schedule, so 256 logouts while one app was
//! down stopped all back-channel logout for about two and a half minutes). Every call is
//! counted; a call given up is audited. The ended session's tokens are dead either way (refresh,
//! userinfo and introspection refuse them).

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use pforte_oidc::Authentication;
use pforte_oidc::claims::{Issue, logout_token_claims};
use pforte_policy::LoginStrength;
use pforte_session::{LogoutNotice, StoreError};
use tokio::sync::Semaphore;

use super::grants::Grants;
use crate::outbound::{self, FetchError, HttpsClient};
use crate::state::Shared;
use crate::telemetry::audit::{self, AuditContext, AuditEvent, OidcEvent};
use crate::telemetry::error_chain;

/// The most of a client's answer read: only its status matters.
const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// How long one wait for a notice lasts before the loop looks at shutdown again.
const WAIT: Duration = Duration::from_secs(2);

/// The waits before each retry of a call that failed transiently: about two and a half
/// minutes in all, enough for a client to restart, short enough that it is not told long
/// after the person left.
const RETRY_AFTER: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
];

/// How many notices may be in their first delivery at once, so a mass revocation cannot grow
/// memory without limit.
const MAX_IN_FLIGHT: usize = 256;

/// How many calls may wait for a retry at once; a failed call beyond that is given up at once
/// (audited), so a dead client cannot grow memory without limit either.
const MAX_RETRYING: usize = 4096;

/// Why one logout call failed; [`Failure::transient`] says whether trying again may help. The
/// display names the step; the cause is the source, logged with `telemetry::error_chain`.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// The token could not be signed.
    #[error("cannot sign the logout token")]
    Sign(#[source] pforte_keys::TokenError),
    /// The call got no answer (see [`FetchError`]; its timeout is the outbound client's).
    #[error(transparent)]
    Call(FetchError),
    /// The client answered with a status other than 2xx.
    #[error("answered {0}")]
    Status(StatusCode),
}

impl Failure {
    /// Whether the same call may succeed later: the client was unreachable, slow, failing
    /// (5xx) or asked us to slow down (429). Any other answer is the client's verdict on the
    /// token, and our own failures to sign or build the call would recur.
    fn transient(&self) -> bool {
        match self {
            Self::Call(FetchError::Connection(_) | FetchError::Timeout) => true,
            Self::Status(status) => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            Self::Call(
                FetchError::Request(_)
                | FetchError::Status(_)
                | FetchError::Body
                | FetchError::Invalid(_),
            )
            | Self::Sign(_) => false,
        }
    }
}

/// How long to wait before trying a call again after `failure` ended attempt number
/// `attempts` (counted from 1), or `None` to give up.
fn retry_after(failure: &Failure, attempts: usize) -> Option<Duration> {
    if !failure.transient() {
        return None;
    }
    RETRY_AFTER.get(attempts.checked_sub(1)?).copied()
}

/// The HTTPS client that calls the clients' logout URIs.
pub struct Notifier {
    client: HttpsClient,
}

impl Notifier {
    /// A notifier calling through `client` (see [`crate::outbound`]).
    pub fn new(client: HttpsClient) -> Self {
        Self { client }
    }

    /// Takes logout notices from the store until shutdown and delivers each in its own task
    /// (tracked by `shared.tasks`), taking a notice only while fewer than [`MAX_IN_FLIGHT`]
    /// are in their first delivery.
    pub async fn run(self, shared: Arc<Shared>) {
        let notifier = Arc::new(self);
        let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let retrying = Arc::new(Semaphore::new(MAX_RETRYING));
        loop {
            let permit = tokio::select! {
                () = shared.shutdown.cancelled() => return,
                permit = in_flight.clone().acquire_owned() => permit,
            };
            // Only a closed semaphore refuses, and this one is never closed.
            let Ok(permit) = permit else { return };
            let notice = tokio::select! {
                () = shared.shutdown.cancelled() => return,
                notice = shared.sessions.next_logout(WAIT) => notice,
            };
            match notice {
                Ok(Some(notice)) => {
                    let (notifier, task_shared) = (notifier.clone(), shared.clone());
                    let retrying = retrying.clone();
                    shared.tasks.spawn(async move {
                        let failed = notifier.deliver(&task_shared, &notice).await;
                        drop(permit);
                        notifier.retry_later(&task_shared, notice, failed, &retrying);
                    });
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, "cannot read logout notices from the session store");
                    tokio::select! {
                        () = shared.shutdown.cancelled() => return,
                        () = tokio::time::sleep(WAIT) => {}
                    }
                }
            }
        }
    }

    /// Revokes the session's refresh families, then makes the first call to every client of
    /// the notice, all at once; returns the clients whose call failed, with the failure.
    async fn deliver(&self, shared: &Shared, notice: &LogoutNotice) -> Vec<(String, Failure)> {
        if let Err(error) = revoke_families(shared, notice).await {
            tracing::warn!(%error, sid = %notice.sid, "cannot revoke the refresh tokens of an ended session");
        }
        let calls = notice
            .clients
            .iter()
            .map(|client| async move { (client, self.attempt(shared, notice, client).await) });
        futures_util::future::join_all(calls)
            .await
            .into_iter()
            .filter_map(|(client, outcome)| match outcome {
                Some(Err(failure)) => Some((client.clone(), failure)),
                None | Some(Ok(())) => None,
            })
            .collect()
    }

    /// Gives each call of `notice` that failed transiently its own task that keeps trying, while
    /// a retry slot is free; other failures, and any without a free slot, are given up at once.
    fn retry_later(
        self: &Arc<Self>,
        shared: &Arc<Shared>,
        notice: LogoutNotice,
        failed: Vec<(String, Failure)>,
        retrying: &Arc<Semaphore>,
    ) {
        let notice = Arc::new(notice);
        for (client, failure) in failed {
            if !failure.transient() {
                give_up(shared, &notice, &client, &error_chain(&failure), 1);
                continue;
            }
            let Ok(slot) = retrying.clone().try_acquire_owned() else {
                let reason = format!("{}; too many retries pending", error_chain(&failure));
                give_up(shared, &notice, &client, &reason, 1);
                continue;
            };
            let (notifier, task_shared, notice) = (self.clone(), shared.clone(), notice.clone());
            shared.tasks.spawn(async move {
                notifier
                    .keep_trying(&task_shared, &notice, &client, failure)
                    .await;
                drop(slot);
            });
        }
    }

    /// One call to `client`: a logout token signed now (fresh `jti`, so a client that
    /// remembers `jti`s does not take a retry for a replay), posted, counted; `None` when there
    /// is nobody to tell any more.
    async fn attempt(
        &self,
        shared: &Shared,
        notice: &LogoutNotice,
        client: &str,
    ) -> Option<Result<(), Failure>> {
        let outcome = match signed_call(shared, notice, client)? {
            Ok((uri, token)) => self.post(&uri, token).await,
            Err(failure) => Err(failure),
        };
        shared.metrics.record_backchannel(outcome.is_ok());
        Some(outcome)
    }

    /// After the first call failed with `failure`: tries again on the schedule until the
    /// client accepts a token, refuses one, the schedule runs out or the gateway shuts down.
    async fn keep_trying(
        &self,
        shared: &Shared,
        notice: &LogoutNotice,
        client: &str,
        mut failure: Failure,
    ) {
        let mut attempts = 1;
        let reason = loop {
            // The whole chain, for the log line and the audit record.
            let chain = error_chain(&failure);
            let Some(delay) = retry_after(&failure, attempts) else {
                break chain;
            };
            tracing::debug!(
                client, failure = %chain, attempts, ?delay,
                "back-channel logout failed, trying again"
            );
            tokio::select! {
                () = shared.shutdown.cancelled() => break format!("{chain}; shutting down"),
                () = tokio::time::sleep(delay) => {}
            }
            attempts += 1;
            match self.attempt(shared, notice, client).await {
                None | Some(Ok(())) => return,
                Some(Err(next)) => failure = next,
            }
        };
        give_up(shared, notice, client, &reason, attempts);
    }

    /// One logout call: `token` posted as a form to `uri`.
    async fn post(&self, uri: &str, token: String) -> Result<(), Failure> {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("logout_token", &token)
            .finish();
        let (status, _) = outbound::post_form(&self.client, uri, body, None, MAX_ANSWER_BYTES)
            .await
            .map_err(Failure::Call)?;
        if status.is_success() {
            Ok(())
        } else {
            Err(Failure::Status(status))
        }
    }
}

/// Logs, audits and counts a call given up after `attempts` calls.
fn give_up(shared: &Shared, notice: &LogoutNotice, client: &str, reason: &str, attempts: usize) {
    tracing::warn!(client, %reason, attempts, "back-channel logout failed");
    shared.metrics.record_backchannel_given_up();
    let detail = format!("{reason}; attempts: {attempts}");
    audit::record(
        AuditContext {
            request_id: "",
            source: None,
        },
        AuditEvent::Oidc {
            event: OidcEvent::BackchannelFailed,
            client,
            subject: Some(&notice.subject),
            detail: &detail,
        },
    );
}

/// The logout URI of `client` and a logout token for it signed now (fresh `jti` and `iat`),
/// from the current snapshot; `None` when there is nobody to tell any more (OIDC or keys no
/// longer configured, or a reload removed the client or its logout URI).
fn signed_call(
    shared: &Shared,
    notice: &LogoutNotice,
    client: &str,
) -> Option<Result<(String, String), Failure>> {
    let snapshot = shared.snapshot.load();
    let (Some(provider), Some(keys)) = (&snapshot.oidc, &snapshot.keys) else {
        return None;
    };
    let client = provider.clients.get(client)?;
    let uri = client.backchannel_logout_uri.clone()?;
    let auth = Authentication {
        sid: notice.sid.to_string(),
        subject: notice.subject.clone(),
        auth_time: 0,
        login: LoginStrength::Password,
        methods: Vec::new(),
    };
    let at = Issue {
        issuer: &snapshot.issuer,
        salt: &provider.salt,
        now: shared.clock.now().unix_secs(),
    };
    let claims = logout_token_claims(at, client, &auth, rand::random());
    Some(
        keys.sign(&claims, "logout+jwt")
            .map(|token| (uri, token))
            .map_err(Failure::Sign),
    )
}

/// Marks every refresh family the session started as revoked, so a refresh fails at once and
/// introspection calls the tokens inactive (refresh also checks that the session lives).
async fn revoke_families(shared: &Shared, notice: &LogoutNotice) -> Result<(), StoreError> {
    let grants = Grants::new(&shared.sessions);
    let now = shared.clock.now().unix_secs();
    for id in shared.sessions.families_of(&notice.sid).await? {
        if let Some(loaded) = grants.family(&id).await?
            && !loaded.family.revoked
        {
            grants.put_family(&loaded.family.revoke(), now).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::Request;
    use http_body_util::Full;
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;

    use super::*;

    fn status(code: u16) -> Failure {
        Failure::Status(StatusCode::from_u16(code).unwrap())
    }

    /// A real client error: nothing listens on the port called.
    async fn refused() -> hyper_util::client::legacy::Error {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client: Client<HttpConnector, Full<Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        client
            .get(format!("http://127.0.0.1:{port}/").parse().unwrap())
            .await
            .unwrap_err()
    }

    #[tokio::test]
    async fn unreachable_slow_failing_and_throttling_clients_are_retried() {
        for failure in [
            Failure::Call(FetchError::Connection(refused().await)),
            Failure::Call(FetchError::Timeout),
            status(500),
            status(502),
            status(503),
            status(504),
            status(429),
        ] {
            assert_eq!(
                retry_after(&failure, 1),
                Some(Duration::from_secs(1)),
                "{failure}"
            );
        }
    }

    #[test]
    fn refusals_and_our_own_failures_are_not_retried() {
        for failure in [
            status(400),
            status(401),
            status(403),
            status(404),
            status(301),
            Failure::Call(FetchError::Request(
                Request::builder().uri("no uri").body(()).unwrap_err(),
            )),
            Failure::Sign(pforte_keys::TokenError::Signing("no key".into())),
        ] {
            assert_eq!(retry_after(&failure, 1), None, "{failure}");
        }
    }

    #[test]
    fn retries_follow_the_schedule_then_stop() {
        let waits: Vec<_> = (1..=6)
            .map(|attempts| retry_after(&Failure::Call(FetchError::Timeout), attempts))
            .collect();
        assert_eq!(
            waits,
            [
                Some(Duration::from_secs(1)),
                Some(Duration::from_secs(5)),
                Some(Duration::from_secs(30)),
                Some(Duration::from_secs(120)),
                None,
                None,
            ]
        );
        assert_eq!(retry_after(&Failure::Call(FetchError::Timeout), 0), None);
    }
}
