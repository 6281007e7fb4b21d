//! `pforte-admin policy check|explain|diff` on the repository's demo policy and on broken or
//! changed copies of it, as a CI pipeline runs them: no gateway, no config, only the policy
//! folder (and a users file). The answers, the places they name and the exit codes scripts rely
//! on. And `diff` on a gateway's host, where the people come from the live LDAP directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pforte_e2e::gateway::pforte_admin_bin;

fn policies() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

/// Runs `pforte-admin policy ARGS` with no config named, from an empty folder, and returns the
/// exit code and stdout + stderr.
fn policy(args: &[&str]) -> (i32, String) {
    let cwd = tempfile::tempdir().unwrap();
    let out = Command::new(pforte_admin_bin())
        .arg("policy")
        .args(args)
        .env_remove("PFORTE_CONFIG")
        .current_dir(cwd.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// A copy of the demo policy folder to change.
fn copy_of_demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("policy.d")).unwrap();
    for entry in ["policy.toml", "apps.toml", "users.toml"] {
        std::fs::copy(policies().join(entry), dir.path().join(entry)).unwrap();
    }
    for entry in std::fs::read_dir(policies().join("policy.d")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(
            entry.path(),
            dir.path().join("policy.d").join(entry.file_name()),
        )
        .unwrap();
    }
    dir
}

