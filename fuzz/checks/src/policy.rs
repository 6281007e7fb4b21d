//! The policy parser and compiler (`pforte_policy::load`) and its decisions (`Policy::decide`),
//! against the rule-by-rule explanation (`pforte_policy::explain`).
//!
//! The input is written as the entry file `policy.toml` of a folder that also holds the demo's
//! `policy.d/` (so `include` is exercised), and loaded for the demo's nine apps; `load` reads
//! files, and writing one per input keeps the product's API as it is.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

use pforte_policy::{
    AccessRequest, AppSummary, Decision, Effect, ExplainQuery, LoginStrength, Policy, Subject,
    explain, load,
};

const APPS: [&str; 9] = [
    "mail", "calendar", "docs", "files", "video", "chat", "wiki", "projects", "admin",
];

struct Setup {
    _dir: tempfile::TempDir,
    entry: PathBuf,
    apps: Vec<AppSummary>,
    /// The demo policy, to intern subjects for another policy than the one decided.
    demo: Policy,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("pforte-fuzz-policy")
            .tempdir_in(shm_or_tmp())
            .expect("a temporary folder");
        let included = dir.path().join("policy.d");
        std::fs::create_dir(&included).expect("policy.d");
        let demo = crate::repo_root().join("policies");
        for entry in std::fs::read_dir(demo.join("policy.d")).expect("policies/policy.d") {
            let from = entry.expect("a policy file").path();
            if let Some(name) = from.file_name() {
                std::fs::copy(&from, included.join(name)).expect("a policy file copies");
            }
        }
        let apps: Vec<AppSummary> = APPS
            .iter()
            .map(|name| AppSummary {
                name: (*name).into(),
                hosts: vec![format!("{name}.localhost")],
                path_prefix: String::new(),
                display_name: (*name).into(),
                icon: None,
            })
            .collect();
        let demo = load(&demo.join("policy.toml"), &apps)
            .expect("the demo policy loads")
            .policy;
        Setup {
            entry: dir.path().join("policy.toml"),
            _dir: dir,
            apps,
            demo,
        }
    })
}

fn shm_or_tmp() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    }
}

/// Any text as a policy's entry file: it loads or gives errors that render with their places;
/// a loaded policy decides every request of a small grid (its own paths and groups, the demo's
/// apps, two methods, three addresses, three people) exactly as its explanation says rule by
/// rule, and the same for a person interned by another policy.
pub fn policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let setup = setup();
    std::fs::write(&setup.entry, text).expect("the entry file is writable");
    let policy = match load(&setup.entry, &setup.apps) {
        Ok(loaded) => loaded.policy,
        Err(errors) => {
            assert!(!errors.errors.is_empty());
            assert!(!errors.to_string().is_empty());
            return;
        }
    };
    assert!(policy.decides_like(&policy));
    let (paths, groups) = words(text);
    let people: [(Option<&str>, Vec<String>); 3] = [
        (None, Vec::new()),
        (Some("alice"), vec!["staff".to_owned()]),
        (Some("bob"), groups),
    ];
    let sources: [IpAddr; 3] = [
        [10, 1, 2, 3].into(),
        [203, 0, 113, 5].into(),
        std::net::Ipv6Addr::LOCALHOST.into(),
    ];
    for (app, name) in APPS.iter().enumerate() {
        for path in &paths {
            for (i, source) in sources.iter().enumerate() {
                let method = if i == 1 { "POST" } else { "GET" };
                for (user, groups) in &people {
                    let query = ExplainQuery {
                        user: user.map(str::to_owned),
                        groups: groups.clone(),
                        login: LoginStrength::Mfa,
                        source: *source,
                        url: format!("https://{name}.localhost{path}"),
                        method: method.to_owned(),
                    };
                    decides_as_explained(setup, &policy, app, &query);
                }
            }
        }
    }
}

/// Paths (strings of the policy that start with `/`, and two of the demo's) and groups (the
/// names after `group:`) to ask about.
fn words(text: &str) -> (Vec<String>, Vec<String>) {
    let mut paths = vec!["/".to_owned(), "/admin/users".to_owned()];
    let mut groups = vec!["admins".to_owned()];
    let Ok(table) = text.parse::<toml::Table>() else {
        return (paths, groups);
    };
    let value = toml::Value::Table(table);
    let mut strings = Vec::new();
    collect(&value, &mut strings);
    for s in strings {
        if let Some(group) = s.strip_prefix("group:") {
            if groups.len() < 4 {
                groups.push(group.to_owned());
            }
        } else if s.starts_with('/') && paths.len() < 5 && !s.contains(['?', '#']) {
            paths.push(s.to_owned());
        }
    }
    (paths, groups)
}

fn collect<'v>(value: &'v toml::Value, out: &mut Vec<&'v str>) {
    match value {
        toml::Value::String(s) => out.push(s),
        toml::Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        toml::Value::Table(table) => table.values().for_each(|v| collect(v, out)),
        _ => {}
    }
}

fn decides_as_explained(setup: &Setup, policy: &Policy, app: usize, query: &ExplainQuery) {
    let Ok(explained) = explain(policy, query) else {
        return; // a path that does not normalise: the gateway answers 400 before any decision
    };
    assert_eq!(explained.app, APPS[app]);
    let subject = match &query.user {
        Some(user) => policy.subject(user, &query.groups, query.login),
        None => Subject::anonymous(),
    };
    let request = AccessRequest {
        app,
        path: &explained.path,
        method: &query.method,
        source: query.source,
    };
    let decision = policy.decide(&subject, &request);
    assert_eq!(decision, explained.decision);
    if let Some(user) = &query.user {
        let foreign = setup.demo.subject(user, &query.groups, query.login);
        assert_eq!(
            policy.decide(&foreign, &request),
            decision,
            "a person interned by another policy is decided otherwise"
        );
    }

    let applies = |effect: Effect| {
        explained
            .rules
            .iter()
            .find(|r| r.effect == effect && r.unmet.is_empty())
            .map(|r| r.rule)
    };
    let (deny, allow) = (applies(Effect::Deny), applies(Effect::Allow));
    if query.user.is_some() {
        // Logged in with the strongest login: no step-up, no login; the first deny rule that
        // applies decides, else the first allow rule, else nobody is allowed.
        let expected = match (deny, allow) {
            (Some(rule), _) => Decision::Deny { rule: Some(rule) },
            (None, Some(rule)) => Decision::Allow { rule },
            (None, None) => Decision::Deny { rule: None },
        };
        assert_eq!(decision, expected, "{query:?}: {:#?}", explained.rules);
    } else {
        match decision {
            Decision::Allow { rule } => assert_eq!(
                (deny, allow),
                (None, Some(rule)),
                "{query:?}: {:#?}",
                explained.rules
            ),
            // Not always the first: a deny that logging in could escape gives way to a later one.
            Decision::Deny { rule: Some(rule) } => assert!(
                explained
                    .rules
                    .iter()
                    .any(|r| r.rule == rule && r.effect == Effect::Deny && r.unmet.is_empty()),
                "{query:?}: {:#?}",
                explained.rules
            ),
            _ => {}
        }
    }
}
