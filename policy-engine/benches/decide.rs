//! Decisions per second and full-compile time for a large policy: 1,000 apps with 10 rules
//! each (plus one rule for every app), in 100 team files included from one entry file.
//!
//! `cargo bench -p pforte-policy --bench decide -- --warm-up-time 1 --measurement-time 3`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::net::IpAddr;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pforte_policy::{AccessRequest, AppSummary, Decision, LoginStrength, Subject, load};

const APPS: usize = 1_000;
const APPS_PER_FILE: usize = 10;

fn apps() -> Vec<AppSummary> {
    (0..APPS)
        .map(|i| AppSummary {
            name: format!("app{i}"),
            hosts: vec![format!("app{i}.example.org")],
            path_prefix: String::new(),
            display_name: format!("App {i}"),
            icon: None,
        })
        .collect()
}

/// Ten rules for one app, of the kinds a real workplace writes.
fn app_rules(out: &mut String, i: usize) {
    let app = format!("apps = [\"app{i}\"]");
    let team = i % 50;
    let rules = [
        "allow = [\"group:staff\"]".to_owned(),
        format!("allow = [\"group:team{team}\"]\npaths = [\"/team/\"]"),
        "deny = [\"group:contractors\"]\npaths = [\"/internal/\"]".to_owned(),
        "allow = [\"group:partners\"]\nmethods = [\"GET\", \"HEAD\"]\npaths = [\"/shared/*\"]"
            .to_owned(),
        "deny = [\"everyone\"]\nexcept = [\"group:finance\"]\npaths = [\"/finance/\"]".to_owned(),
        "allow = [\"group:admins\"]\npaths = [\"/admin/\"]\nfrom = [\"internal\"]\nlogin = \"mfa\""
            .to_owned(),
        "allow = [\"everyone\"]\npaths = [\"/static/*.css\", \"/static/*.js\"]".to_owned(),
        format!("allow = [\"user:svc{i}\"]\nmethods = [\"POST\"]\npaths = [\"/api/\"]"),
        "deny = [\"group:suspended\"]".to_owned(),
        "allow = [\"authenticated\"]\npaths = [\"/help/\"]".to_owned(),
    ];
    for rule in rules {
        writeln!(out, "\n[[rule]]\n{app}\n{rule}").unwrap();
    }
}

fn write_policy(dir: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("policy.d")).unwrap();
    let entry = dir.join("policy.toml");
    std::fs::write(
        &entry,
        "include = [\"policy.d/*.toml\"]\n\n[networks]\ninternal = [\"10.0.0.0/8\", \"192.168.0.0/16\"]\n\n\
         [[rule]]\napps = [\"*\"]\npaths = [\"/.well-known/\"]\nallow = [\"everyone\"]\n",
    )
    .unwrap();
    for file in 0..APPS / APPS_PER_FILE {
        let mut text = String::new();
        for i in file * APPS_PER_FILE..(file + 1) * APPS_PER_FILE {
            app_rules(&mut text, i);
        }
        std::fs::write(dir.join(format!("policy.d/team{file:03}.toml")), text).unwrap();
    }
    entry
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let entry = write_policy(dir.path());
    let apps = apps();
    let loaded = load(&entry, &apps).unwrap();
    assert_eq!(loaded.policy.rule_count(), APPS * 10 + 1);
    let policy = loaded.policy;

    let groups: Vec<String> = ["staff", "team7", "projects", "berlin"]
        .iter()
        .map(|g| (*g).to_owned())
        .collect();
    let staff = policy.subject("dana", &groups, LoginStrength::Mfa);
    let nobody = Subject::anonymous();
    let source: IpAddr = "10.1.2.3".parse().unwrap();
    let typical = AccessRequest {
        app: 500,
        path: "/projects/42/board",
        method: "GET",
        source,
    };
    assert!(matches!(
        policy.decide(&staff, &typical),
        Decision::Allow { .. }
    ));
    let public = AccessRequest {
        app: 501,
        path: "/static/app/main.css",
        method: "GET",
        source,
    };
    assert!(matches!(
        policy.decide(&nobody, &public),
        Decision::Allow { .. }
    ));
    let outsider = policy.subject("eve", &["visitors".to_owned()], LoginStrength::Password);
    let denied = AccessRequest {
        app: 502,
        path: "/shared/report.pdf",
        method: "DELETE",
        source,
    };
    assert_eq!(
        policy.decide(&outsider, &denied),
        Decision::Deny { rule: None }
    );

    let mut g = c.benchmark_group("decide");
    g.throughput(Throughput::Elements(1));
    g.bench_function("typical: staff GET, first allow", |b| {
        b.iter(|| policy.decide(black_box(&staff), black_box(&typical)))
    });
    g.bench_function("public: anonymous GET of a static file", |b| {
        b.iter(|| policy.decide(black_box(&nobody), black_box(&public)))
    });
    g.bench_function("worst: default deny after every rule", |b| {
        b.iter(|| policy.decide(black_box(&outsider), black_box(&denied)))
    });
    g.finish();

    let mut g = c.benchmark_group("load");
    g.sample_size(10);
    g.bench_function("1000 apps x 10 rules, 101 files", |b| {
        b.iter(|| load(black_box(&entry), &apps).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
