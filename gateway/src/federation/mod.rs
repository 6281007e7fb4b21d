//! Pforte as a relying party of partners' OpenID providers (`[federation]`, `idps.toml`): what
//! the login host's federation pages (`portal::federation`) stand on. The protocol's rules are
//! the `pforte-federation` crate's; here is what needs the network, the session store and the
//! directory.
//!
//! ```text
//! partners   one load of idps.toml with the client secrets (swapped with the snapshot)
//! upstream   Upstreams: each provider's discovery document and key set, cached; the key set
//!            fetched again once for an unknown key id; the code exchange
//! records    pending logins (state ─▶ nonce, PKCE verifier, return URL, browser binding),
//!            links (issuer, sub) ⇄ directory subject, upstream sid ─▶ local session
//! resolve    the local person a verified login becomes: a guest with mapped groups, or the
//!            directory person a link (or, the first time, a verified claim) names
//! ```

pub mod partners;
pub mod records;
pub mod resolve;
pub mod upstream;
