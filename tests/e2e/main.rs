//! End-to-end tests: the real `pforte` binary between real TLS clients and real upstream servers.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod config_check;
mod demo;
mod lifecycle;
mod policy;
mod policy_cli;
mod proxy;
mod reload;
mod tls;
