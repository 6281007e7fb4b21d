//! The upstream providers: the `idps.toml` file, its validation, and the choice of a provider
//! by a person's e-mail domain.
//!
//! ```toml
//! [[idp]]
//! id = "partner"                      # [a-z0-9-], in URLs and in sessions
//! name = "Partner ministry"           # the login page's button
//! issuer = "https://login.partner.example"    # exact; discovery at {issuer}/.well-known/…
//! client_id = "pforte"
//! client_secret = { file = "secrets/partner" }  # or { env = "VAR" }; client_secret_basic
//! scopes = ["openid", "profile", "email", "groups"]   # default openid, profile, email
//! domains = ["partner.example"]       # login_hint or typed name "x@partner.example" picks it
//! mode = "guest"                      # or "link"
//! username_claim = "preferred_username"   # a guest's name (then email, then sub)
//! logout = true                       # RP-initiated logout at the provider after ours
//! userinfo = true                     # claims the ID token lacks read from userinfo
//!
//! [idp.guest]
//! groups_claim = "groups"
//! default_group = "partners"          # without it, a guest no rule maps is refused
//! [[idp.guest.rule]]
//! upstream = "partner-ministry/staff"
//! local = "partners"
//!
//! # or, for mode = "link":
//! [idp.link]
//! claim = "email"                     # names the directory person ...
//! verified_claim = "email_verified"   # ... only when this claim is true
//! match = "mail"                      # or "username"
//! ```
//!
//! Unknown fields are errors; every problem is reported at once with file:line:column, and a
//! bad file keeps the last good providers (the gateway's reload).

mod file;
mod load;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

pub use load::{Problem, ProvidersError};

use crate::groups::GuestRules;
use crate::link::LinkRule;

/// Where a provider's client secret is read from; the gateway reads it the way it reads its
/// own secrets, so both follow one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// A file, resolved against the folder of `idps.toml`.
    File(PathBuf),
    /// An environment variable of the gateway process.
    Env(String),
}

/// What a login through the provider becomes locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// A person who exists only through the provider, with groups mapped from its claims.
    Guest(GuestRules),
    /// A person of the local directory, found once by a verified claim and linked on the
    /// provider's (issuer, `sub`).
    Link(LinkRule),
}

impl Mode {
    /// The name used in the file, audit events and `pforte-admin idps`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Guest(_) => "guest",
            Self::Link(_) => "link",
        }
    }
}

/// One upstream provider, validated.
#[derive(Clone, PartialEq, Eq)]
pub struct Provider {
    /// The short name in URLs (`/federation/{id}/…`) and in sessions.
    pub id: String,
    /// The name on the login page's button.
    pub name: String,
    /// The exact issuer; its discovery document must name the same.
    pub issuer: String,
    /// Pforte's client id at the provider.
    pub client_id: String,
    /// Where the client secret is read from.
    pub secret: SecretRef,
    /// The scopes asked for, `openid` first.
    pub scopes: Vec<String>,
    /// The e-mail domains whose people this provider serves (lower case).
    pub domains: Vec<String>,
    /// Guest or link.
    pub mode: Mode,
    /// The claim a guest's shown name comes from.
    pub username_claim: String,
    /// Whether logging out at Pforte sends the person on to the provider's logout.
    pub logout: bool,
    /// Whether the provider's userinfo endpoint is asked for the claims its ID tokens leave
    /// out (when it has one).
    pub userinfo: bool,
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("mode", &self.mode.as_str())
            .finish_non_exhaustive()
    }
}

/// Every provider of one load of `idps.toml`, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Providers {
    list: Vec<Provider>,
    by_id: HashMap<String, usize>,
}

impl Providers {
    /// The providers in file order (the login page's buttons).
    pub fn iter(&self) -> impl Iterator<Item = &Provider> {
        self.list.iter()
    }

    /// Whether the file lists no provider.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The provider with this id.
    pub fn get(&self, id: &str) -> Option<&Provider> {
        self.by_id.get(id).and_then(|&i| self.list.get(i))
    }

    /// The provider serving the domain of `hint` (an e-mail address or `user@domain` login
    /// name, as a `login_hint` or typed into the form), compared without case.
    pub fn for_hint(&self, hint: &str) -> Option<&Provider> {
        let (_, domain) = hint.trim().rsplit_once('@')?;
        let domain = domain.to_ascii_lowercase();
        self.list.iter().find(|p| p.domains.contains(&domain))
    }
}

#[cfg(test)]
pub(crate) mod tests;
