//! Pforte: the identity and single-sign-on gateway for the sovereign workplace.
//!
//! A request's way through the gateway, and the module that owns each step:
//!
//! ```text
//! client ──TLS──▶ server (listener, tls, conn) ──▶ pipeline::handle
//!                                                    ├─ route      host + path → app | login host
//!                                                    ├─ decide     the one decision point → Permitted<Request>
//!                                                    └─ dispatch ─┬─▶ portal   the login host's pages
//!                                                                 └─▶ proxy    headers, upstream pool, WebSocket
//! every step: telemetry (metrics, access log) · config + reload (atomic snapshots) · admin listener
//! ```
//!
//! `config` is plain data with file:line errors; `state` holds the snapshot a reload swaps;
//! `demo` runs the whole thing on embedded defaults.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod admin;
pub mod config;
pub mod demo;
pub mod pipeline;
pub mod portal;
pub mod proxy;
pub mod reload;
pub mod route;
pub mod server;
pub mod state;
pub mod telemetry;
