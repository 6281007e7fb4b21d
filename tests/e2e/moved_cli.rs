//! `pforte policy ...` and `pforte keys ...` moved to `pforte-admin`: any old invocation gets one
//! line on stderr naming the command to run instead, exit code 2, and does nothing, so scripts
//! written for the old place fail loudly.

use std::process::{Command, Stdio};

use pforte_e2e::gateway::pforte_bin;

/// Runs `pforte ARGS`; returns the exit code, stdout and stderr.
fn pforte(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(pforte_bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn old_policy_and_keys_commands_say_where_they_went() {
    let keys = tempfile::tempdir().unwrap();
    let keys = keys.path().join("keys");
    let keys = keys.to_str().unwrap();
    for (args, instead) in [
        (
            vec!["policy", "check", "policies/", "--strict"],
            "run `pforte-admin policy check policies/ --strict`",
        ),
        (
            vec!["policy", "diff", "old", "new", "--users", "u.toml"],
            "run `pforte-admin policy diff old new --users u.toml`",
        ),
        (vec!["policy"], "run `pforte-admin policy --help`"),
        (vec!["policy", "--help"], "run `pforte-admin policy --help`"),
        (
            vec!["keys", "generate", "--dir", keys],
            &format!("run `pforte-admin keys generate --dir {keys}`"),
        ),
        (
            vec!["keys", "rotate", "-h"],
            "run `pforte-admin keys rotate -h`",
        ),
    ] {
        let (code, out, err) = pforte(&args);
        assert_eq!(code, Some(2), "pforte {args:?}: {err}");
        assert!(out.is_empty(), "pforte {args:?} printed {out}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        let noun = args[0];
        assert!(
            err.starts_with(&format!(
                "pforte: `pforte {noun}` moved to `pforte-admin {noun}`; "
            )),
            "{err}"
        );
        assert!(err.contains(instead), "{err}");
    }
    assert!(
        !std::path::Path::new(keys).exists(),
        "the old command did nothing"
    );
}

#[test]
fn pforte_help_lists_only_what_runs_the_gateway() {
    let (code, out, _) = pforte(&["--help"]);
    assert_eq!(code, Some(0));
    for command in ["run", "check", "demo"] {
        assert!(out.contains(&format!("  {command} ")), "{out}");
    }
    assert!(
        !out.contains("  policy ") && !out.contains("  keys "),
        "{out}"
    );
    assert!(out.contains("pforte-admin"), "{out}");
}
