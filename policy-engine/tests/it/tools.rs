//! The tools behind `pforte-admin policy explain|diff` and the users file.

use std::fs;
use std::path::Path;

use pforte_policy::{
    Decision, DiffOptions, ExplainError, ExplainQuery, LoginStrength, diff, explain, load,
    load_users_file,
};

use crate::support::*;

fn query(
    user: Option<&str>,
    groups: &[&str],
    login: LoginStrength,
    from: &str,
    url: &str,
) -> ExplainQuery {
    ExplainQuery {
        user: user.map(str::to_owned),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        login,
        source: ip(from),
        url: url.into(),
        method: "GET".into(),
    }
}

#[test]
fn explain_names_the_deciding_rule_and_the_failed_conditions() {
    let p = demo_policy();
    let q = query(
        Some("alice"),
        &["staff", "admins"],
        LoginStrength::Password,
        "10.1.2.3",
        "https://admin.localhost/users?page=2",
    );
    let e = explain(&p, &q).unwrap();
    assert_eq!(
        e.decision,
        Decision::StepUpRequired {
            login: LoginStrength::Mfa
        }
    );
    assert_eq!(e.app, "admin");
    let text = e.to_string();
    assert!(
        text.contains("step-up required (log in with mfa)"),
        "{text}"
    );
    assert!(text.contains("../policies/policy.d/admin.toml:4  allow group:admins: does not apply (login: needs mfa, has password)"), "{text}");
    assert!(text.contains("../policies/policy.toml:20  allow everyone: does not apply (path: /users is not under the rule's paths)"), "{text}");
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["decision"]["decision"], "step_up_required");

    let q = query(
        Some("alice"),
        &["staff", "admins"],
        LoginStrength::Mfa,
        "8.8.8.8",
        "admin.localhost/",
    );
    let text = explain(&p, &q).unwrap().to_string();
    assert!(
        text.contains("deny (no rule applies: default deny)"),
        "{text}"
    );
    assert!(text.contains("from: 8.8.8.8 is not in internal"), "{text}");

    let q = query(
        Some("alice"),
        &["staff"],
        LoginStrength::Mfa,
        "10.0.0.1",
        "https://projects.localhost/finance/q3",
    );
    let e = explain(&p, &q).unwrap();
    assert_eq!(
        e.decided_by.unwrap().to_string(),
        "../policies/policy.d/projects.toml:4"
    );
}

#[test]
fn explain_refuses_what_the_gateway_would_refuse() {
    let p = demo_policy();
    let mut q = query(
        None,
        &[],
        LoginStrength::Password,
        "8.8.8.8",
        "https://nowhere.localhost/",
    );
    assert!(matches!(explain(&p, &q), Err(ExplainError::NoApp { .. })));
    q.url = "https://mail.localhost/a%2Fb".into();
    assert!(matches!(explain(&p, &q), Err(ExplainError::BadPath(_))));
    q.url = "https://mail.localhost/public/../inbox".into();
    let e = explain(&p, &q).unwrap();
    assert_eq!(
        (e.path.as_str(), e.decision),
        ("/inbox", Decision::LoginRequired)
    );
}

