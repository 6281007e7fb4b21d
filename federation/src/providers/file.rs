//! The on-disk format of `idps.toml`, exactly as written, with the place of every value.

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

/// The whole file: a list of `[[idp]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProvidersFile {
    #[serde(default)]
    pub(super) idp: Vec<Spanned<ProviderEntry>>,
}

/// One `[[idp]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProviderEntry {
    pub(super) id: Spanned<String>,
    pub(super) name: Spanned<String>,
    pub(super) issuer: Spanned<String>,
    pub(super) client_id: Spanned<String>,
    pub(super) client_secret: Spanned<SecretEntry>,
    pub(super) scopes: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub(super) domains: Vec<Spanned<String>>,
    pub(super) mode: Spanned<String>,
    pub(super) username_claim: Option<Spanned<String>>,
    pub(super) logout: Option<bool>,
    pub(super) userinfo: Option<bool>,
    pub(super) guest: Option<Spanned<GuestEntry>>,
    pub(super) link: Option<Spanned<LinkEntry>>,
}

/// Where the client secret comes from: never written inline.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub(super) enum SecretEntry {
    File(PathBuf),
    Env(String),
}

/// `[idp.guest]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GuestEntry {
    pub(super) groups_claim: Option<Spanned<String>>,
    pub(super) default_group: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) rule: Vec<Spanned<RuleEntry>>,
}

/// One `[[idp.guest.rule]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleEntry {
    pub(super) upstream: Spanned<String>,
    pub(super) local: Spanned<String>,
}

/// `[idp.link]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LinkEntry {
    pub(super) claim: Spanned<String>,
    pub(super) verified_claim: Option<Spanned<String>>,
    #[serde(rename = "match")]
    pub(super) match_by: Spanned<String>,
}
