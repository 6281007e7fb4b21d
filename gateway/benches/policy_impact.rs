//! What a reload's `policy_impact` audit costs for a large directory: the demo's apps and
//! policy against the same policy with one app taken from a group, for 100,000 people in four
//! group mixes, each asked from an inside and an outside address. Runs off the request path,
//! after the reload is in force (gateway/src/reload/impact.rs).
//!
//! `cargo bench -p pforte --bench policy_impact`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use pforte::policy::engine::UserGroups;
use pforte::policy::impact::{Limits, Side, compute};

fn policies(
    dir: &Path,
) -> (
    pforte::policy::engine::Policy,
    pforte::policy::engine::Policy,
) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let apps = pforte::config::apps::load(&root.join("apps.toml")).unwrap();
    let old = pforte::policy::load(&root.join("policy.toml"), &apps)
        .unwrap()
        .policy;
    let text = std::fs::read_to_string(root.join("policy.toml"))
        .unwrap()
        .replace("include = [\"policy.d/*.toml\"]", "")
        .replace("\"wiki\", \"projects\"]", "\"projects\"]");
    std::fs::write(dir.join("policy.toml"), text).unwrap();
    let new = pforte::policy::load(&dir.join("policy.toml"), &apps)
        .unwrap()
        .policy;
    (old, new)
}

fn impact(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = policies(dir.path());
    let mixes: [&[&str]; 4] = [
        &["staff"],
        &["staff", "finance"],
        &["partners"],
        &["staff", "admins"],
    ];
    let people: Vec<UserGroups> = (0..100_000)
        .map(|i| UserGroups {
            name: format!("user{i:06}"),
            groups: mixes[i % mixes.len()]
                .iter()
                .map(|g| (*g).to_owned())
                .collect(),
        })
        .collect();
    let side = |policy| Side {
        policy,
        clients: Default::default(),
    };
    let (before, after) = (side(&old), side(&new));
    let mut group = c.benchmark_group("policy_impact");
    group.sample_size(10);
    group.bench_function("100000_people", |b| {
        b.iter(|| compute(&before, &after, &people, &Limits::default()))
    });
    group.finish();
}

criterion_group!(benches, impact);
criterion_main!(benches);
