//! `POST /oidc/introspect` (RFC 7662): whether a token is active, for authenticated
//! confidential clients (resource servers). An unknown, expired or revoked token, and a refresh
//! token of another client, are all just `{"active": false}`.

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use pforte_keys::KeySet;
use pforte_oidc::claims::{Introspection, subject_for};
use pforte_oidc::{Params, ProtocolError, RefreshToken};

use super::bearer;
use super::client_auth::{self, Callers};
use super::grants::Grants;
use super::provider::Provider;
use super::reply::{json_no_store, refused};
use crate::login_host::LoginHost;
use crate::web::error::GatewayError;

/// Answers an introspection request.
pub async fn introspect(
    host: &LoginHost<'_>,
    provider: &Provider,
    keys: &KeySet,
    headers: &HeaderMap,
    form: &Params,
) -> Result<Response<Bytes>, GatewayError> {
    let refuse = |error: ProtocolError| Ok(refused(&host.shared.metrics, "introspect", &error));
    let (client, token) = match client_auth::token_request(
        &provider.clients,
        &provider.secrets,
        headers,
        form,
        Callers::Confidential,
    )
    .await
    {
        Ok(request) => request,
        Err(error) => return refuse(error),
    };
    let now = host.ctx.now.unix_secs();
    let store = &host.shared.sessions;
    let answer =
        if let Some(claims) = bearer::verify(keys, &host.snapshot.issuer, token, host.ctx.now) {
            let revoked = bearer::is_revoked(store, &claims, host.ctx.now).await?;
            Introspection::access_token(&claims, revoked, now)
        } else if let Some(presented) = RefreshToken::parse(token) {
            let loaded = Grants::new(store).family(presented.family_id()).await?;
            match loaded.map(|l| l.family) {
                Some(family) if family.client_id == client.id => {
                    let sub = subject_for(client, &family.authentication.subject, &provider.salt);
                    let current = family.is_current(&presented);
                    Introspection::refresh_token(Some(&family), current, &sub, now)
                }
                _ => Introspection::inactive(),
            }
        } else {
            Introspection::inactive()
        };
    Ok(json_no_store(StatusCode::OK, &answer))
}
