//! The immutable snapshot of published keys that the request path uses.

use std::fmt;

use crate::key::PublishedKey;
use crate::meta::KeyState;

/// Every key a replica publishes, loaded once and shared read-only (behind an
/// atomic pointer in the gateway) until the next reload.
pub struct KeySet {
    active: PublishedKey,
    others: Vec<PublishedKey>,
    jwks: serde_json::Value,
}

impl KeySet {
    /// Builds the snapshot from the one active key and the other published ones.
    pub(crate) fn new(active: PublishedKey, mut others: Vec<PublishedKey>) -> KeySet {
        others.sort_by_key(|k| (k.state() == KeyState::Retired, k.kid().to_owned()));
        let jwks = serde_json::json!({
            "keys": std::iter::once(&active)
                .chain(&others)
                .map(|k| k.jwk().clone())
                .collect::<Vec<_>>(),
        });
        KeySet {
            active,
            others,
            jwks,
        }
    }

    /// The key that signs new tokens.
    pub fn active(&self) -> &PublishedKey {
        &self.active
    }

    /// The published key with this kid, if any.
    pub fn find(&self, kid: &str) -> Option<&PublishedKey> {
        self.keys().find(|k| k.kid() == kid)
    }

    /// Every published key: active first, then next, then recently retired.
    pub fn keys(&self) -> impl Iterator<Item = &PublishedKey> {
        std::iter::once(&self.active).chain(&self.others)
    }

    /// The RFC 7517 JWK Set to serve at the `jwks_uri`: active, next and
    /// recently retired keys, so clients can verify across a rotation.
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.keys()).finish()
    }
}
