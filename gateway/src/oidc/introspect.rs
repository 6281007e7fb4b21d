//! `POST /oidc/introspect` (RFC 7662): whether a token is active, for authenticated
//! confidential clients (resource servers). An unknown, expired or revoked token, a refresh
//! token of another client, and a token whose session ended or whose person the app's access
//! rules no longer allow, are all just `{"active": false}`.

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use pforte_keys::KeySet;
use pforte_oidc::claims::{Introspection, subject_for};
use pforte_oidc::{Params, ProtocolError, RefreshToken};

use super::access;
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
        host,
        provider,
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
    let answer = if let Some(claims) =
        bearer::verify(keys, &host.snapshot.issuer, token, host.ctx.now)
    {
        let revoked = Grants::new(store).is_revoked(&claims.jti).await?;
        let allowed = match &claims.sid {
            Some(sid) => person_allowed(host, provider, &claims.client_id, sid).await?,
            // A service's own token (client credentials) names no person.
            None => true,
        };
        Introspection::access_token(&claims, revoked || !allowed, now)
    } else if let Some(presented) = RefreshToken::parse(token) {
        let loaded = Grants::new(store).family(presented.family_id()).await?;
        match loaded.map(|l| l.family) {
            Some(family) if family.client_id == client.id => {
                let sub = subject_for(client, &family.authentication.subject, &provider.salt);
                let allowed =
                    person_allowed(host, provider, &client.id, &family.authentication.sid).await?;
                let current = family.is_current(&presented) && allowed;
                Introspection::refresh_token(Some(&family), current, &sub, now)
            }
            _ => Introspection::inactive(),
        }
    } else {
        Introspection::inactive()
    };
    Ok(json_no_store(StatusCode::OK, &answer))
}

/// Whether a token of `client_id` from the session `sid` is still good for its person: the
/// session lives (with the identity the directory gives now) and the app's rules allow them.
/// A refusal by the rules is audited.
async fn person_allowed(
    host: &LoginHost<'_>,
    provider: &Provider,
    client_id: &str,
    sid: &str,
) -> Result<bool, GatewayError> {
    let Some(session) = access::live_session(host, sid).await? else {
        return Ok(false);
    };
    let Some(client) = provider.clients.get(client_id) else {
        return Ok(false);
    };
    match access::check(host, provider, client, &session, session.source) {
        Ok(()) => Ok(true),
        Err(refused) => {
            access::audit_refusal(host, client_id, &session.subject, "introspection", refused);
            Ok(false)
        }
    }
}
