//! Every committed corpus input and every crash the fuzzer ever found (`fuzz/corpus/<target>/`,
//! `fuzz/regressions/<target>/`) run through its target's checks on the ordinary test build, so
//! a bug that comes back fails `cargo test` without libFuzzer. A bounded mutation run of every
//! target (thousands of inputs each, from the committed corpus, the same inputs on every run) is the suite's short
//! fuzzing; the coverage-guided runs are `fuzz/run.sh`'s (fuzz/README.md).
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

/// Mutated inputs each target gets in the suite (about a second for the slowest, `policy`).
const MUTATIONS: usize = 4_000;

/// A small deterministic generator (xorshift64*): the same mutations on every run, so a failure
/// is reproduced by running the test again.
struct Mutator(u64);

impl Mutator {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    /// `input` changed by one to four of libFuzzer's kinds of edits, `other` for splicing.
    fn mutate(&mut self, input: &[u8], other: &[u8]) -> Vec<u8> {
        /// Bytes that mean something to the parsers under test.
        const SPECIAL: &[u8] = b"%/.\\;:?#&=@[]{}\"'\n\r\t \0\xff,*-+_~";
        let mut data = input.to_vec();
        for _ in 0..=self.below(4) {
            let at = self.below(data.len() + 1);
            match self.below(6) {
                0 if at < data.len() => data[at] ^= 1 << self.below(8),
                1 if at < data.len() => data[at] = SPECIAL[self.below(SPECIAL.len())],
                2 => {
                    let end = (at + 1 + self.below(16)).min(data.len());
                    data.drain(at.min(end)..end);
                }
                3 => {
                    let bytes = (0..=self.below(8)).map(|_| self.next().to_le_bytes()[0]);
                    data.splice(at..at, bytes.collect::<Vec<_>>());
                }
                4 if !data.is_empty() => {
                    let from = self.below(data.len());
                    let end = (from + 1 + self.below(32)).min(data.len());
                    let copy = data[from..end].to_vec();
                    data.splice(at..at, copy);
                }
                _ if !other.is_empty() => {
                    let from = self.below(other.len());
                    data.truncate(at);
                    data.extend_from_slice(&other[from..]);
                }
                _ => {}
            }
        }
        data
    }
}

#[test]
fn mutations_of_the_corpus_hold() {
    let mut failed = Vec::new();
    for (target, check) in TARGETS {
        let seeds: Vec<Vec<u8>> = inputs("corpus", target)
            .iter()
            .map(|file| std::fs::read(file).expect("a corpus file is readable"))
            .collect();
        let mut mutator = Mutator(0x05EE_D0FF_0A7E ^ target.len() as u64);
        let mut tried = 0;
        while tried < MUTATIONS && !seeds.is_empty() {
            let input = &seeds[mutator.below(seeds.len())];
            let other = &seeds[mutator.below(seeds.len())];
            let data = mutator.mutate(input, other);
            tried += 1;
            if std::panic::catch_unwind(|| check(&data)).is_err() {
                let saved = std::env::temp_dir().join(format!("pforte-fuzz-{target}-{tried}"));
                let note = match std::fs::write(&saved, &data) {
                    Ok(()) => format!("{target}: input saved as {}", saved.display()),
                    Err(e) => format!("{target}: input not saved ({e}): {data:?}"),
                };
                failed.push(note);
                break;
            }
        }
        eprintln!("{target}: {tried} mutated inputs held");
    }
    assert!(
        failed.is_empty(),
        "mutated inputs that break a property (add them to fuzz/regressions/<target>/):\n{}",
        failed.join("\n")
    );
}
