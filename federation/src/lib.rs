//! Pforte as a relying party of other administrations' OpenID providers ("upstream
//! providers"): partners log in with their own provider instead of a second password kept by
//! Pforte. This crate holds the rules as pure functions; the gateway fetches documents, keeps
//! state and serves the pages.
//!
//! ```text
//! idps.toml ──Providers::load──▶ Providers (each: issuer, client, scopes, domains, mode)
//!
//! login page ─▶ request::Authorization::new  state, nonce, PKCE verifier ─▶ kept server-side
//!            ─▶ .url(metadata)               the provider's authorization URL
//! callback   ─▶ response::check              state present, error=, RFC 9207 iss (mix-up)
//!            ─▶ token::TokenResponse::parse  the token endpoint's JSON
//!            ─▶ id_token::verify             issuer, audience, azp, signature (JWKS), exp, iat,
//!                                            nonce  ─▶ UpstreamClaims
//!            ─▶ Mode::Guest: groups::GuestRules::map   upstream groups ─▶ local groups | refuse
//!               Mode::Link:  link::LinkRule::claim     the verified claim naming the person
//! provider's back-channel logout ─▶ logout_token::verify ─▶ sid and/or sub
//!
//! an administrator's check (pforte-admin idps test):
//!            metadata::Metadata::review   every problem of a discovery document at once
//!            jwks::signing_keys           the keys that could verify an ID token
//! ```
//!
//! Identities are keyed by (issuer, `sub`) ([`identity`]), never by an e-mail address alone.
//! No HTTP, no clock: time comes in as `now`.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod groups;
pub mod id_token;
pub mod identity;
pub mod jwks;
pub mod link;
pub mod logout;
pub mod logout_token;
pub mod metadata;
pub mod providers;
pub mod request;
pub mod response;
mod signature;
pub mod token;
pub mod userinfo;

pub use groups::{GuestRules, Unmapped};
pub use id_token::{IdTokenError, UpstreamClaims};
pub use link::LinkRule;
pub use metadata::{Metadata, MetadataError};
pub use providers::{Mode, Problem, Provider, Providers, ProvidersError, SecretRef};
