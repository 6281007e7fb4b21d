//! The compiled decision equals a reference interpreter that walks the rules as written,
//! with no index, no interning and a backtracking glob: the five-line evaluation rule of
//! docs/policy.md, spelled out as plainly as possible.

use std::net::IpAddr;

use ipnet::IpNet;
use pforte_policy::{
    AccessRequest, AppSummary, Decision, LoginStrength, Policy, RuleId, Subject, load,
};
use proptest::prelude::*;

const APPS: [&str; 3] = ["a0", "a1", "a2"];
const GROUPS: [&str; 3] = ["g0", "g1", "g2"];
const USERS: [&str; 3] = ["u0", "u1", "u2"];
const PATTERNS: [&str; 8] = ["/", "/a", "/a/b", "/b/", "/a/*", "/*/b", "/a*", "/*"];
const PATHS: [&str; 9] = [
    "/", "/a", "/a/", "/a/b", "/a/bc", "/b", "/b/x", "/ab", "/c/b",
];
const METHODS: [&str; 3] = ["GET", "POST", "PUT"];
const FROM: [&str; 4] = ["net1", "net2", "10.1.0.0/16", "::/0"];
const NETWORKS: [(&str, &[&str]); 2] = [
    ("net1", &["10.0.0.0/8"]),
    ("net2", &["192.168.0.0/16", "::1/128"]),
];
const SOURCES: [&str; 6] = [
    "10.1.2.3",
    "10.2.0.1",
    "192.168.1.1",
    "::1",
    "8.8.8.8",
    "::ffff:10.1.2.3",
];

#[derive(Debug, Clone, PartialEq)]
enum Subj {
    Everyone,
    Authenticated,
    Group(usize),
    User(usize),
}

#[derive(Debug, Clone)]
struct SpecRule {
    deny: bool,
    apps: Option<Vec<usize>>,
    subjects: Vec<Subj>,
    except: Vec<Subj>,
    paths: Option<Vec<usize>>,
    methods: Option<Vec<usize>>,
    from: Option<Vec<usize>>,
    login: Option<LoginStrength>,
}

#[derive(Debug, Clone)]
struct Who {
    user: usize,
    groups: Vec<usize>,
    login: LoginStrength,
}

fn subj() -> impl Strategy<Value = Subj> {
    prop_oneof![
        1 => Just(Subj::Everyone),
        1 => Just(Subj::Authenticated),
        3 => (0..3usize).prop_map(Subj::Group),
        2 => (0..3usize).prop_map(Subj::User),
    ]
}

fn some_of(n: usize) -> impl Strategy<Value = Option<Vec<usize>>> {
    prop::option::of(prop::collection::vec(0..n, 1..3))
}

fn login() -> impl Strategy<Value = Option<LoginStrength>> {
    prop::option::of(prop_oneof![
        Just(LoginStrength::Password),
        Just(LoginStrength::Mfa)
    ])
}

/// Random rules, bent into validity: the format's rules on everyone, login and except.
fn rule() -> impl Strategy<Value = SpecRule> {
    (
        prop::bool::weighted(0.3),
        some_of(APPS.len()),
        prop::collection::vec(subj(), 0..3),
        prop::collection::vec(subj(), 0..2),
        some_of(PATTERNS.len()),
        some_of(METHODS.len()),
        some_of(FROM.len()),
        login(),
    )
        .prop_map(
            |(deny, apps, subjects, except, paths, methods, from, login)| {
                let everyone = subjects.contains(&Subj::Everyone);
                SpecRule {
                    deny,
                    apps,
                    except: if deny {
                        except
                            .into_iter()
                            .filter(|s| *s != Subj::Everyone)
                            .collect()
                    } else {
                        vec![]
                    },
                    paths: if everyone && !deny && paths.is_none() {
                        Some(vec![0])
                    } else {
                        paths
                    },
                    login: if deny || everyone { None } else { login },
                    subjects,
                    methods,
                    from,
                }
            },
        )
}

