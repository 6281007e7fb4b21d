//! The partners' providers as Pforte reaches them: each one's discovery document and key set,
//! fetched on first use and kept for an hour, and the code exchange at its token endpoint.
//!
//! A key id the cached set lacks makes the set be fetched again (a provider rotating its keys),
//! at most once per [`REFETCH_INTERVAL_SECS`] per provider, so tokens with made-up key ids
//! cost one fetch per interval, not one each. A provider that cannot be reached is an error the
//! login page shows as such; it never takes the gateway down.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use pforte_federation::metadata::{Metadata, MetadataError};
use pforte_federation::token::{TokenError, TokenRequest, Tokens, tokens_of};
use rustls::crypto::CryptoProvider;

use crate::outbound::{self, CaError, FetchError, HttpsClient};

/// The least time between two fetches of a provider's key set for an unknown key id.
pub const REFETCH_INTERVAL_SECS: u64 = 10;

/// How long a discovery document and a key set serve before they are fetched again.
const MAX_AGE_SECS: u64 = 3600;

/// The largest discovery document or key set accepted.
const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// The largest token response accepted (an ID token with many groups fits).
const MAX_TOKEN_RESPONSE_BYTES: usize = 256 * 1024;

/// Why a provider could not be used.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// Its discovery document or key set could not be fetched.
    #[error("the provider cannot be reached: {0}")]
    Unreachable(#[from] FetchError),
    /// Its discovery document is unusable.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// The code exchange failed.
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// One provider's documents as last fetched.
struct Known {
    metadata: Arc<Metadata>,
    fetched_at: u64,
    keys: Option<Keys>,
}

struct Keys {
    set: Bytes,
    fetched_at: u64,
    /// When an unknown key id in a login's ID token last made the set be fetched again.
    refetched_for_login: Option<u64>,
    /// The same for a back-channel logout token: kept apart, so tokens with made-up key ids
    /// posted to the public logout endpoint cannot use up the refetch a login after a real
    /// rotation needs.
    refetched_for_logout: Option<u64>,
}

impl Keys {
    fn refetched(&self, purpose: Refetch) -> Option<u64> {
        match purpose {
            Refetch::ForLogin => self.refetched_for_login,
            Refetch::ForLogout => self.refetched_for_logout,
        }
    }
}

/// Why a key set is fetched again before its time: a token named a key it lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refetch {
    /// A login's ID token.
    ForLogin,
    /// A back-channel logout token.
    ForLogout,
}

/// The HTTPS client for the providers and what it fetched, by issuer.
pub struct Upstreams {
    client: HttpsClient,
    known: Mutex<HashMap<String, Known>>,
}

impl Upstreams {
    /// A client trusting the system's roots and `ca_file` (`federation.ca_file`).
    pub fn new(crypto: &Arc<CryptoProvider>, ca_file: Option<&Path>) -> Result<Self, CaError> {
        Ok(Self {
            client: outbound::https_client(crypto, ca_file)?,
            known: Mutex::default(),
        })
    }

    /// The provider's discovery document, checked against its configured `issuer`.
    pub async fn metadata(&self, issuer: &str, now: u64) -> Result<Arc<Metadata>, UpstreamError> {
        if let Some(metadata) = self.cached_metadata(issuer, now) {
            return Ok(metadata);
        }
        let body = self.discovery_document(issuer).await?;
        let metadata = Arc::new(Metadata::parse(issuer, &body)?);
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        let keys = known.remove(issuer).and_then(|k| k.keys);
        known.insert(
            issuer.to_owned(),
            Known {
                metadata: metadata.clone(),
                fetched_at: now,
                keys,
            },
        );
        Ok(metadata)
    }

