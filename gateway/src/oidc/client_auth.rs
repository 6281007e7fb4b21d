//! Who is calling the token, introspection, revocation and par endpoints: `client_secret_basic`,
//! `client_secret_post`, `private_key_jwt` (RFC 7523: an assertion signed with the client's key,
//! its `jti` remembered until it expires so it works once), or `none` for public clients (RFC
//! 6749 §2.3).
//!
//! Secrets are stored as argon2id hashes, which are slow on purpose. A secret that verified
//! once is remembered as its SHA-256 digest for the life of this load, and later requests with
//! the same secret are compared against the digest in constant time; a wrong secret always pays
//! the full hash, so guessing stays slow. The hash runs in the directory's pool of slow hashes,
//! shared with the file directory's logins.

use std::sync::Arc;

use http::{HeaderMap, header};
use pforte_directory::slow_hash;
use pforte_oidc::clients::assertion::{self, AssertionError, PresentedAssertion};
use pforte_oidc::clients::keys::JwkSet;
use pforte_oidc::clients::{BasicCredentials, ClientKeys, PresentedCredentials};
use pforte_oidc::discovery::paths;
use pforte_oidc::{Client, ClientType, Clients, ErrorCode, Params, ProtocolError};

use super::grants::Grants;
use super::provider::Provider;
use crate::login_host::LoginHost;
use crate::telemetry::error_chain;

/// The client that sent a request with these headers and form, authenticated.
pub async fn authenticate<'c>(
    host: &LoginHost<'_>,
    provider: &'c Provider,
    headers: &HeaderMap,
    form: &Params,
) -> Result<&'c Client, ProtocolError> {
    let clients = &provider.clients;
    let secrets = &provider.secrets;
    if let Some(presented) = assertion::presented(form) {
        if headers.contains_key(header::AUTHORIZATION) {
            return Err(ProtocolError::new(
                ErrorCode::InvalidRequest,
                "use one client authentication method, not both Basic and client_assertion",
            ));
        }
        return by_assertion(host, clients, &presented?).await;
    }
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(BasicCredentials::parse)
                .ok_or_else(|| {
                    ProtocolError::new(
                        ErrorCode::InvalidClient,
                        "the Authorization header is not HTTP Basic client credentials",
                    )
                })?,
        ),
    };
    let presented = PresentedCredentials::from_request(basic, form)?;
    let Some(secret) = presented.secret.clone() else {
        return clients.authenticate(&presented);
    };
    let remembered = || {
        clients.get(&presented.client_id).filter(|client| {
            matches!(client.client_type, ClientType::Confidential(_))
                && secrets.knows(&client.id, &secret)
        })
    };
    if let Some(client) = remembered() {
        return Ok(client);
    }
    // The argon2 check, in the shared pool of slow hashes: off the async workers, one per core
    // at most, so a flood of wrong secrets cannot stall the proxy. Once it is this request's
    // turn, the requests before it may have verified the same secret.
    let interrupted = |_| {
        ProtocolError::new(
            ErrorCode::ServerError,
            "client authentication was interrupted",
        )
    };
    let turn = slow_hash::turn().await.map_err(interrupted)?;
    if let Some(client) = remembered() {
        return Ok(client);
    }
    let owned = Arc::clone(clients);
    let checked = turn
        .run(move || owned.authenticate(&presented).map(|c| c.id.clone()))
        .await
        .map_err(interrupted)??;
    let client = clients.get(&checked).ok_or_else(|| {
        ProtocolError::new(ErrorCode::InvalidClient, "client authentication failed")
    })?;
    secrets.remember(&client.id, &secret);
    Ok(client)
}

