//! Files on disk: atomic replacement, private permissions, readers during rotation.

use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicBool, Ordering};

use pforte_keys::KeySpec;

use crate::support::{NOW, empty_dir};

#[test]
fn writes_leave_only_keys_metadata_and_the_lock() {
    let (_tmp, dir) = empty_dir();
    dir.generate(KeySpec::Es256, NOW).unwrap();
    dir.generate(KeySpec::Es256, NOW).unwrap();
    for i in 1..=3 {
        dir.rotate(NOW + i).unwrap();
    }
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        assert!(
            name == ".lock" || name.ends_with(".pem") || name.ends_with(".toml"),
            "leftover file {name}"
        );
        if name.ends_with(".pem") {
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name} must be private");
        }
    }
}

#[test]
fn a_replica_reloading_during_rotations_always_sees_one_active_key() {
    let (_tmp, dir) = empty_dir();
    dir.generate(KeySpec::Ed25519, NOW).unwrap();
    dir.generate(KeySpec::Ed25519, NOW).unwrap();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut loads = 0;
            while !done.load(Ordering::Acquire) || loads == 0 {
                let set = dir.load(NOW + 1000).unwrap();
                let active = set.active().kid();
                let published = set.jwks()["keys"].as_array().unwrap();
                assert!(published.iter().any(|k| k["kid"] == active));
                loads += 1;
            }
            loads
        });
        for i in 1..=40 {
            dir.rotate(NOW + i).unwrap();
        }
        done.store(true, Ordering::Release);
        assert!(reader.join().unwrap() > 0);
    });
}

#[test]
fn a_mount_without_lock_file_loads_like_a_kubernetes_secret() {
    let (_tmp, dir) = empty_dir();
    let kid = dir.generate(KeySpec::Es256, NOW).unwrap();
    std::fs::remove_file(dir.path().join(".lock")).unwrap();
    std::fs::create_dir(dir.path().join("..data")).unwrap();
    assert_eq!(dir.load(NOW).unwrap().active().kid(), kid);
    assert!(
        !dir.path().join(".lock").exists(),
        "readers never create the lock"
    );
}
