//! `POST /federation/{id}/backchannel-logout`: the provider ends the local sessions its own
//! session (`sid`) or account (`sub`) opened (Back-Channel Logout 1.0 §2.5). The logout token
//! is checked with the provider's keys (fetched once more for an unknown key id); the answer is
//! `200` when it verified (whether or not a session was still open) and `400` with an OAuth
//! error otherwise, never cached.

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use pforte_federation::Provider;
use pforte_federation::identity::guest_subject;
use pforte_federation::logout_token::{self, LogoutRequest, LogoutTokenError};
use pforte_session::{Sid, StoreError};

use crate::federation::records;
use crate::federation::upstream::Refetch;
use crate::login_host::LoginHost;
use crate::proxy::body::FromClient;
use crate::telemetry::audit::{self, AuditEvent};
use crate::web::error::GatewayError;
use crate::web::form::Form;
use crate::web::reply::read_form;

/// Ends the sessions a provider's logout token names.
pub(super) async fn end<B: FromClient>(
    host: &LoginHost<'_>,
    provider: &Provider,
    req: Request<B>,
) -> Result<Response<Bytes>, GatewayError> {
    let Some(body) = read_form(req).await else {
        return Ok(answer(StatusCode::BAD_REQUEST, Some("invalid_request")));
    };
    let form = Form::parse(&body);
    let Some(token) = form.non_empty("logout_token") else {
        return Ok(answer(StatusCode::BAD_REQUEST, Some("invalid_request")));
    };
    let request = match verify(host, provider, token).await {
        Ok(request) => request,
        Err(reason) => {
            tracing::info!(provider = %provider.id, %reason, "a partner's logout token was refused");
            return Ok(answer(StatusCode::BAD_REQUEST, Some("invalid_request")));
        }
    };
    let ended = end_sessions(host, provider, &request).await?;
    audit::record(
        host.audit_context(),
        AuditEvent::FederatedLogout {
            provider: &provider.id,
            sessions: ended,
        },
    );
    Ok(answer(StatusCode::OK, None))
}

/// Why a logout token was not accepted.
#[derive(Debug, thiserror::Error)]
enum Unverified {
    #[error(transparent)]
    Token(#[from] LogoutTokenError),
    #[error("the provider's keys cannot be fetched: {0}")]
    Keys(String),
}

async fn verify(
    host: &LoginHost<'_>,
    provider: &Provider,
    token: &str,
) -> Result<LogoutRequest, Unverified> {
    let upstreams = host
        .shared
        .upstreams
        .as_ref()
        .ok_or_else(|| Unverified::Keys("federation is not set up".into()))?;
    let now = host.ctx.now.unix_secs();
    let metadata = upstreams
        .metadata(&provider.issuer, now)
        .await
        .map_err(|e| Unverified::Keys(e.to_string()))?;
    let outcome = upstreams
        .verify_with_keys(
            &metadata,
            Refetch::ForLogout,
            now,
            |keys| logout_token::verify(token, &provider.issuer, &provider.client_id, keys, now),
            |error| *error == LogoutTokenError::UnknownKey,
        )
        .await
        .map_err(|e| Unverified::Keys(e.to_string()))?
        .unwrap_or(Err(LogoutTokenError::UnknownKey));
    Ok(outcome?)
}

/// Ends the session the provider's `sid` opened, or every session of the account `sub` that
/// came from this provider; how many ended.
async fn end_sessions(
    host: &LoginHost<'_>,
    provider: &Provider,
    request: &LogoutRequest,
) -> Result<usize, StoreError> {
    let store = host.sessions();
    if let Some(sid) = &request.sid {
        let Some(local) = records::take_upstream_session(store, &provider.issuer, sid).await?
        else {
            return Ok(0);
        };
        let Ok(local) = Sid::parse(&local) else {
            return Ok(0);
        };
        return Ok(usize::from(store.revoke(&local).await?));
    }
    let Some(sub) = &request.sub else {
        return Ok(0);
    };
    let mut subjects = vec![guest_subject(&provider.issuer, sub)];
    if let Some(linked) = records::linked_subject(store, &provider.issuer, sub).await? {
        subjects.push(linked);
    }
    let mut ended = 0;
    for subject in subjects {
        for session in store.list(Some(&subject), host.ctx.now).await? {
            let from_here = session
                .federated
                .as_ref()
                .is_some_and(|f| f.issuer == provider.issuer && f.subject == *sub);
            if from_here && store.revoke(&session.sid).await? {
                ended += 1;
            }
        }
    }
    Ok(ended)
}

/// The endpoint's answer (Back-Channel Logout 1.0 §2.8): never cached.
fn answer(status: StatusCode, error: Option<&str>) -> Response<Bytes> {
    let body = error.map_or_else(Bytes::new, |e| {
        Bytes::from(format!("{{\"error\":\"{e}\"}}"))
    });
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    if error.is_some() {
        headers.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
    }
    response
}
