//! End-to-end tests: the real `pforte` and `pforte-admin` binaries between real TLS clients and
//! real upstream servers.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]
// The harness waits for real servers and measures real time.
#![allow(clippy::disallowed_methods)]

mod admin;
mod admin_clients;
mod admin_factors;
mod admin_idps;
mod admin_people;
mod admin_sessions;
mod alerts;
mod audit;
mod audit_delivery;
mod audit_format;
mod browser;
mod caddy;
mod config_check;
mod dashboard;
mod demo;
mod deploy;
mod directories;
mod failover;
mod faults;
mod federation;
mod federation_hostile;
mod follows_directory;
mod health;
mod hostile;
mod keys;
mod lifecycle;
mod limits;
mod login;
mod logout_bound;
mod logs;
mod manual_clock;
mod mfa;
mod moved_cli;
mod oidc;
mod pages;
mod passkey;
mod policy;
mod policy_cli;
mod proxy;
mod reload;
mod sessions;
mod testssl;
mod tls;
mod tls_certs;
mod tls_hsts;
mod tls_profiles;
mod tls_resumption;
