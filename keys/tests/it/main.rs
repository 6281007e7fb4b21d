//! Behaviour of the key directory and the key set as the gateway and the
//! admin CLI use them; one binary for all suites.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod broken;
mod files;
mod jwks;
mod oidc;
mod rotation;
mod support;
mod tokens;
