//! The deployment files and the container image, checked with the tools an operator's platform
//! uses (podman, kubectl, kubernetes-validate, redis-server, systemd-analyze), never by reading
//! them alone: one file per thing deployed.

mod image;
mod kubernetes;
mod systemd;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs `command` to the end without input; a program that cannot start fails the test.
fn run(command: &mut Command) -> Output {
    command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?} (tests/run installs it): {e}"))
}

/// A program's output as text.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The repository's `deploy/` folder.
fn deploy_dir() -> PathBuf {
    repo().join("deploy")
}

/// The repository.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}
