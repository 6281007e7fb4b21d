//! `GET /federation/{id}/callback`: the provider's answer, checked in this order, each before
//! anything is spent on it: the state (taken once: a replay finds nothing), that it was sent
//! for this provider, the browser's binding cookie, the response's issuer (RFC 9207), the
//! provider's error, then the code exchange and the ID token. Only then is the person looked
//! up or mapped, and a session opened.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, Response, StatusCode, header};
use pforte_federation::Provider;
use pforte_federation::id_token::{self, Expected, IdTokenError, UpstreamClaims};
use pforte_federation::identity::hashed;
use pforte_federation::metadata::Metadata;
use pforte_federation::response::{Callback, ResponseError};
use pforte_federation::token::TokenRequest;
use pforte_federation::userinfo;
use pforte_policy::LoginStrength;
use pforte_session::{AuthMethod, Federated, StoreError};
use subtle::ConstantTimeEq;

use super::{callback_uri, refuse};
use crate::federation::partners::Partners;
use crate::federation::records::{self, PendingLogin};
use crate::federation::resolve::{self, Refusal};
use crate::federation::upstream::{Refetch, UpstreamError, Upstreams};
use crate::handover::Binding;
use crate::login_host::LoginHost;
use crate::portal::login::{self, Proof};
use crate::web::cookies;
use crate::web::error::GatewayError;
use crate::web::pages::LoginProblem;

