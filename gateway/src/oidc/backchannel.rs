//! What happens to OIDC clients when a session ends (logout on the portal, `end_session`, an
//! admin's revocation from any process): the refresh-token families started from it are
//! revoked, and every client that received tokens from it gets a signed logout token posted to
//! its `backchannel_logout_uri` (OIDC Back-Channel Logout 1.0).
//!
//! The session store queues a notice atomically with each revocation, and exactly one gateway
//! replica takes each notice, so a revocation made by `pforte-admin` (which runs no server) is
//! delivered too, and no client is told twice by two replicas. A client that does not answer
//! within the timeout is counted and audited; its tokens are dead anyway (the session is gone,
//! so refresh, userinfo and introspection refuse them).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, header};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use pforte_oidc::claims::{Issue, logout_token_claims};
use pforte_oidc::{Authentication, Client as OidcClient};
use pforte_policy::LoginStrength;
use pforte_session::{LogoutNotice, StoreError, Timestamp};
use rustls::crypto::CryptoProvider;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use super::grants::Grants;
use crate::state::Shared;
use crate::telemetry::audit::{self, AuditContext, AuditEvent, OidcEvent};

/// How long a client may take to answer a logout call.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one wait for a notice lasts before the loop looks at shutdown again.
const WAIT: Duration = Duration::from_secs(2);

/// Why the outbound client cannot be built.
#[derive(Debug, thiserror::Error)]
#[error("back-channel logout CA file {path}: {reason}")]
pub struct CaError {
    path: String,
    reason: String,
}

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// The HTTPS client that calls the clients' logout URIs.
pub struct Notifier {
    client: Client<Https, Full<Bytes>>,
}

impl Notifier {
    /// A client trusting the system's roots and, if given, the CA certificates in `extra_ca`.
    pub fn new(provider: &Arc<CryptoProvider>, extra_ca: Option<&Path>) -> Result<Self, CaError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        if let Some(path) = extra_ca {
            let fail = |reason: String| CaError {
                path: path.display().to_string(),
                reason,
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| fail(e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| fail(e.to_string()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(fail("no usable CA certificate in the file".into()));
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| CaError {
                path: "-".into(),
                reason: e.to_string(),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CALL_TIMEOUT));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// Takes logout notices from the store until shutdown and tells each notice's clients.
    pub async fn run(self, shared: Arc<Shared>) {
        loop {
            let notice = tokio::select! {
                () = shared.shutdown.cancelled() => return,
                notice = shared.sessions.next_logout(WAIT) => notice,
            };
            match notice {
                Ok(Some(notice)) => self.deliver(&shared, &notice).await,
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

    /// Revokes the session's refresh families, then posts a logout token to every client of
    /// the notice that registered a logout URI, all at once.
    async fn deliver(&self, shared: &Shared, notice: &LogoutNotice) {
        if let Err(error) = revoke_families(shared, notice).await {
            tracing::warn!(%error, sid = %notice.sid, "cannot revoke the refresh tokens of an ended session");
        }
        let snapshot = shared.snapshot.load();
        let (Some(provider), Some(keys)) = (&snapshot.oidc, &snapshot.keys) else {
            return;
        };
        let auth = Authentication {
            sid: notice.sid.to_string(),
            subject: notice.subject.clone(),
            auth_time: 0,
            login: LoginStrength::Password,
        };
        let at = Issue {
            issuer: &snapshot.issuer,
            salt: &provider.salt,
            now: Timestamp::now().unix_secs(),
        };
        let calls = notice
            .clients
            .iter()
            .filter_map(|id| provider.clients.get(id))
            .filter_map(|client| {
                let uri = client.backchannel_logout_uri.as_deref()?;
                let claims = logout_token_claims(at, client, &auth, rand::random());
                match keys.sign(&claims, "logout+jwt") {
                    Ok(token) => Some((client, uri, token)),
                    Err(error) => {
                        tracing::error!(%error, "cannot sign a logout token");
                        None
                    }
                }
            })
            .map(|(client, uri, token)| {
                self.call_client(shared, client, uri, token, &notice.subject)
            });
        futures_util::future::join_all(calls).await;
    }

    async fn call_client(
        &self,
        shared: &Shared,
        client: &OidcClient,
        uri: &str,
        token: String,
        subject: &str,
    ) {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("logout_token", &token)
            .finish();
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
            .body(Full::new(Bytes::from(body)));
        let outcome = match request {
            Ok(request) => tokio::time::timeout(CALL_TIMEOUT, self.client.request(request))
                .await
                .map_err(|_| "no answer in time".to_owned())
                .and_then(|r| r.map_err(|e| e.to_string()))
                .and_then(|response| {
                    if response.status().is_success() {
                        Ok(())
                    } else {
                        Err(format!("answered {}", response.status()))
                    }
                }),
            Err(error) => Err(error.to_string()),
        };
        shared.metrics.record_backchannel(outcome.is_ok());
        if let Err(reason) = outcome {
            tracing::warn!(client = %client.id, %reason, "back-channel logout failed");
            audit::record(
                AuditContext {
                    request_id: "",
                    source: None,
                },
                AuditEvent::Oidc {
                    event: OidcEvent::BackchannelFailed,
                    client: &client.id,
                    subject: Some(subject),
                    detail: &reason,
                },
            );
        }
    }
}

/// Marks every refresh family the session started as revoked, so a refresh fails at once and
/// introspection calls the tokens inactive (refresh also checks that the session lives).
async fn revoke_families(shared: &Shared, notice: &LogoutNotice) -> Result<(), StoreError> {
    let grants = Grants::new(&shared.sessions);
    let now = Timestamp::now().unix_secs();
    for id in shared.sessions.families_of(&notice.sid).await? {
        if let Some(loaded) = grants.family(&id).await?
            && !loaded.family.revoked
        {
            grants.put_family(&loaded.family.revoke(), now).await?;
        }
    }
    Ok(())
}
