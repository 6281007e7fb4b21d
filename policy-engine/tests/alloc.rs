//! `decide` does not allocate: counted with an instrumented global allocator, in a test
//! binary of its own so that no other test allocates at the same time.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::alloc::System;
use std::net::IpAddr;
use std::path::Path;

use pforte_policy::{AccessRequest, AppSummary, LoginStrength, Subject, load};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn decide_does_not_allocate() {
    let names = [
        "mail", "calendar", "docs", "files", "video", "chat", "wiki", "projects", "admin",
    ];
    let apps: Vec<AppSummary> = names
        .iter()
        .map(|n| AppSummary {
            name: (*n).into(),
            hosts: vec![format!("{n}.localhost")],
            path_prefix: String::new(),
            display_name: (*n).into(),
            icon: None,
        })
        .collect();
    let policy = load(Path::new("../policies/policy.toml"), &apps)
        .unwrap()
        .policy;
    let old = load(Path::new("../policies/policy.toml"), &apps)
        .unwrap()
        .policy;
    let groups = vec!["staff".to_owned(), "admins".to_owned()];
    let subjects = [
        policy.subject("alice", &groups, LoginStrength::Mfa),
        policy.subject("alice", &groups, LoginStrength::Password),
        old.subject("alice", &groups, LoginStrength::Mfa), // decided by name
        Subject::anonymous(),
    ];
    let sources: [IpAddr; 2] = [
        "10.1.2.3".parse().unwrap(),
        "::ffff:8.8.8.8".parse().unwrap(),
    ];
    let paths = [
        "/",
        "/finance/x",
        "/.well-known/openid-configuration",
        "/runbooks/a",
        "/handbook/b",
    ];

    let region = Region::new(GLOBAL);
    let mut decisions = 0usize;
    for subject in &subjects {
        for app in 0..=names.len() {
            for path in paths {
                for source in sources {
                    for method in ["GET", "POST"] {
                        let d = policy.decide(
                            subject,
                            &AccessRequest {
                                app,
                                path,
                                method,
                                source,
                            },
                        );
                        decisions += usize::from(
                            std::hint::black_box(d) != pforte_policy::Decision::LoginRequired,
                        );
                    }
                }
            }
        }
    }
    let stats = region.change();
    assert!(decisions > 0);
    assert_eq!(
        (stats.allocations, stats.reallocations),
        (0, 0),
        "decide allocated: {stats:?}"
    );
}