#[test]
fn check_passes_the_demo_policy_and_names_each_error_of_a_broken_one() {
    let demo = policies();
    let (code, text) = policy(&["check", demo.to_str().unwrap(), "--strict"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("ok,"), "{text}");

    let broken = copy_of_demo();
    std::fs::write(
        broken.path().join("policy.d/video.toml"),
        "[[rule]]\napps = [\"video\"]\nallow = [\"group:partners\"]\nfrom = [\"intranet\"]\n\n[[rule]]\napps = [\"vidoe\"]\nallow = [\"authenticated\"]\n",
    )
    .unwrap();
    let (code, text) = policy(&["check", broken.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("policy.d/video.toml:4:"),
        "unknown network: {text}"
    );
    assert!(text.contains("intranet"), "{text}");
    assert!(text.contains("not loadable"), "{text}");

    let (code, json) = policy(&["check", broken.path().to_str().unwrap(), "--json"]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(!report["errors"].as_array().unwrap().is_empty());
}

#[test]
fn only_a_command_that_needs_the_config_asks_for_one() {
    let (code, text) = policy(&["check", policies().to_str().unwrap()]);
    assert_eq!(code, 0, "a policy folder needs no config: {text}");
    if !Path::new("/etc/pforte/gateway.toml").exists() {
        // The policy in force is the config's: without a config to read, the tool says so.
        let (code, text) = policy(&["check"]);
        assert_eq!(code, 2, "{text}");
        assert!(
            text.contains("/etc/pforte/gateway.toml") && text.contains("--config"),
            "{text}"
        );
    }
}

#[test]
fn check_strict_fails_on_warnings_only() {
    let dir = copy_of_demo();
    let entry = dir.path().join("policy.toml");
    let text = std::fs::read_to_string(&entry).unwrap();
    std::fs::write(
        &entry,
        format!("{text}\n[[rule]]\napps = [\"vidoe\"]\nallow = [\"group:staff\"]\n"),
    )
    .unwrap();
    let (code, out) = policy(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "warnings alone still load: {out}");
    assert!(
        out.contains("warning: unknown app \"vidoe\"") && out.contains("did you mean \"video\""),
        "{out}"
    );
    let (code, _) = policy(&["check", dir.path().to_str().unwrap(), "--strict"]);
    assert_eq!(code, 2);
}

#[test]
fn explain_gives_the_decision_and_the_rule_that_made_it() {
    let demo = policies();
    let demo = demo.to_str().unwrap();
    let (code, text) = policy(&[
        "explain",
        "--policy",
        demo,
        "--user",
        "alice",
        "--groups",
        "staff,admins",
        "--auth",
        "mfa",
        "--from",
        "10.1.2.3",
        "https://admin.localhost/settings",
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("decision: allow"), "{text}");
    assert!(text.contains("policy.d/admin.toml:"), "{text}");

    let (code, text) = policy(&[
        "explain",
        "--policy",
        demo,
        "--user",
        "alice",
        "--groups",
        "staff,admins",
        "--from",
        "10.1.2.3",
        "https://admin.localhost/settings",
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("step-up required"), "{text}");

    let (code, text) = policy(&[
        "explain",
        "--policy",
        demo,
        "--user",
        "bob",
        "--groups",
        "partners",
        "https://mail.localhost/inbox",
        "--json",
    ]);
    assert_eq!(code, 1, "{text}");
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["decision"]["decision"], "deny");

    // The groups given are all there is: bob without partners may not use video.
    for (groups, code) in [("partners", 0), ("", 1)] {
        let (got, text) = policy(&[
            "explain",
            "--policy",
            demo,
            "--user",
            "bob",
            "--groups",
            groups,
            "https://video.localhost/room/1",
        ]);
        assert_eq!(got, code, "--groups {groups:?}: {text}");
    }

    let (code, text) = policy(&["explain", "--policy", demo, "https://nowhere.example/"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("no app is served"), "{text}");
}

#[test]
fn diff_shows_who_gains_and_loses_which_app() {
    let old = copy_of_demo();
    let new = copy_of_demo();
    std::fs::write(
        new.path().join("policy.d/partners.toml"),
        "[[rule]]\napps = [\"video\", \"chat\"]\nallow = [\"group:partners\"]\n",
    )
    .unwrap();
    let users = policies().join("users.toml");
    let args = [
        "diff",
        old.path().to_str().unwrap(),
        new.path().to_str().unwrap(),
        "--users",
        users.to_str().unwrap(),
    ];
    let (code, text) = policy(&args);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("bob: +chat -files"), "{text}");
    assert!(!text.contains("alice:"), "alice keeps her apps: {text}");

    let (code, text) = policy(&[
        "diff",
        old.path().to_str().unwrap(),
        old.path().to_str().unwrap(),
        "--users",
        users.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{text}");

    let (code, text) = policy(&[
        "diff",
        old.path().to_str().unwrap(),
        new.path().to_str().unwrap(),
        "--users",
        "/nonexistent/users.toml",
    ]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("/nonexistent/users.toml"), "{text}");
}

#[tokio::test]
async fn diff_asks_the_live_ldap_directory() {
    use super::reload::{STAFF_AND_PARTNERS, three_apps};
    let gw = pforte_e2e::gateway::Gateway::builder()
        .ldap(&[pforte_e2e::env("PFORTE_TEST_LDAP_URL")])
        .apps(three_apps())
        .policy(STAFF_AND_PARTNERS)
        .start()
        .await;
    // The new policy: video for admins instead of partners, docs for finance only.
    let new = tempfile::tempdir().unwrap();
    std::fs::write(
        new.path().join("policy.toml"),
        "[[rule]]\napps = [\"mail\"]\nallow = [\"group:staff\"]\n\n\
         [[rule]]\napps = [\"docs\"]\nallow = [\"group:finance\"]\n\n\
         [[rule]]\napps = [\"video\"]\nallow = [\"group:admins\"]\n",
    )
    .unwrap();
    let out = Command::new(pforte_admin_bin())
        .arg("--config")
        .arg(&gw.config_path)
        .args(["policy", "diff"])
        .arg(new.path())
        .arg("--json")
        .stdin(Stdio::null())
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "changes: {text} {out:?}");
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    // The demo directory: alice (staff, admins), bob (partners), carol (staff via finance),
    // erin (staff via it); dave is disabled and not asked about.
    assert_eq!(
        report["changed"],
        serde_json::json!([
            {"user": "alice", "gained": ["video"], "lost": ["docs"]},
            {"user": "bob", "gained": [], "lost": ["video"]},
            {"user": "erin", "gained": [], "lost": ["docs"]},
        ]),
        "carol keeps docs through finance"
    );
    assert!(report["unchanged"].as_u64().unwrap() >= 2, "{report}");
}
