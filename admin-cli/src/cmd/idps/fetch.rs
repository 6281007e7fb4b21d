//! What `idps test` fetches from one provider, through the gateway's own
//! [`Upstreams`] (its HTTPS client, trusted roots, timeouts and size limits), so a provider that
//! passes here is reached the same way by the gateway: the discovery document and, when that
//! is usable, the key set it names. Nothing is judged here ([`super::judge`] does).

use std::error::Error;

use bytes::Bytes;
use pforte::federation::upstream::Upstreams;
use pforte_federation::metadata::{Metadata, MetadataError};

/// The discovery document as fetched.
#[derive(Debug)]
pub enum Discovery {
    /// No document came: why, with every cause.
    Unreachable(String),
    /// A document came with these problems (at least one).
    Unusable(Vec<MetadataError>),
    /// A usable document.
    Usable(Box<Metadata>),
}

/// The key set as fetched.
#[derive(Debug)]
pub enum KeySet {
    /// Not asked for: the discovery document is unusable.
    NotFetched,
    /// No key set came: why, with every cause.
    Unreachable(String),
    /// The set as served.
    Served(Bytes),
}

/// Both documents of one provider.
#[derive(Debug)]
pub struct Fetched {
    /// The discovery document.
    pub discovery: Discovery,
    /// The key set.
    pub keys: KeySet,
}

/// Fetches the documents of the provider with this `issuer` now.
pub async fn probe(upstreams: &Upstreams, issuer: &str, now: u64) -> Fetched {
    let body = match upstreams.discovery_document(issuer).await {
        Ok(body) => body,
        Err(e) => {
            return Fetched {
                discovery: Discovery::Unreachable(causes(&e)),
                keys: KeySet::NotFetched,
            };
        }
    };
    let metadata = match Metadata::review(issuer, &body) {
        Ok(metadata) => metadata,
        Err(problems) => {
            return Fetched {
                discovery: Discovery::Unusable(problems),
                keys: KeySet::NotFetched,
            };
        }
    };
    let keys = match upstreams.keys(&metadata, None, now).await {
        Ok(Some(set)) => KeySet::Served(set),
        // Only a refresh can be "not due"; this asks for no refresh.
        Ok(None) => KeySet::NotFetched,
        Err(e) => KeySet::Unreachable(causes(&e)),
    };
    Fetched {
        discovery: Discovery::Usable(Box::new(metadata)),
        keys,
    }
}

/// An error with its causes, `: `-joined; a cause its error already prints is left out.
pub fn causes(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("the provider cannot be reached: {0}")]
        Repeats(#[from] Middle),
    }

    #[derive(Debug, thiserror::Error)]
    #[error("no answer")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn every_cause_is_named_once() {
        let e = Outer::from(Middle(std::io::Error::other("connection refused")));
        assert_eq!(
            causes(&e),
            "the provider cannot be reached: no answer: connection refused"
        );
    }
}