#[test]
fn diff_shows_who_gains_and_loses_which_app() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(Path::new("../policies"), dir.path());
    let partners = dir.path().join("policy.d/partners.toml");
    let text = fs::read_to_string(&partners)
        .unwrap()
        .replace(r#"["video", "files"]"#, r#"["video", "files", "chat"]"#);
    fs::write(&partners, text).unwrap();
    let main = dir.path().join("policy.toml");
    let text = fs::read_to_string(&main)
        .unwrap()
        .replace(r#""wiki", "projects"]"#, r#""projects"]"#);
    fs::write(&main, text).unwrap();

    let old = demo_policy();
    let new = load(&main, &demo_apps()).unwrap().policy;
    let users = load_users_file(Path::new("../policies/users.toml")).unwrap();
    let report = diff(&old, &new, &users, &DiffOptions::default());
    let summary: Vec<(&str, Vec<&str>, Vec<&str>)> = report
        .changed
        .iter()
        .map(|u| {
            (
                u.user.as_str(),
                u.gained.iter().map(String::as_str).collect(),
                u.lost.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("alice", vec![], vec!["wiki"]),
            ("bob", vec!["chat"], vec![]),
            ("carol", vec![], vec!["wiki"])
        ]
    );
    assert_eq!(
        report.unchanged, 1,
        "someone not logged in keeps the same (no) apps"
    );
    let text = report.to_string();
    assert!(
        text.starts_with("from 10.0.0.1 with login mfa: 3 user(s) change, 1 unchanged"),
        "{text}"
    );
    assert!(text.contains("\n  bob: +chat"), "{text}");
    assert_eq!(
        diff(&old, &old, &users, &DiffOptions::default()).changed,
        []
    );
}

#[test]
fn a_moved_or_commented_rule_decides_like_before_and_a_changed_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(Path::new("../policies"), dir.path());
    let main = dir.path().join("policy.toml");
    let text = fs::read_to_string(&main).unwrap();
    fs::write(
        &main,
        format!("# a comment moves every rule down\n\n{text}"),
    )
    .unwrap();
    let old = demo_policy();
    let moved = load(&main, &demo_apps()).unwrap().policy;
    assert!(moved.decides_like(&old), "only the lines moved");
    fs::write(
        &main,
        text.replace(r#""wiki", "projects"]"#, r#""projects"]"#),
    )
    .unwrap();
    let changed = load(&main, &demo_apps()).unwrap().policy;
    assert!(!changed.decides_like(&old));
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            fs::create_dir_all(&target).unwrap();
            copy_dir(&path, &target);
        } else {
            fs::copy(&path, &target).unwrap();
        }
    }
}

#[test]
fn users_file_errors_name_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.toml");
    fs::write(
        &path,
        "[[user]]\nname = \"alice\"\n\n[[user]]\nname = \"alice\"\ngroups = []\n",
    )
    .unwrap();
    let err = load_users_file(&path).unwrap_err().to_string();
    assert!(err.ends_with(r#"users.toml:5:8: error: user "alice" is already listed at line 2; list each user once"#), "{err}");
    fs::write(&path, "[[user]]\nname = \"alice\"\ngroup = [\"staff\"]\n").unwrap();
    let err = load_users_file(&path).unwrap_err().to_string();
    assert!(
        err.contains("users.toml:3:1: error: unknown field `group`"),
        "{err}"
    );
}

#[test]
fn a_file_included_twice_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(
        d.join("policy.toml"),
        "include = [\"a.toml\", \"b.toml\"]\n",
    )
    .unwrap();
    fs::write(d.join("a.toml"), "include = [\"shared.toml\"]\n").unwrap();
    fs::write(d.join("b.toml"), "include = [\"shared.toml\"]\n").unwrap();
    fs::write(
        d.join("shared.toml"),
        "[[rule]]\napps = [\"mail\"]\nallow = [\"authenticated\"]\n",
    )
    .unwrap();
    let loaded = load(&d.join("policy.toml"), &demo_apps()).unwrap();
    assert_eq!(
        (loaded.policy.rule_count(), loaded.policy.file_count()),
        (1, 4)
    );
    assert_eq!(loaded.warnings.len(), 1);
    assert!(
        loaded.warnings[0]
            .to_string()
            .contains("b.toml:1:12: warning:"),
        "{}",
        loaded.warnings[0]
    );
}

#[test]
fn a_missing_entry_file_is_an_error_not_a_panic() {
    let err = load(Path::new("no/such/policy.toml"), &demo_apps()).unwrap_err();
    assert_eq!(err.errors.len(), 1);
    assert!(
        err.to_string()
            .starts_with("no/such/policy.toml: error: cannot read the policy file"),
        "{err}"
    );
}