    /// The provider's discovery document as served, fetched now and neither checked nor kept:
    /// `pforte-admin idps test` reads it with `Metadata::review` to name every problem at once.
    pub async fn discovery_document(&self, issuer: &str) -> Result<Bytes, UpstreamError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        Ok(outbound::get(
            &self.client,
            &url,
            "application/json",
            None,
            MAX_DOCUMENT_BYTES,
        )
        .await?)
    }

    /// The provider's key set: the cached one, fetched anew when there is none, when it is an
    /// hour old, or when `refresh` asks (a token named a key the set lacks) and no refetch for
    /// the same purpose happened in the last [`REFETCH_INTERVAL_SECS`]. `None` when a refresh
    /// is not due: the caller's token stays refused.
    pub async fn keys(
        &self,
        metadata: &Metadata,
        refresh: Option<Refetch>,
        now: u64,
    ) -> Result<Option<Bytes>, UpstreamError> {
        match self.cached_keys(&metadata.issuer, refresh, now) {
            Cached::Fresh(set) => return Ok(Some(set)),
            Cached::RefreshNotDue => return Ok(None),
            Cached::Missing => {}
        }
        let set = outbound::get(
            &self.client,
            metadata.jwks_uri.as_str(),
            "application/jwk-set+json, application/json",
            None,
            MAX_DOCUMENT_BYTES,
        )
        .await?;
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = known.get_mut(&metadata.issuer) {
            let before = entry.keys.as_ref();
            let mark = |purpose: Refetch| {
                if refresh == Some(purpose) {
                    Some(now)
                } else {
                    before.and_then(|k| k.refetched(purpose))
                }
            };
            entry.keys = Some(Keys {
                set: set.clone(),
                fetched_at: now,
                refetched_for_login: mark(Refetch::ForLogin),
                refetched_for_logout: mark(Refetch::ForLogout),
            });
        }
        Ok(Some(set))
    }

    /// `verify` run with the provider's key set and, when it finds the token's key missing
    /// (`unknown_key`), once more with the set fetched again for `purpose` (a rotation).
    /// `None` when that refetch is not due yet: the token stays refused.
    pub async fn verify_with_keys<T, E>(
        &self,
        metadata: &Metadata,
        purpose: Refetch,
        now: u64,
        verify: impl Fn(&[u8]) -> Result<T, E>,
        unknown_key: impl Fn(&E) -> bool,
    ) -> Result<Option<Result<T, E>>, UpstreamError> {
        let mut refresh = None;
        loop {
            let Some(keys) = self.keys(metadata, refresh, now).await? else {
                return Ok(None);
            };
            match verify(&keys) {
                Err(e) if refresh.is_none() && unknown_key(&e) => refresh = Some(purpose),
                outcome => return Ok(Some(outcome)),
            }
        }
    }

    /// Exchanges a code at the provider's token endpoint; the ID token of the answer.
    pub async fn exchange(
        &self,
        metadata: &Metadata,
        request: TokenRequest,
    ) -> Result<Tokens, UpstreamError> {
        let (status, body) = outbound::post_form(
            &self.client,
            metadata.token_endpoint.as_str(),
            request.body,
            request.authorization.as_deref(),
            MAX_TOKEN_RESPONSE_BYTES,
        )
        .await?;
        Ok(tokens_of(status.as_u16(), &body)?)
    }

    /// The provider's userinfo answer for `access_token` (a JSON object, checked by the
    /// caller); `None` when the provider has no userinfo endpoint.
    pub async fn userinfo(
        &self,
        metadata: &Metadata,
        access_token: &str,
    ) -> Result<Option<Bytes>, UpstreamError> {
        let Some(endpoint) = &metadata.userinfo_endpoint else {
            return Ok(None);
        };
        let body = outbound::get(
            &self.client,
            endpoint.as_str(),
            "application/json",
            Some(&format!("Bearer {access_token}")),
            MAX_TOKEN_RESPONSE_BYTES,
        )
        .await?;
        Ok(Some(body))
    }

    fn cached_metadata(&self, issuer: &str, now: u64) -> Option<Arc<Metadata>> {
        let known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = known.get(issuer)?;
        (now.saturating_sub(entry.fetched_at) < MAX_AGE_SECS).then(|| entry.metadata.clone())
    }

    fn cached_keys(&self, issuer: &str, refresh: Option<Refetch>, now: u64) -> Cached {
        let known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(keys) = known.get(issuer).and_then(|k| k.keys.as_ref()) else {
            return Cached::Missing;
        };
        if now.saturating_sub(keys.fetched_at) >= MAX_AGE_SECS {
            return Cached::Missing;
        }
        let Some(purpose) = refresh else {
            return Cached::Fresh(keys.set.clone());
        };
        let refetched_lately = keys
            .refetched(purpose)
            .is_some_and(|at| now.saturating_sub(at) < REFETCH_INTERVAL_SECS);
        if refetched_lately {
            Cached::RefreshNotDue
        } else {
            Cached::Missing
        }
    }
}

/// What the cache holds for a key-set request.
enum Cached {
    Fresh(Bytes),
    RefreshNotDue,
    Missing,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstreams() -> Upstreams {
        Upstreams::new(&crate::crypto::client_provider(), None).unwrap()
    }

    fn metadata() -> Metadata {
        Metadata::parse(
            "https://idp.example",
            br#"{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/a",
            "token_endpoint":"https://idp.example/t","jwks_uri":"https://idp.example/k"}"#,
        )
        .unwrap()
    }

    #[test]
    fn a_key_set_is_refetched_for_an_unknown_key_at_most_once_per_interval() {
        let u = upstreams();
        let m = metadata();
        assert!(matches!(
            u.cached_keys(&m.issuer, None, 1_000),
            Cached::Missing
        ));
        u.known.lock().unwrap().insert(
            m.issuer.clone(),
            Known {
                metadata: Arc::new(m.clone()),
                fetched_at: 1_000,
                keys: Some(Keys {
                    set: Bytes::from_static(b"{}"),
                    fetched_at: 1_000,
                    refetched_for_login: None,
                    refetched_for_logout: None,
                }),
            },
        );
        assert!(matches!(
            u.cached_keys(&m.issuer, None, 1_001),
            Cached::Fresh(_)
        ));
        assert!(matches!(
            u.cached_keys(&m.issuer, Some(Refetch::ForLogin), 1_001),
            Cached::Missing
        ));
        u.known.lock().unwrap().get_mut(&m.issuer).unwrap().keys = Some(Keys {
            set: Bytes::from_static(b"{}"),
            fetched_at: 1_001,
            refetched_for_login: Some(1_001),
            refetched_for_logout: None,
        });
        assert!(
            matches!(
                u.cached_keys(&m.issuer, Some(Refetch::ForLogout), 1_002),
                Cached::Missing
            ),
            "a logout token's refetch is counted apart from a login's"
        );
        assert!(matches!(
            u.cached_keys(
                &m.issuer,
                Some(Refetch::ForLogin),
                1_001 + REFETCH_INTERVAL_SECS - 1
            ),
            Cached::RefreshNotDue
        ));
        assert!(matches!(
            u.cached_keys(
                &m.issuer,
                Some(Refetch::ForLogin),
                1_001 + REFETCH_INTERVAL_SECS
            ),
            Cached::Missing
        ));
        assert!(matches!(
            u.cached_keys(&m.issuer, None, 1_001 + MAX_AGE_SECS),
            Cached::Missing
        ));
        assert!(
            u.cached_metadata(&m.issuer, 1_000 + MAX_AGE_SECS - 1)
                .is_some()
        );
        assert!(u.cached_metadata(&m.issuer, 1_000 + MAX_AGE_SECS).is_none());
    }
}
