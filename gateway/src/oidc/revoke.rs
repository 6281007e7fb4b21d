//! `POST /oidc/revoke` (RFC 7009): a client ends one of its tokens. A refresh token ends its
//! whole family; an access token goes on the revocation list until it would expire. Unknown
//! tokens are answered like known ones (200), so the endpoint confirms nothing.

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use pforte_keys::KeySet;
use pforte_oidc::revoke::{Revocation, revoke_access_token, revoke_refresh_token};
use pforte_oidc::{Params, ProtocolError, RefreshToken};

use super::bearer;
use super::client_auth::{self, Callers};
use super::grants::Grants;
use super::provider::Provider;
use super::reply::refused;
use crate::login_host::LoginHost;
use crate::telemetry::audit::{self, AuditEvent, OidcEvent};
use crate::web::error::GatewayError;

/// Answers a revocation request.
pub async fn revoke(
    host: &LoginHost<'_>,
    provider: &Provider,
    keys: &KeySet,
    headers: &HeaderMap,
    form: &Params,
) -> Result<Response<Bytes>, GatewayError> {
    let refuse = |error: ProtocolError| Ok(refused(&host.shared.metrics, "revoke", &error));
    let (client, token) =
        match client_auth::token_request(host, provider, headers, form, Callers::AnyClient).await {
            Ok(request) => request,
            Err(error) => return refuse(error),
        };
    let now = host.ctx.now.unix_secs();
    let grants = Grants::new(&host.shared.sessions);
    let decided =
        if let Some(claims) = bearer::verify(keys, &host.snapshot.issuer, token, host.ctx.now) {
            revoke_access_token(&claims, client, now)
        } else if let Some(presented) = RefreshToken::parse(token) {
            let loaded = grants.family(presented.family_id()).await?;
            let family = loaded.as_ref().map(|l| &l.family);
            revoke_refresh_token(family, client, now)
        } else {
            Ok(Revocation::Nothing)
        };
    let revocation = match decided {
        Ok(revocation) => revocation,
        Err(error) => return refuse(error),
    };
    let what = match &revocation {
        Revocation::Nothing => None,
        Revocation::Family(family) => {
            grants.put_family(family, now).await?;
            Some("refresh token family")
        }
        Revocation::AccessToken { jti, until } => {
            grants.revoke_access_token(jti, *until, now).await?;
            Some("access token")
        }
    };
    if let Some(detail) = what {
        audit::record(
            host.audit_context(),
            AuditEvent::Oidc {
                event: OidcEvent::TokenRevoked,
                client: &client.id,
                subject: None,
                detail,
            },
        );
    }
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::OK;
    Ok(response)
}
