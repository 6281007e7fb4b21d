//! One search with the settings' timeout and a size limit, returning entries read safely, and
//! the error type that operations run on a pooled connection return.

use std::time::Duration;

use ldap3::{Ldap, LdapError, Scope, SearchOptions, SearchResult};

use crate::error::DirectoryError;

use super::entry::Entry;

/// LDAP result code sizeLimitExceeded: the entries so far came back, more exist.
const SIZE_LIMIT_EXCEEDED: u32 = 4;

/// LDAP result code noSuchObject.
pub(crate) const NO_SUCH_OBJECT: u32 = 32;

/// The attribute list that asks for no attributes (RFC 4511 section 4.5.1.8).
pub(crate) const NO_ATTRIBUTES: &[&str] = &["1.1"];

/// What an operation on a connection can fail with: the server's or the connection's error
/// (which may call for another server), or a finding about the data.
#[derive(Debug)]
pub(crate) enum OpError {
    /// From ldap3: the connection, a timeout, or a result code.
    Ldap(LdapError),
    /// About the data (ambiguous username, nesting too deep, ...).
    Directory(DirectoryError),
}

impl From<LdapError> for OpError {
    fn from(e: LdapError) -> Self {
        Self::Ldap(e)
    }
}

impl From<DirectoryError> for OpError {
    fn from(e: DirectoryError) -> Self {
        Self::Directory(e)
    }
}

/// A search's entries.
#[derive(Debug)]
pub(crate) struct Found {
    /// The entries (referrals left out).
    pub(crate) entries: Vec<Entry>,
    /// The size limit cut the answer short.
    pub(crate) truncated: bool,
}

/// What to search.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Query<'a> {
    pub(crate) base: &'a str,
    pub(crate) scope: Scope,
    pub(crate) filter: &'a str,
    pub(crate) attributes: &'a [&'a str],
    /// Most entries wanted; 0 leaves it to the server.
    pub(crate) limit: i32,
}

/// Runs `query` within `timeout`; result codes other than success and sizeLimitExceeded are errors.
pub(crate) async fn search(
    mut ldap: Ldap,
    timeout: Duration,
    query: Query<'_>,
) -> Result<Found, LdapError> {
    let SearchResult(raw, result) = ldap
        .with_timeout(timeout)
        .with_search_options(SearchOptions::new().sizelimit(query.limit))
        .search(
            query.base,
            query.scope,
            query.filter,
            query.attributes.to_vec(),
        )
        .await?;
    if result.rc != 0 && result.rc != SIZE_LIMIT_EXCEEDED {
        return Err(LdapError::from(result));
    }
    Ok(Found {
        entries: raw.into_iter().filter_map(Entry::parse).collect(),
        truncated: result.rc == SIZE_LIMIT_EXCEEDED,
    })
}

/// Whether `error` is the server's "no such entry".
pub(crate) fn is_no_such_object(error: &LdapError) -> bool {
    matches!(error, LdapError::LdapResult { result } if result.rc == NO_SUCH_OBJECT)
}
