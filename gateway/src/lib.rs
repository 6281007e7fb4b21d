//! Pforte: the identity and single-sign-on gateway for the sovereign workplace.
//!
//! A request's way through the gateway, and the module that owns each step:
//!
//! ```text
//! client ──TLS──▶ server (listener, tls, conn) ──▶ pipeline::handle
//!                                                    ├─ path       the one normal form of the path
//!                                                    ├─ route      host + path → app | login host
//!                                                    ├─ decide     policy: allow → Permitted<Request>, else 403
//!                                                    └─ dispatch ─┬─▶ portal   the login host's pages
//!                                                                 │    └─▶ oidc  the OpenID Connect provider
//!                                                                 └─▶ proxy    headers, upstream pool, WebSocket
//! every step: telemetry (metrics, access log) · config + reload (atomic snapshots) · admin listener
//! ```
//!
//! `config` is plain data with file:line errors; `policy` compiles the access rules for the apps
//! (the pure engine is the `pforte-policy` crate) and holds the `pforte-admin policy` tools;
//! `state` holds the snapshot a reload swaps; `crypto` is the TLS crypto provider and `cli` the
//! `--config` option of both binaries (`pforte`, `pforte-admin`); `demo` runs the whole thing on
//! embedded defaults.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod admin;
pub mod backends;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod forward_auth;
pub mod handover;
pub mod oidc;
pub mod pipeline;
pub mod policy;
pub mod portal;
pub mod proxy;
pub mod reload;
pub mod route;
pub mod server;
pub mod signout;
pub mod state;
pub mod telemetry;
pub mod visitor;
pub mod web;
