//! The on-disk format of `clients.toml`, exactly as written, with the place of every value.
//!
//! These structs only parse; [`super::load`] turns them into the runtime [`super::Clients`].

use serde::Deserialize;
use toml::Spanned;

/// The whole file: a list of `[[client]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClientsFile {
    #[serde(default)]
    pub(crate) client: Vec<Spanned<ClientEntry>>,
}

/// One `[[client]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClientEntry {
    pub(crate) id: Spanned<String>,
    pub(crate) app: Spanned<String>,
    pub(crate) public: Option<Spanned<bool>>,
    pub(crate) secret_hash: Option<Spanned<String>>,
    pub(crate) jwks: Option<Spanned<String>>,
    pub(crate) jwks_uri: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) redirect_uris: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) post_logout_redirect_uris: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) scopes: Vec<Spanned<String>>,
    pub(crate) grant_types: Option<Vec<Spanned<String>>>,
    pub(crate) backchannel_logout_uri: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) pairwise_subject: bool,
    #[serde(default)]
    pub(crate) require_pushed_authorization_requests: bool,
    #[serde(default)]
    pub(crate) exchange_audiences: Vec<Spanned<String>>,
    pub(crate) access_token_seconds: Option<Spanned<u64>>,
    pub(crate) id_token_seconds: Option<Spanned<u64>>,
    pub(crate) refresh_token_seconds: Option<Spanned<u64>>,
}
