//! Verify speed: events per second through the whole check (read the file, hash every line, read
//! its chain fields, walk the chain, check the checkpoints' signatures and heads), on one core.
//! Goal (issue 18): at least a million events per second per core.
//!
//! `cargo bench -p pforte-audit --bench verify -- --warm-up-time 1 --measurement-time 5`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pforte_audit::checkpoint::Checkpoint;
use pforte_audit::keys::{SigningKey, TrustedKeys};
use pforte_audit::verify::{Input, verify};
use pforte_audit::{Hash, Link, seal};
use serde_json::{Map, Value};

const EVENTS: u64 = 200_000;
const CHECKPOINT_EVERY: u64 = 1_000;

/// A log shaped like a gateway's: login, access-denied and second-factor events of the usual
/// size, with a signed checkpoint every thousand events.
fn write_log(dir: &std::path::Path, key: &SigningKey) -> std::path::PathBuf {
    let path = dir.join("audit.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut prev = Hash::ZERO;
    for seq in 1..=EVENTS {
        let fields: Map<String, Value> = if seq % CHECKPOINT_EVERY == 0 {
            Checkpoint {
                replica: "gw-a".into(),
                seq: seq - 1,
                head: prev.to_string(),
                time: "2026-12-07T22:00:00.000000Z".into(),
                key: key.kid().into(),
            }
            .signed_fields(key)
            .unwrap()
        } else {
            serde_json::from_value(serde_json::json!({
                "timestamp": "2026-12-07T22:00:00.123456Z", "level": "INFO",
                "target": "pforte::audit", "message": "login", "event": "login_success",
                "request_id": "4f72c1d0a9b84e5f8f1e2d3c4b5a6978", "source": "192.0.2.17",
                "subject": "d3db6f6a-4c1e-4b1f-9a0e-6b1c2d3e4f50", "username": format!("user{seq}"),
                "session": "s-7c1f0e2d3b4a5968"
            }))
            .unwrap()
        };
        let sealed = seal(
            fields,
            &Link {
                replica: "gw-a".into(),
                seq,
                prev,
            },
        )
        .unwrap();
        prev = sealed.hash;
        writeln!(file, "{}", sealed.line).unwrap();
    }
    file.flush().unwrap();
    path
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::load_or_create(&dir.path().join("keys")).unwrap();
    let keys = TrustedKeys::load_dir(&dir.path().join("keys")).unwrap();
    let log = write_log(dir.path(), &key);
    let logs = [log];
    let mut group = c.benchmark_group("audit_verify");
    group.sample_size(10);
    group.throughput(Throughput::Elements(EVENTS));
    group.bench_function("events", |b| {
        b.iter(|| {
            let report = verify(&Input {
                logs: &logs,
                checkpoints: &[],
                keys: &keys,
            })
            .unwrap();
            assert!(report.is_intact());
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
