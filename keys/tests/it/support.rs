use pforte_keys::{KeyDir, KeySet, KeySpec, KeyState};
use tempfile::TempDir;

/// A fixed "now" far from the epoch, so windows can be moved both ways.
pub const NOW: u64 = 1_800_000_000;

pub fn empty_dir() -> (TempDir, KeyDir) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = KeyDir::new(tmp.path().join("keys"));
    (tmp, dir)
}

/// A directory with one active key of `spec`.
pub fn dir_with(spec: KeySpec) -> (TempDir, KeyDir, KeySet) {
    let (tmp, dir) = empty_dir();
    dir.generate(spec, NOW).unwrap();
    let set = dir.load(NOW).unwrap();
    (tmp, dir, set)
}

pub fn active_count(dir: &KeyDir) -> usize {
    dir.list()
        .unwrap()
        .iter()
        .filter(|k| k.state == KeyState::Active)
        .count()
}

pub const ALL_SPECS: [KeySpec; 3] = [KeySpec::Es256, KeySpec::Rs256Bits2048, KeySpec::Ed25519];
