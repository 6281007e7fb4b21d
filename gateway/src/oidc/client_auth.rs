//! Who is calling the token, introspection and revocation endpoints: `client_secret_basic`,
//! `client_secret_post`, or `none` for public clients (RFC 6749 §2.3).
//!
//! Secrets are stored as argon2id hashes, which are slow on purpose. A secret that verified
//! once is remembered as its SHA-256 digest for the life of this load, and later requests with
//! the same secret are compared against the digest in constant time; a wrong secret always pays
//! the full hash, so guessing stays slow. The hash runs in the directory's pool of slow hashes,
//! shared with the file directory's logins.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use aws_lc_rs::digest::{SHA256, digest};
use http::{HeaderMap, header};
use pforte_directory::slow_hash;
use pforte_oidc::clients::{BasicCredentials, PresentedCredentials};
use pforte_oidc::{Client, ClientType, Clients, ErrorCode, Params, ProtocolError};
use subtle::ConstantTimeEq;

/// Secrets that verified in this load, by client id.
#[derive(Default)]
pub struct VerifiedSecrets {
    digests: RwLock<HashMap<String, [u8; 32]>>,
}

impl VerifiedSecrets {
    fn knows(&self, client_id: &str, secret: &str) -> bool {
        let presented = fingerprint(client_id, secret);
        self.digests
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(client_id)
            .is_some_and(|known| bool::from(known.ct_eq(&presented)))
    }

    fn remember(&self, client_id: &str, secret: &str) {
        self.digests
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(client_id.to_owned(), fingerprint(client_id, secret));
    }
}

fn fingerprint(client_id: &str, secret: &str) -> [u8; 32] {
    let mut input = Vec::with_capacity(client_id.len() + secret.len() + 1);
    input.extend_from_slice(client_id.as_bytes());
    input.push(0);
    input.extend_from_slice(secret.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, &input).as_ref());
    out
}

/// The client that sent a request with these headers and form, authenticated.
pub async fn authenticate<'c>(
    clients: &'c Arc<Clients>,
    secrets: &VerifiedSecrets,
    headers: &HeaderMap,
    form: &Params,
) -> Result<&'c Client, ProtocolError> {
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
    clients: &'a Arc<Clients>,
    secrets: &VerifiedSecrets,
    headers: &HeaderMap,
    form: &'a Params,
    callers: Callers,
) -> Result<(&'a Client, &'a str), ProtocolError> {
    let client = authenticate(clients, secrets, headers, form).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_secret_is_known_only_for_its_client() {
        let secrets = VerifiedSecrets::default();
        assert!(!secrets.knows("docs", "s3cret"));
        secrets.remember("docs", "s3cret");
        assert!(secrets.knows("docs", "s3cret"));
        assert!(!secrets.knows("docs", "s3cret2"));
        assert!(!secrets.knows("mail", "s3cret"));
    }

    #[test]
    fn id_and_secret_cannot_be_shifted_into_each_other() {
        assert_ne!(fingerprint("ab", "c"), fingerprint("a", "bc"));
    }
}