/// Why a callback is refused, with its audit reason and page.
enum Failure {
    /// A protocol check failed (400).
    Protocol(&'static str),
    /// The provider could not be reached (200, the notice).
    Unreachable,
    /// The session store did not answer (the gateway's own fault: 503).
    Store(StoreError),
}

/// Finishes a login at `provider`.
pub(super) async fn finish(
    host: &LoginHost<'_>,
    partners: &Partners,
    provider: &Provider,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response<Bytes>, GatewayError> {
    let callback = Callback::parse(query);
    let outcome = verify(host, partners, provider, &callback, headers).await;
    let (pending, claims, id_token) = match outcome {
        Ok(verified) => verified,
        Err(Failure::Store(error)) => return Err(error.into()),
        Err(Failure::Protocol(reason)) => {
            return Ok(cleared(refuse(
                host,
                headers,
                &provider.id,
                reason,
                LoginProblem::PartnerFailed,
                StatusCode::BAD_REQUEST,
            )));
        }
        Err(Failure::Unreachable) => {
            return Ok(cleared(refuse(
                host,
                headers,
                &provider.id,
                "unreachable",
                LoginProblem::PartnerUnreachable,
                StatusCode::OK,
            )));
        }
    };
    let local = match resolve::resolve(
        provider,
        &claims,
        host.shared.directory.as_ref(),
        host.sessions(),
    )
    .await
    {
        Ok(local) => local,
        Err(refusal @ (Refusal::Directory(_) | Refusal::Store(_))) => {
            tracing::warn!(provider = %provider.id, error = %refusal, "a federated login could not be finished");
            return Ok(cleared(refuse(
                host,
                headers,
                &provider.id,
                refusal.reason(),
                LoginProblem::DirectoryUnavailable,
                StatusCode::SERVICE_UNAVAILABLE,
            )));
        }
        Err(refusal) => {
            tracing::info!(provider = %provider.id, error = %refusal, "a federated login was refused");
            return Ok(cleared(refuse(
                host,
                headers,
                &provider.id,
                refusal.reason(),
                LoginProblem::PartnerRefused,
                StatusCode::FORBIDDEN,
            )));
        }
    };
    let proof = Proof {
        login: LoginStrength::Password,
        methods: vec![AuthMethod::Federated],
        federated: Some(Federated {
            provider: provider.id.clone(),
            issuer: provider.issuer.clone(),
            subject: claims.sub.clone(),
            session: claims.sid.clone(),
            guest: local.guest,
            id_token,
        }),
    };
    let return_to = pending
        .return_to
        .as_deref()
        .and_then(|raw| crate::portal::check_return_to(host, raw));
    let binding = pending.handover.as_deref().and_then(Binding::parse);
    let (response, session) = login::log_in_as(
        host,
        local.person,
        proof,
        headers,
        return_to.as_ref(),
        binding.as_ref(),
        host.ctx.now,
    )
    .await?;
    if let Some(upstream_sid) = &claims.sid {
        let ttl = host.config().sessions.sessions.absolute_timeout;
        if let Err(error) = records::remember_upstream_session(
            host.sessions(),
            &provider.issuer,
            upstream_sid,
            &session,
            ttl,
        )
        .await
        {
            // Costs only the provider's back-channel logout of this session, which still ends
            // at its timeouts.
            tracing::warn!(%error, "cannot note the provider's session for its back-channel logout");
        }
    }
    Ok(cleared(response))
}

/// The verified login: the pending record, the ID token's claims and the token itself.
async fn verify(
    host: &LoginHost<'_>,
    partners: &Partners,
    provider: &Provider,
    callback: &Callback,
    headers: &HeaderMap,
) -> Result<(PendingLogin, UpstreamClaims, String), Failure> {
    let state = callback
        .state
        .as_deref()
        .ok_or(Failure::Protocol("state"))?;
    let pending = records::take_pending(host.sessions(), state)
        .await
        .map_err(Failure::Store)?
        .ok_or(Failure::Protocol("state"))?;
    if pending.provider != provider.id {
        return Err(Failure::Protocol("issuer_mixup"));
    }
    let bound = cookies::values(headers, cookies::FEDERATION)
        .any(|value| bool::from(hashed(value).as_bytes().ct_eq(pending.binding.as_bytes())));
    if !bound {
        return Err(Failure::Protocol("binding"));
    }
    let upstreams = host.shared.upstreams.as_ref().ok_or(Failure::Unreachable)?;
    let now = host.ctx.now.unix_secs();
    let metadata = upstreams
        .metadata(&provider.issuer, now)
        .await
        .map_err(|_| Failure::Unreachable)?;
    let code = callback
        .check(state, &provider.issuer, metadata.iss_parameter_supported)
        .map_err(|e| match e {
            ResponseError::State => Failure::Protocol("state"),
            ResponseError::Issuer { .. } => Failure::Protocol("issuer_mixup"),
            ResponseError::Provider(_) => Failure::Protocol("provider_error"),
            ResponseError::NoCode => Failure::Protocol("provider_error"),
        })?;
    let secret = partners
        .secret(&provider.id)
        .ok_or(Failure::Protocol("token_exchange"))?;
    let request = TokenRequest::new(
        provider,
        secret.expose(),
        metadata.client_auth,
        code,
        &callback_uri(host, &provider.id),
        &pending.verifier,
    );
    let tokens = upstreams
        .exchange(&metadata, request)
        .await
        .map_err(|e| match e {
            UpstreamError::Unreachable(_) => Failure::Unreachable,
            error => {
                tracing::info!(provider = %provider.id, %error, "a partner's provider refused a code");
                Failure::Protocol("token_exchange")
            }
        })?;
    let mut claims = check_id_token(
        upstreams,
        &metadata,
        provider,
        &tokens.id_token,
        &pending.nonce,
        now,
    )
    .await?;
    // OpenID Connect Core §2: a `sub` is at most 255 ASCII characters.
    if claims.sub.len() > 255 {
        return Err(Failure::Protocol("id_token"));
    }
    if provider.userinfo
        && let Some(access_token) = &tokens.access_token
    {
        let answer = upstreams
            .userinfo(&metadata, access_token)
            .await
            .map_err(|_| Failure::Unreachable)?;
        if let Some(body) = answer
            && let Err(error) = userinfo::merge(&mut claims, &body)
        {
            tracing::info!(provider = %provider.id, %error, "a partner's userinfo answer was refused");
            return Err(Failure::Protocol("userinfo"));
        }
    }
    Ok((pending, claims, tokens.id_token))
}

/// The ID token checked with the provider's keys; an unknown key id fetches the set once more.
async fn check_id_token(
    upstreams: &Upstreams,
    metadata: &Metadata,
    provider: &Provider,
    raw: &str,
    nonce: &str,
    now: u64,
) -> Result<UpstreamClaims, Failure> {
    let expected = Expected {
        issuer: &provider.issuer,
        client_id: &provider.client_id,
        nonce,
    };
    let at = DateTime::<Utc>::from_timestamp(i64::try_from(now).unwrap_or(i64::MAX), 0)
        .unwrap_or_default();
    let outcome = upstreams
        .verify_with_keys(
            metadata,
            Refetch::ForLogin,
            now,
            |keys| id_token::verify(raw, expected, keys, at),
            |error| *error == IdTokenError::UnknownKey,
        )
        .await
        .map_err(|_| Failure::Unreachable)?
        .unwrap_or(Err(IdTokenError::UnknownKey));
    outcome.map_err(|error| {
        tracing::info!(provider = %provider.id, %error, "a partner's ID token was refused");
        Failure::Protocol("id_token")
    })
}

/// The response with the browser's binding cookie removed: it served its one login.
fn cleared(mut response: Response<Bytes>) -> Response<Bytes> {
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::clear(cookies::FEDERATION));
    response
}
