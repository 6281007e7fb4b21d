//! The alert rules (`deploy/prometheus/pforte.rules.yml`): valid for Prometheus
//! (`promtool check rules`), right by their unit tests (`promtool test rules`: every alert has
//! series that fire and series that must not), and reading only metrics a running gateway
//! exports, which pass `promtool check metrics` with every backend's families present.

use std::path::{Path, PathBuf};
use std::process::Command;

use pforte_e2e::monitored::{
    both_ldap_servers, gateway_with_traffic, promtool_check_metrics, unexported_in,
};
use pforte_e2e::{env, promql};

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/prometheus")
}

fn promtool(args: &[&str]) -> String {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(rules_dir())
        .output()
        .expect("promtool (Debian's prometheus package; ./tests/run installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?}:\n{text}");
    text
}

/// The `expr:` values of a rules file: one line, or a `|` block of deeper-indented lines.
fn exprs(rules: &str) -> Vec<String> {
    let lines: Vec<&str> = rules.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(value) = line.trim_start().strip_prefix("expr:") else {
            continue;
        };
        let value = value.trim();
        if value != "|" && value != ">" {
            found.push(value.to_owned());
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let block: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
            .map(|l| l.trim())
            .collect();
        found.push(block.join(" "));
    }
    found
}

#[tokio::test]
async fn alert_rules_pass_promtool_and_read_only_exported_metrics() {
    let checked = promtool(&["check", "rules", "pforte.rules.yml"]);
    assert!(checked.contains("SUCCESS: 14 rules found"), "{checked}");
    let tested = promtool(&["test", "rules", "pforte.rules.test.yml"]);
    assert!(tested.contains("SUCCESS"), "{tested}");

    let rules = std::fs::read_to_string(rules_dir().join("pforte.rules.yml")).unwrap();
    let exprs = exprs(&rules);
    assert_eq!(exprs.len(), 14, "one expression per rule: {exprs:#?}");
    let names: std::collections::BTreeSet<String> =
        exprs.iter().flat_map(|e| promql::metric_names(e)).collect();
    for expected in [
        "pforte_tls_certificate_expiry_seconds",
        "pforte_reload_errors_total",
        "pforte_directory_up",
        "pforte_directory_request_duration_seconds_bucket",
        "pforte_session_store_up",
        "pforte_http_requests_total",
        "pforte_logins_total",
        "pforte_oidc_backchannel_logout_given_up_total",
        "pforte_audit_events_dropped_total",
        "pforte_audit_write_errors_total",
        "up",
    ] {
        assert!(
            names.contains(expected),
            "{expected} not read from the rules: {names:?}"
        );
    }

    let (_gw, scrape) = gateway_with_traffic(
        &both_ldap_servers(),
        &env("PFORTE_TEST_REDIS_URL"),
        "alerts:",
    )
    .await;
    let missing = unexported_in(&scrape, &exprs);
    assert!(
        missing.is_empty(),
        "not exported by the gateway: {missing:#?}"
    );
    promtool_check_metrics(&scrape);
}
