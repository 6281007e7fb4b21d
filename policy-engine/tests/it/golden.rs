//! Golden tests of error and warning messages: each directory under tests/golden holds a
//! policy (entry `policy.toml`) and `expected.txt`, the `check` report and its exit code.
//! `UPDATE_GOLDEN=1 cargo test -p pforte-policy` rewrites the expected files.

use std::fs;
use std::path::Path;

use pforte_policy::check;

use crate::support::demo_apps;

#[test]
fn golden_messages() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut cases: Vec<_> = fs::read_dir("tests/golden")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "the golden cases are missing");
    let mut failures = Vec::new();
    for case in cases.iter().filter(|c| c.is_dir()) {
        let report = check(&case.join("policy.toml"), &demo_apps());
        let actual = format!(
            "{report}\nexit code: {}, with --strict: {}\n",
            report.exit_code(false),
            report.exit_code(true)
        );
        let expected_path = case.join("expected.txt");
        if update {
            fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- actual\n{actual}",
                display(case)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches (UPDATE_GOLDEN=1 to accept):\n{}",
        failures.join("\n")
    );
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
