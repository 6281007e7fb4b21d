//! What each fuzz target asserts about Pforte's parsers of untrusted (or hand-written) input, as
//! one plain function per target: `fn(&[u8])`, which panics when a property does not hold.
//!
//! ```text
//! fuzz/fuzz_targets/<name>.rs ──libFuzzer (cargo fuzz run <name>)──┐
//!                                                                  ├─▶ pforte_fuzz_checks::<name>(bytes)
//! tests/replay.rs: fuzz/corpus/<name>/* and fuzz/regressions/<name>/* ┘      (a panic is a finding)
//! ```
//!
//! The properties live here, not in the fuzz targets, so that the committed corpus and every
//! crash ever found are replayed by `cargo test` on the ordinary debug build (no libFuzzer, no
//! sanitizer-coverage rebuild): a fixed bug that comes back fails the suite at once.
//!
//! A check asserts more than "no panic" where it is cheap: a normalised path is normal and
//! idempotent, an accepted return URL names an allowed host for a browser's URL parser too, a
//! cookie or ticket decodes to what was encoded, a verified token is the one signed, the
//! compiled policy decides as the rule-by-rule explanation says.

// A check reports a broken property by panicking: that is how libFuzzer and the replay test see
// it. `expect` is used only on the fixed set-up (a temporary folder, the committed key set), never
// on the input.
#![allow(clippy::expect_used)]

mod config;
mod cookie;
mod federation;
mod headers;
mod jwt;
mod oidc;
mod path;
mod policy;
mod return_to;
mod ticket;

pub use config::{apps, clients, config};
pub use cookie::cookie;
pub use federation::federation;
pub use headers::headers;
pub use jwt::jwt;
pub use oidc::oidc_params;
pub use path::path;
pub use policy::policy;
pub use return_to::return_to;
pub use ticket::ticket;

/// A target's checks: they panic when a property does not hold for the input.
pub type Check = fn(&[u8]);

/// Every target by name, as the fuzz targets and `fuzz/corpus/<name>` are called.
pub const TARGETS: &[(&str, Check)] = &[
    ("policy", policy),
    ("config", config),
    ("apps", apps),
    ("clients", clients),
    ("cookie", cookie),
    ("ticket", ticket),
    ("return_to", return_to),
    ("path", path),
    ("headers", headers),
    ("oidc_params", oidc_params),
    ("jwt", jwt),
    ("federation", federation),
];

/// The repository's root, for the committed files the checks load once (clients, keys, policy
/// includes).
fn repo_root() -> &'static std::path::Path {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(std::path::Path::parent)
        .unwrap_or(manifest)
}