fn who() -> impl Strategy<Value = Option<Who>> {
    let login = prop_oneof![Just(LoginStrength::Password), Just(LoginStrength::Mfa)];
    prop::option::weighted(
        0.8,
        (0..3usize, prop::collection::vec(0..3usize, 0..3), login),
    )
    .prop_map(|w| {
        w.map(|(user, groups, login)| Who {
            user,
            groups,
            login,
        })
    })
}

fn list(items: impl Iterator<Item = String>) -> String {
    format!(
        "[{}]",
        items
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn subj_text(s: &Subj) -> String {
    match s {
        Subj::Everyone => "everyone".into(),
        Subj::Authenticated => "authenticated".into(),
        Subj::Group(g) => format!("group:{}", GROUPS[*g]),
        Subj::User(u) => format!("user:{}", USERS[*u]),
    }
}

fn render(rules: &[SpecRule]) -> String {
    let mut out = String::from("[networks]\n");
    for (name, nets) in NETWORKS {
        out += &format!("{name} = {}\n", list(nets.iter().map(|n| (*n).to_owned())));
    }
    for r in rules {
        out += "\n[[rule]]\n";
        out += &match &r.apps {
            None => "apps = [\"*\"]\n".to_owned(),
            Some(a) => format!("apps = {}\n", list(a.iter().map(|i| APPS[*i].to_owned()))),
        };
        let key = if r.deny { "deny" } else { "allow" };
        out += &format!("{key} = {}\n", list(r.subjects.iter().map(subj_text)));
        if !r.except.is_empty() {
            out += &format!("except = {}\n", list(r.except.iter().map(subj_text)));
        }
        if let Some(p) = &r.paths {
            out += &format!(
                "paths = {}\n",
                list(p.iter().map(|i| PATTERNS[*i].to_owned()))
            );
        }
        if let Some(m) = &r.methods {
            out += &format!(
                "methods = {}\n",
                list(m.iter().map(|i| METHODS[*i].to_owned()))
            );
        }
        if let Some(f) = &r.from {
            out += &format!("from = {}\n", list(f.iter().map(|i| FROM[*i].to_owned())));
        }
        if let Some(l) = r.login {
            out += &format!("login = \"{l}\"\n");
        }
    }
    out
}

// ---- the reference interpreter ----

fn glob(p: &[u8], t: &[u8]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some((b'*', rest)) => (0..=t.len()).any(|i| glob(rest, &t[i..])),
        Some((c, rest)) => t.first() == Some(c) && glob(rest, &t[1..]),
    }
}

fn path_matches(pattern: &str, path: &str) -> bool {
    if pattern.contains('*') {
        return glob(pattern.as_bytes(), path.as_bytes());
    }
    let p = pattern.trim_end_matches('/');
    (!p.is_empty() && path == p) || path.starts_with(&format!("{p}/"))
}

fn source_matches(entry: &str, source: IpAddr) -> bool {
    let nets: Vec<IpNet> = match NETWORKS.iter().find(|(n, _)| *n == entry) {
        Some((_, nets)) => nets.iter().map(|n| n.parse().unwrap()).collect(),
        None => vec![entry.parse().unwrap()],
    };
    nets.iter().any(|n| n.contains(&source))
}

fn names(list: &[Subj], who: Option<&Who>) -> bool {
    list.iter().any(|s| match (s, who) {
        (Subj::Everyone, _) => true,
        (_, None) => false,
        (Subj::Authenticated, Some(_)) => true,
        (Subj::Group(g), Some(w)) => w.groups.contains(g),
        (Subj::User(u), Some(w)) => w.user == *u,
    })
}

fn reference(
    rules: &[SpecRule],
    app: usize,
    path: &str,
    method: &str,
    source: IpAddr,
    who: Option<&Who>,
) -> Expect {
    let source = source.to_canonical();
    let applies_where = |r: &SpecRule| {
        r.apps.as_ref().is_none_or(|a| a.contains(&app))
            && r.paths
                .as_ref()
                .is_none_or(|ps| ps.iter().any(|p| path_matches(PATTERNS[*p], path)))
            && r.methods
                .as_ref()
                .is_none_or(|ms| ms.iter().any(|m| METHODS[*m] == method))
            && r.from
                .as_ref()
                .is_none_or(|fs| fs.iter().any(|f| source_matches(FROM[*f], source)))
    };
    let denies: Vec<usize> = (0..rules.len())
        .filter(|&i| rules[i].deny && applies_where(&rules[i]))
        .filter(|&i| names(&rules[i].subjects, who) && !names(&rules[i].except, who))
        .collect();
    // Someone not logged in might escape a deny with `except` by logging in.
    let definite = denies
        .iter()
        .find(|&&i| who.is_some() || rules[i].except.is_empty());
    if let Some(&i) = definite {
        return Expect::Deny(Some(i));
    }
    let allows: Vec<usize> = (0..rules.len())
        .filter(|&i| !rules[i].deny && applies_where(&rules[i]))
        .collect();
    match who {
        Some(w) => {
            let named: Vec<usize> = allows
                .into_iter()
                .filter(|&i| names(&rules[i].subjects, who))
                .collect();
            if let Some(&i) = named
                .iter()
                .find(|&&i| rules[i].login.is_none_or(|l| l <= w.login))
            {
                return Expect::Allow(i);
            }
            match named.iter().filter_map(|&i| rules[i].login).min() {
                Some(login) => Expect::StepUp(login),
                None => Expect::Deny(None),
            }
        }
        None => {
            if denies.is_empty()
                && let Some(&i) = allows
                    .iter()
                    .find(|&&i| rules[i].subjects.contains(&Subj::Everyone))
            {
                return Expect::Allow(i);
            }
            if allows
                .iter()
                .any(|&i| rules[i].subjects.iter().any(|s| *s != Subj::Everyone))
            {
                Expect::LoginRequired
            } else {
                Expect::Deny(denies.first().copied())
            }
        }
    }
}

/// A decision with rule ids as positions (one file: the id is the rule's position).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allow(usize),
    Deny(Option<usize>),
    LoginRequired,
    StepUp(LoginStrength),
}

