//! Clients' public keys published at a URL (`jwks_uri`, for `private_key_jwt`): fetched on
//! first use, then again when an assertion names a key the cached set lacks, so a client that
//! rotates its key is followed at once. Such a refetch happens at most once per
//! [`REFETCH_INTERVAL_SECS`] per URL, so assertions with made-up key ids cost one fetch per
//! interval and not one each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use pforte_oidc::clients::keys::{JwkSet, parse_fetched_jwks};

use crate::outbound::{self, FetchError, HttpsClient};

/// The least time between two fetches of one URL.
pub const REFETCH_INTERVAL_SECS: u64 = 10;

/// How long a cached set serves without being fetched again (so a removed key stops working
/// within this time even without a rotation).
const MAX_AGE_SECS: u64 = 3600;

/// The largest key set accepted.
const MAX_JWKS_BYTES: usize = 64 * 1024;

/// One URL's keys as last fetched.
struct Cached {
    keys: Arc<JwkSet>,
    fetched_at: u64,
    /// When an assertion with a key the set lacked last made it fetch again.
    refetched_at: Option<u64>,
}

/// The key sets fetched so far, by URL.
#[derive(Default)]
pub struct RemoteKeys {
    cache: Mutex<HashMap<String, Cached>>,
}

impl RemoteKeys {
    /// The key set at `url`: the cached one, fetched anew when there is none, when it is an hour
    /// old, or when `refresh` asks (an assertion named a key it lacks) and no such refetch
    /// happened in the last [`REFETCH_INTERVAL_SECS`].
    pub async fn get(
        &self,
        client: &HttpsClient,
        url: &str,
        refresh: bool,
        now: u64,
    ) -> Result<Arc<JwkSet>, FetchError> {
        if let Some(keys) = self.cached(url, refresh, now) {
            return Ok(keys);
        }
        let keys = Arc::new(fetch(client, url).await?);
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                url.to_owned(),
                Cached {
                    keys: keys.clone(),
                    fetched_at: now,
                    refetched_at: refresh.then_some(now),
                },
            );
        Ok(keys)
    }

    fn cached(&self, url: &str, refresh: bool, now: u64) -> Option<Arc<JwkSet>> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = cache.get(url)?;
        let young = now.saturating_sub(entry.fetched_at) < MAX_AGE_SECS;
        let refetched_lately = entry
            .refetched_at
            .is_some_and(|at| now.saturating_sub(at) < REFETCH_INTERVAL_SECS);
        (young && (!refresh || refetched_lately)).then(|| entry.keys.clone())
    }
}

async fn fetch(client: &HttpsClient, url: &str) -> Result<JwkSet, FetchError> {
    let body = outbound::get(
        client,
        url,
        "application/jwk-set+json, application/json",
        None,
        MAX_JWKS_BYTES,
    )
    .await?;
    parse_fetched_jwks(&body).map_err(FetchError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> Arc<JwkSet> {
        Arc::new(JwkSet { keys: Vec::new() })
    }

    #[test]
    fn a_cached_set_serves_until_it_is_old_or_a_refresh_is_due() {
        let keys = RemoteKeys::default();
        let url = "https://app.example.org/jwks.json";
        assert!(keys.cached(url, false, 1_000).is_none(), "nothing yet");
        let put = |refetched_at| {
            keys.cache.lock().unwrap().insert(
                url.into(),
                Cached {
                    keys: set(),
                    fetched_at: 1_000,
                    refetched_at,
                },
            )
        };
        put(None);
        assert!(keys.cached(url, false, 1_000 + MAX_AGE_SECS - 1).is_some());
        assert!(keys.cached(url, false, 1_000 + MAX_AGE_SECS).is_none());
        assert!(
            keys.cached(url, true, 1_001).is_none(),
            "an unknown kid after a first fetch refetches at once (a rotation)"
        );
        put(Some(1_000));
        assert!(
            keys.cached(url, true, 1_000 + REFETCH_INTERVAL_SECS - 1)
                .is_some(),
            "then at most once per interval"
        );
        assert!(
            keys.cached(url, true, 1_000 + REFETCH_INTERVAL_SECS)
                .is_none()
        );
    }
}
