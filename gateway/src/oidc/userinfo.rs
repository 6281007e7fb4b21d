//! `GET|POST /oidc/userinfo` (OIDC Core §5.3): the person's claims for a bearer token, as its
//! scopes allow, while the app's access rules allow the person (else 401 `invalid_token`).

use super::access;
use super::bearer;
use super::grants::Grants;
use super::issue::person_of;
use super::provider::Provider;
use super::reply::{bearer_challenge, bearer_error, json_no_store};
use crate::login_host::LoginHost;
use crate::web::error::GatewayError;
use bytes::Bytes;
use http::{Response, StatusCode};
use pforte_keys::KeySet;
use pforte_oidc::bearer::{Carriers, NoToken, presented_token};
use pforte_oidc::claims::userinfo_claims;
use pforte_oidc::{ErrorCode, ProtocolError, Scope};

/// The refusal reason in metrics for a request that carries no token at all.
const NO_TOKEN: &str = "no_token";

/// Answers a userinfo request: the claims of the person as the directory has them now, while
/// the token's session lives and the app's access rules allow them. The token comes in the
/// `Authorization` header or a form-encoded POST body, never in the query (`presented_token`).
pub async fn userinfo(
    host: &LoginHost<'_>,
    provider: &Provider,
    keys: &KeySet,
    carriers: &Carriers<'_>,
) -> Result<Response<Bytes>, GatewayError> {
    let invalid = |d: &str| ProtocolError::new(ErrorCode::InvalidToken, d);
    let refuse = |error: ProtocolError| {
        host.shared
            .metrics
            .record_oidc_refusal("userinfo", error.code.as_str());
        Ok(bearer_error(&error))
    };
    let token = match presented_token(carriers) {
        Ok(token) => token,
        Err(NoToken::Refused(error)) => return refuse(error),
        Err(NoToken::Missing) => {
            host.shared
                .metrics
                .record_oidc_refusal("userinfo", NO_TOKEN);
            return Ok(bearer_challenge());
        }
    };
    let issuer = host.snapshot.issuer.as_str();
    let Some(claims) = bearer::verify(keys, issuer, token, host.ctx.now) else {
        return refuse(invalid(
            "the token is not a valid access token of this provider",
        ));
    };
    let revoked = Grants::new(&host.shared.sessions)
        .is_revoked(&claims.jti)
        .await?;
    let now = host.ctx.now.unix_secs();
    if let Err(error) = claims.check_bearer(issuer, Scope::Openid, revoked, now) {
        return refuse(error);
    }
    let session = match claims.sid.as_deref() {
        Some(sid) => access::live_session(host, sid).await?,
        None => None,
    };
    let Some(session) = session else {
        return refuse(invalid("the login session of this token has ended"));
    };
    let Some(client) = provider.clients.get(&claims.client_id) else {
        return refuse(invalid("the token's client is no longer registered"));
    };
    if let Err(refused) = access::check(host, provider, client, &session, session.source) {
        access::audit_refusal(host, &client.id, &session.subject, "userinfo", refused);
        return refuse(invalid(
            "the app's access rules no longer allow this person",
        ));
    }
    let body = userinfo_claims(&claims.sub, &person_of(&session), claims.scope);
    Ok(json_no_store(StatusCode::OK, &body))
}
