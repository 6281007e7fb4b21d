//! What one audit event costs the request that causes it: a `login_success` recorded through the
//! typed API, the tracing layer, sealing onto the chain (canonical JSON, SHA-256) and the write
//! to the file, with checkpoints signed at their interval. Against the same event written by the
//! unchained JSON layer Pforte used before (the reference of this run), and with
//! `durability = "every_event"` (a sync per event, on this machine's disk).
//!
//! `cargo bench -p pforte --bench audit_event -- --warm-up-time 1 --measurement-time 5`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use pforte::config::{Audit, Durability};
use pforte::telemetry::audit::{self, AuditContext, AuditEvent};
use pforte::telemetry::audit_log::{AuditLog, ChainLayer, Role};
use pforte_session::Clock;
use tracing_subscriber::layer::SubscriberExt;

fn login() {
    audit::record(
        AuditContext {
            request_id: "4f72c1d0a9b84e5f8f1e2d3c4b5a6978",
            source: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 17))),
        },
        AuditEvent::LoginSuccess {
            subject: "d3db6f6a-4c1e-4b1f-9a0e-6b1c2d3e4f50",
            username: "alice",
            session: "s-7c1f0e2d3b4a5968",
        },
    );
}

fn chained(dir: &Path, name: &str, durability: Durability) -> Arc<AuditLog> {
    let file = dir.join(format!("{name}.jsonl"));
    let settings = Audit {
        durability,
        checkpoint_interval: Duration::from_secs(60),
        ..Audit::new(Some(file.clone()), name.into(), dir.join("keys"))
    };
    AuditLog::open(&settings, &file, Clock::system(), Role::Gateway, None).unwrap()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut group = c.benchmark_group("audit_event");
    let unchained = std::fs::File::create(dir.path().join("unchained.jsonl")).unwrap();
    let reference = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_writer(Arc::new(unchained))
            .with_ansi(false)
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false),
    );
    tracing::subscriber::with_default(reference, || {
        group.bench_function("unchained_json_reference", |b| b.iter(login));
    });
    for (name, durability) in [
        ("chained_interval", Durability::Interval),
        ("chained_every_event", Durability::EveryEvent),
    ] {
        let log = chained(dir.path(), name, durability);
        let subscriber = tracing_subscriber::registry().with(ChainLayer::new(log.clone()));
        tracing::subscriber::with_default(subscriber, || {
            group.bench_function(name, |b| b.iter(login));
        });
        log.close();
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
