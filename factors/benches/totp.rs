//! TOTP codes verified per second on one core: what a second-factor login costs the login host
//! for the code itself (open the sealed secret with AES-256-GCM, parse it, compute and compare
//! the HMAC-SHA-1 codes of the previous and the current step). The replay guard's read and
//! write of the last step go to the session store and are not measured here.
//!
//! `cargo bench -p pforte-factors --bench totp -- --warm-up-time 1 --measurement-time 3`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pforte_factors::seal::{Purpose, Sealer};
use pforte_factors::totp::{STEP_SECONDS, StoredTotp};

const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const NOW: u64 = 1_765_000_000;

fn bench(c: &mut Criterion) {
    let sealer = Sealer::new(KEY).unwrap();
    let totp = StoredTotp::generate("phone", NOW).unwrap();
    let sealed = sealer
        .seal(Purpose::Totp, "alice", &serde_json::to_vec(&totp).unwrap())
        .unwrap();
    let current = totp.code_at(NOW).unwrap();
    let previous = totp.code_at(NOW - STEP_SECONDS).unwrap();
    let wrong = if current == "000000" {
        "000001"
    } else {
        "000000"
    };
    let step = NOW / STEP_SECONDS;
    assert_eq!(totp.check(&current, NOW).unwrap(), Some(step));
    assert_eq!(totp.check(&previous, NOW).unwrap(), Some(step - 1));

    let mut g = c.benchmark_group("totp");
    g.throughput(Throughput::Elements(1));
    // What a login does: open the stored factor, then check the typed code.
    g.bench_function("open sealed secret + check (current step)", |b| {
        b.iter(|| {
            let plain = sealer
                .open(Purpose::Totp, "alice", black_box(&sealed))
                .unwrap();
            let stored: StoredTotp = serde_json::from_slice(&plain).unwrap();
            stored.check(black_box(&current), NOW).unwrap()
        })
    });
    g.bench_function("check (current step: two HMACs)", |b| {
        b.iter(|| totp.check(black_box(&current), NOW).unwrap())
    });
    g.bench_function("check (previous step: one HMAC)", |b| {
        b.iter(|| totp.check(black_box(&previous), NOW).unwrap())
    });
    g.bench_function("check (wrong code: two HMACs)", |b| {
        b.iter(|| totp.check(black_box(wrong), NOW).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