impl From<Decision> for Expect {
    fn from(d: Decision) -> Self {
        match d {
            Decision::Allow { rule } => Self::Allow(rule.index()),
            Decision::Deny { rule } => Self::Deny(rule.map(RuleId::index)),
            Decision::LoginRequired => Self::LoginRequired,
            Decision::StepUpRequired { login } => Self::StepUp(login),
        }
    }
}

fn apps() -> Vec<AppSummary> {
    APPS.iter()
        .map(|n| AppSummary {
            name: (*n).into(),
            hosts: vec![format!("{n}.test")],
            path_prefix: String::new(),
            display_name: (*n).into(),
            icon: None,
        })
        .collect()
}

fn subject(policy: &Policy, who: Option<&Who>) -> Subject {
    match who {
        None => Subject::anonymous(),
        Some(w) => {
            let groups: Vec<String> = w.groups.iter().map(|g| GROUPS[*g].to_owned()).collect();
            policy.subject(USERS[w.user], &groups, w.login)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn compiled_decisions_equal_the_reference(
        rules in prop::collection::vec(rule(), 0..8),
        requests in prop::collection::vec(
            (0..APPS.len(), 0..PATHS.len(), 0..METHODS.len(), 0..SOURCES.len(), who()),
            1..24,
        ),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let entry = dir.path().join("policy.toml");
        std::fs::write(&entry, render(&rules)).unwrap();
        let policy = match load(&entry, &apps()) {
            Ok(loaded) => loaded.policy,
            Err(e) => return Err(TestCaseError::fail(format!("{e}\n{}", render(&rules)))),
        };
        let reloaded = load(&entry, &apps()).unwrap().policy;
        for (app, path, method, source, who) in requests {
            let (path, method, source) = (PATHS[path], METHODS[method], SOURCES[source].parse().unwrap());
            let expected = reference(&rules, app, path, method, source, who.as_ref());
            let req = AccessRequest { app, path, method, source };
            let fresh = subject(&policy, who.as_ref());
            prop_assert_eq!(Expect::from(policy.decide(&fresh, &req)), expected, "{:?} {} {} {} {:?}\n{}", app, path, method, source, who, render(&rules));
            // A subject interned for another policy is decided by name, with the same result.
            prop_assert_eq!(Expect::from(reloaded.decide(&fresh, &req)), expected);
        }
    }
}
