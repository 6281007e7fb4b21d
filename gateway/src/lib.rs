//! Pforte: the identity and single-sign-on gateway for the sovereign workplace.
//!
//! A request's way through the gateway, and the module that owns each step:
//!
//! ```text
//! client ──TLS (tls)──▶ server (listener + admission, conn) ──▶ pipeline::handle
//!   ├─ policy::path      the one normal form of the path (and the path the rules judge)
//!   ├─ route             host + path → Target, once
//!   └─ dispatch by Target
//!        ├─ App ─────────▶ pipeline::app: visitor ─▶ policy::decide ─▶ proxy (upstream pool)
//!        ├─ LoginPage ───▶ portal        login form, portal page, logout (signout)
//!        ├─ Oidc ────────▶ oidc          the OpenID Connect provider
//!        └─ Builtin ─────▶ handover (/.pforte/sso, /.pforte/login) · forward_auth · keys · logo
//! shared below them: web (context, errors, pages, cookies, CSRF) · visitor (its session, re-read
//! from the directory when due: directory_refresh) · state (snapshot)
//! every step: telemetry (metrics, access and audit logs) · config + reload · admin listener
//! the login form, second factors, token and introspection: rate_limit (per client address)
//! ```
//!
//! No module imports one above it on that way; docs/architecture.md has the rules and the
//! login's way. `config` is plain data with file:line errors; `policy` compiles the access rules
//! for the apps (the pure engine is the `pforte-policy` crate) and holds the `pforte-admin
//! policy` tools; `state` holds the snapshot a reload swaps; `crypto` makes the TLS crypto providers
//! and `cli` the `--config` option of both binaries (`pforte`, `pforte-admin`); `demo` runs the
//! whole thing on embedded defaults.
// A request's future nests the session store's Redis connection (redis, tokio) a hundred
// types deep under the pipeline's; proving it `Send` can pass the compiler's default depth of
// 128 after an unrelated change to any handler (error E0275 at server/handlers.rs).
#![recursion_limit = "256"]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)
)]

pub mod admin;
pub mod assemble;
pub mod backends;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod directory_refresh;
pub mod federation;
pub mod forward_auth;
pub mod handover;
pub mod login_host;
pub mod mfa;
pub mod oidc;
pub mod outbound;
pub mod pipeline;
pub mod policy;
pub mod portal;
pub mod proxy;
pub mod rate_limit;
pub mod reload;
pub mod route;
pub mod server;
pub mod signout;
pub mod state;
pub mod telemetry;
pub mod tls;
pub mod visitor;
pub mod web;
