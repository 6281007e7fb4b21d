//! A gateway with every backend a production one has (two LDAP servers, Redis, a signing key)
//! and some traffic behind it, so its `/metrics` page shows every family the alert rules and
//! the dashboard read: the check of `deploy/prometheus` and `deploy/grafana` against the real
//! exporter.

use crate::browser::Browser;
use crate::gateway::Gateway;
use crate::promql;

/// The test's two LDAP servers, in order.
pub fn both_ldap_servers() -> [String; 2] {
    [
        crate::env("PFORTE_TEST_LDAP_URL"),
        crate::env("PFORTE_TEST_LDAP2_URL"),
    ]
}

/// Starts the gateway (the LDAP servers `ldap` in order, sessions in Redis at `redis_url`
/// under `prefix`, the OIDC provider with its signing key), logs alice in through the form (the
/// directory and the store are asked, the login counters move), has one OIDC request refused,
/// and returns it with a scrape of its metrics.
pub async fn gateway_with_traffic(
    ldap: &[String],
    redis_url: &str,
    prefix: &str,
) -> (Gateway, String) {
    // An app (its upstream never asked): the per-app series start with its load.
    let upstream = format!("http://127.0.0.1:{}", crate::free_port());
    let gw = Gateway::builder()
        .app("mail", "mail.gw.test", &[upstream])
        .ldap(ldap)
        .sessions(&format!(
            "store = \"redis\"\n[sessions.redis]\nurl = {redis_url:?}\nkey_prefix = {prefix:?}\n"
        ))
        .oidc("")
        .start()
        .await;
    let mut browser = Browser::new(gw.https, gw.root());
    let hops = browser
        .login("https://login.gw.test/login", "alice", "alicepw")
        .await;
    assert!(
        browser.cookie("login.gw.test", "__Host-pforte").is_some(),
        "alice is not logged in: {:?}",
        hops.iter()
            .map(|h| (&h.url, h.reply.status))
            .collect::<Vec<_>>()
    );
    // A refused OIDC request: the refusal family has no series before its first one.
    let userinfo = browser.get("https://login.gw.test/oidc/userinfo").await;
    assert_eq!(userinfo.status, 401, "userinfo without a token");
    let scrape = gw.metrics().await;
    (gw, scrape)
}

/// The metric names `exprs` read that `scrape` does not export, each with its expression.
pub fn unexported_in(scrape: &str, exprs: &[String]) -> Vec<(String, String)> {
    let families = promql::families(scrape);
    exprs
        .iter()
        .flat_map(|expr| {
            let names = promql::metric_names(expr);
            promql::unexported(&names, &families)
                .into_iter()
                .map(|name| (name, expr.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `promtool check metrics` on a scrape (names, units and help texts by Prometheus'
/// conventions); panics with promtool's findings when it objects.
pub fn promtool_check_metrics(scrape: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian package prometheus; ./tests/run installs it)");
    child
        .stdin
        .take()
        .expect("promtool's stdin")
        .write_all(scrape.as_bytes())
        .expect("the scrape written to promtool");
    let out = child.wait_with_output().expect("promtool's answer");
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