/// A client authenticated by its signed assertion: the key from its registered set (fetched
/// again once if the assertion names a key the cached remote set lacks), the signature and
/// claims, and the `jti` used once on any replica.
async fn by_assertion<'c>(
    host: &LoginHost<'_>,
    clients: &'c Clients,
    presented: &PresentedAssertion,
) -> Result<&'c Client, ProtocolError> {
    let refuse = || ProtocolError::new(ErrorCode::InvalidClient, "client authentication failed");
    let client = clients.get(&presented.client_id).ok_or_else(refuse)?;
    let ClientType::KeyHolder(keys) = &client.client_type else {
        return Err(refuse());
    };
    let now = host.ctx.now.unix_secs();
    let audiences = audiences(host.snapshot.issuer.as_str());
    let verified = match keys.as_ref() {
        ClientKeys::Inline(set) => assertion::verify(presented, set, &audiences, now),
        ClientKeys::Remote(url) => {
            let set = remote_keys(host, client, url, false).await?;
            match assertion::verify(presented, &set, &audiences, now) {
                Err(AssertionError::UnknownKey) => {
                    let set = remote_keys(host, client, url, true).await?;
                    assertion::verify(presented, &set, &audiences, now)
                }
                other => other,
            }
        }
    }
    .map_err(|error| error.to_protocol())?;
    let first_use = Grants::new(&host.shared.sessions)
        .claim_assertion(&client.id, &verified.jti, verified.expires_at, now)
        .await
        .map_err(|_| {
            ProtocolError::new(
                ErrorCode::TemporarilyUnavailable,
                "the provider cannot reach its session store to check the assertion; try again",
            )
        })?;
    if !first_use {
        return Err(ProtocolError::new(
            ErrorCode::InvalidClient,
            "the client assertion was used before (its jti); sign a new one for each request",
        ));
    }
    Ok(client)
}

/// The client's published key set, through the cache.
async fn remote_keys(
    host: &LoginHost<'_>,
    client: &Client,
    url: &str,
    refresh: bool,
) -> Result<Arc<JwkSet>, ProtocolError> {
    let unavailable = || {
        ProtocolError::new(
            ErrorCode::InvalidClient,
            "the client's published keys (jwks_uri) could not be fetched",
        )
    };
    let outbound = host.shared.outbound.as_ref().ok_or_else(unavailable)?;
    let now = host.ctx.now.unix_secs();
    host.shared
        .client_keys
        .get(outbound, url, refresh, now)
        .await
        .map_err(|error| {
            tracing::warn!(client = %client.id, url, error = %error_chain(&error), "cannot fetch a client's jwks_uri");
            unavailable()
        })
}

/// Who an assertion may be addressed to: the issuer (RFC 7523bis) or the URL of an endpoint
/// that takes client authentication (OIDC Core §9 names the token endpoint; RFC 9126 §2 adds
/// the par endpoint).
fn audiences(issuer: &str) -> Vec<String> {
    let endpoints = [
        paths::TOKEN,
        paths::PAR,
        paths::DEVICE_AUTHORIZATION,
        paths::INTROSPECT,
        paths::REVOKE,
    ];
    std::iter::once(issuer.to_owned())
        .chain(endpoints.iter().map(|path| format!("{issuer}{path}")))
        .collect()
}

/// Who may ask about a token (introspection, revocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callers {
    /// Any registered client, public ones included (revocation of its own tokens).
    AnyClient,
    /// Confidential clients only (introspection is for resource servers that can authenticate).
    Confidential,
}

/// The authenticated client of a request about one token, and the `token` it names.
pub async fn token_request<'a>(
    host: &LoginHost<'_>,
    provider: &'a Provider,
    headers: &HeaderMap,
    form: &'a Params,
    callers: Callers,
) -> Result<(&'a Client, &'a str), ProtocolError> {
    let client = authenticate(host, provider, headers, form).await?;
    if callers == Callers::Confidential && client.is_public() {
        return Err(ProtocolError::new(
            ErrorCode::InvalidClient,
            "this endpoint is for confidential clients",
        ));
    }
    let token = form
        .get("token")
        .ok_or_else(|| ProtocolError::new(ErrorCode::InvalidRequest, "token is required"))?;
    Ok((client, token))
}
