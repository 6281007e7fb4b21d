//! Registered clients: the `clients.toml` file, its validation, and client authentication.
//!
//! ```toml
//! [[client]]
//! id = "nextcloud"                      # the client_id
//! app = "docs"                          # the app in apps.toml whose access rules apply
//! secret_hash = "$argon2id$v=19$..."    # or: public = true (then PKCE S256 is required),
//!                                       # or: jwks = '{"keys":[...]}' / jwks_uri = "https://..."
//!                                       #     (private_key_jwt, RFC 7523)
//! redirect_uris = ["https://cloud.example.org/apps/user_oidc/code"]   # exact strings
//! post_logout_redirect_uris = ["https://cloud.example.org/"]          # optional
//! scopes = ["openid", "profile", "email", "groups", "offline_access"]
//! grant_types = ["authorization_code", "refresh_token"]  # default: ["authorization_code"];
//!                                       # also client_credentials, device_code (RFC 8628)
//! backchannel_logout_uri = "https://cloud.example.org/apps/user_oidc/backchannel-logout"
//! pairwise_subject = true               # optional, default false
//! exchange_audiences = ["files-api"]    # with grant type token_exchange: the clients it may
//!                                       # exchange a person's token for (RFC 8693)
//! require_pushed_authorization_requests = true   # optional, default false (RFC 9126)
//! access_token_seconds = 300            # optional; also id_token_seconds (300) and
//! refresh_token_seconds = 2592000       # refresh_token_seconds (30 days)
//! ```
//! Redirect URIs are `https`, `http` on 127.0.0.1, [::1] or localhost, or for a public client a
//! native app's private-use scheme such as `de.example.app:/callback` (RFC 8252); no fragments,
//! wildcards or credentials. A loopback IP redirect takes any port at request time, as native
//! apps listen on whichever port is free (RFC 8252 §7.3); every other one matches exactly.
//! Unknown fields are errors.
//!
//! ```text
//! clients.toml ──toml──▶ file::ClientsFile ──load::validate──▶ Clients ──authenticate──▶ &Client
//!                        (spans kept)          (every problem,      (immutable snapshot,
//!                                               file:line:col)       swapped on reload)
//! ```
//!
//! [`edit`] changes the file for `pforte-admin clients` (comments kept) and hands back the new
//! text only when this same loader accepts it.

pub mod assertion;
mod audiences;
mod auth;
pub mod edit;
mod file;
pub mod keys;
mod load;
mod secret;
mod uri;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

pub use auth::{BasicCredentials, PresentedCredentials};
pub use keys::ClientKeys;
pub use load::{ClientsError, Problem};
pub use secret::SecretHash;

use crate::scope::Scopes;

/// A grant type a client may be allowed (RFC 6749 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantType {
    /// The browser flow: code at the redirect URI, tokens at the token endpoint.
    AuthorizationCode,
    /// Renewing tokens with a refresh token.
    RefreshToken,
    /// A service acting for itself, with no person involved.
    ClientCredentials,
    /// A device without a browser (a room system, a command-line tool): a person approves its
    /// user code on another device while it polls (RFC 8628).
    DeviceCode,
    /// A service trading a person's access token for one to another client's API, acting
    /// for the person (RFC 8693).
    TokenExchange,
}

/// The `grant_type` of a token exchange on the wire (RFC 8693 §2.1).
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

impl GrantType {
    /// Every grant type, in the order they are listed in messages.
    pub const ALL: [Self; 5] = [
        Self::AuthorizationCode,
        Self::RefreshToken,
        Self::ClientCredentials,
        Self::DeviceCode,
        Self::TokenExchange,
    ];

    /// The grant type as written in `clients.toml` and in metric labels: short, so an admin
    /// need not type a URN; for the first three also its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::DeviceCode => "device_code",
            Self::TokenExchange => "token_exchange",
        }
    }

    /// The `grant_type` parameter's value on the wire: the name, or for an extension grant its
    /// URN (RFC 6749 §4.5), too long to write in `clients.toml`.
    pub fn wire_name(self) -> &'static str {
        match self {
            Self::DeviceCode => crate::device::GRANT_TYPE,
            Self::TokenExchange => TOKEN_EXCHANGE_GRANT,
            other => other.as_str(),
        }
    }

    /// Parses a grant type name as `clients.toml` writes it; `None` for one this provider does
    /// not support.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == name)
    }

    /// Parses a token request's `grant_type`; `None` for one this provider does not support.
    pub fn from_wire(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.wire_name() == name)
    }
}

