//! Every committed corpus input and every crash the fuzzer ever found (`fuzz/corpus/<target>/`,
//! `fuzz/regressions/<target>/`) run through its target's checks on the ordinary test build, so
//! a bug that comes back fails `cargo test` without libFuzzer.
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};

use pforte_fuzz_checks::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("fuzz/checks is in fuzz/")
        .to_path_buf()
}

/// The files of `fuzz/<kind>/<target>/`, sorted, or none when the folder is missing.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every input of every target and names each one that fails, all at once.
fn replay(kind: &str) -> usize {
    let mut failed = Vec::new();
    let mut count = 0;
    for (target, check) in TARGETS {
        for file in inputs(kind, target) {
            let data = std::fs::read(&file).expect("a corpus file is readable");
            count += 1;
            if std::panic::catch_unwind(|| check(&data)).is_err() {
                failed.push(file.display().to_string());
            }
        }
    }
    assert!(failed.is_empty(), "failing inputs:\n{}", failed.join("\n"));
    count
}

#[test]
fn every_committed_corpus_input_holds() {
    let count = replay("corpus");
    assert!(count >= TARGETS.len(), "only {count} corpus inputs found");
    for (target, _) in TARGETS {
        assert!(
            !inputs("corpus", target).is_empty(),
            "fuzz/corpus/{target} is empty"
        );
    }
}

#[test]
fn every_crash_found_so_far_stays_fixed() {
    replay("regressions");
}