/// How a client proves who it is at the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientType {
    /// A browser or native app that cannot keep a secret: PKCE stands in for the secret.
    Public,
    /// A server-side app with a secret, stored here only as its argon2id hash.
    Confidential(Box<SecretHash>),
    /// A server-side app that signs assertions with its private key (`private_key_jwt`, RFC
    /// 7523): the provider holds only public keys, so nothing it stores authenticates anyone.
    KeyHolder(Box<ClientKeys>),
}

/// How long tokens issued to a client live, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Access tokens (RFC 9068 JWTs); short, since they cannot be recalled.
    pub access_token: u64,
    /// ID tokens.
    pub id_token: u64,
    /// A refresh-token family, counted from the login that started it.
    pub refresh_token: u64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            access_token: 300,
            id_token: 300,
            refresh_token: 30 * 24 * 3600,
        }
    }
}

/// Where something is in a file, for messages that send an admin to the right line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// One registered client, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The `client_id`.
    pub id: String,
    /// The app (in apps.toml) whose access rules decide who may get tokens for this client.
    pub app: String,
    /// Where `app` is written, so the gateway can point at it when the app does not exist.
    pub app_place: Place,
    /// Public or confidential.
    pub client_type: ClientType,
    /// The exact redirect URIs; a request must use one of them byte for byte.
    pub redirect_uris: Vec<String>,
    /// The exact URIs end_session may send the browser back to.
    pub post_logout_redirect_uris: Vec<String>,
    /// The scopes this client may ask for.
    pub scopes: Scopes,
    /// The grants this client may use.
    pub grant_types: Vec<GrantType>,
    /// Where logout tokens are posted when a session ends (OIDC Back-Channel Logout).
    pub backchannel_logout_uri: Option<String>,
    /// Whether `sub` is pairwise for this client, so apps cannot correlate users.
    pub pairwise_subject: bool,
    /// Whether its authorization requests must be pushed (RFC 9126 §6): the browser then
    /// carries nothing of them but a `request_uri`.
    pub require_pushed_requests: bool,
    /// The clients whose APIs it may get a person's token for by token exchange (RFC 8693):
    /// each names a client of the file; empty unless it has the `token_exchange` grant.
    pub exchange_audiences: Vec<String>,
    /// Token lifetimes.
    pub lifetimes: Lifetimes,
}

impl Client {
    /// Whether the client may use `grant`.
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Whether the client may exchange a person's token for one to `audience`'s API.
    pub fn may_exchange_for(&self, audience: &str) -> bool {
        self.allows(GrantType::TokenExchange)
            && self.exchange_audiences.iter().any(|a| a == audience)
    }

    /// Whether the client cannot keep a secret (and so must use PKCE).
    pub fn is_public(&self) -> bool {
        self.client_type == ClientType::Public
    }

    /// Whether `uri` is one of the registered redirect URIs: exactly, or for a loopback IP
    /// redirect exactly but for the port, which a native app picks when it runs (RFC 8252 §7.3).
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|r| uri::redirect_matches(r, uri))
    }

    /// Whether `uri` is exactly one of the registered post-logout redirect URIs.
    pub fn has_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris.iter().any(|r| r == uri)
    }

    /// The web origins of the redirect URIs: where this client's browser app runs, and so
    /// where JavaScript may call the token endpoint from (as Keycloak derives "web origins"
    /// from redirect URIs), with no second list to keep in step.
    pub fn web_origins(&self) -> impl Iterator<Item = String> + '_ {
        self.redirect_uris.iter().filter_map(|u| uri::web_origin(u))
    }
}

/// Every registered client: an immutable snapshot, built off the request path and swapped
/// whole on reload.
#[derive(Debug, Clone, Default)]
pub struct Clients {
    by_id: HashMap<String, Client>,
    /// A registered hash that unknown client ids are checked against, to hide which exist.
    stand_in: Option<SecretHash>,
}

impl Clients {
    /// The client with this `client_id`.
    pub fn get(&self, id: &str) -> Option<&Client> {
        self.by_id.get(id)
    }

    /// Every client, in no particular order (e.g. for back-channel logout fan-out).
    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.by_id.values()
    }

    /// How many clients are registered.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no client is registered.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) use secret::tests::cheap_hash;
