//! `status`: the running gateway's own account of itself, from `GET /status` on its admin
//! listener (address from the config; the config's admin token when there is one, else the
//! listener must be on loopback). One row per value: nested ones (policy, session store, each
//! directory server) are spelled out as rows of their own, never JSON in a cell. Exit 3 when the
//! gateway is unhealthy or does not answer.

use pforte::admin::api::StatusReport;

use super::Ctx;
use crate::error::{CmdError, Exit};
use crate::listener::Listener;
use crate::output::{self, Table};

/// Runs `status`.
pub async fn run(ctx: &Ctx, json: bool) -> Result<Exit, CmdError> {
    let report = Listener::new(&ctx.config()?.admin).status().await?;
    output::show(json, &report, &table(&report))?;
    Ok(if report.healthy {
        Exit::OK
    } else {
        Exit::UNHEALTHY
    })
}

/// The report as WHAT / STATE rows.
fn table(report: &StatusReport) -> Table {
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let healthy = |b: bool| if b { "healthy" } else { "UNHEALTHY" };
    let mut table = Table::new(&["WHAT", "STATE"]);
    let mut row = |what: &str, state: String| table.row(vec![what.to_string(), state]);
    row("healthy", yes_no(report.healthy));
    row("version", report.version.clone());
    row("uptime", uptime(report.uptime_seconds));
    row("ready", yes_no(report.ready));
    row("config", report.config.clone());
    row(
        "last reload",
        u64::try_from(report.last_reload_success)
            .ok()
            .filter(|t| *t > 0)
            .map_or_else(|| "-".to_string(), output::time),
    );
    row("apps", output::list(&report.apps));
    row("policy", report.policy.file.clone());
    row(
        "policy rules",
        format!(
            "{} (from {} file{})",
            report.policy.rules,
            report.policy.files,
            if report.policy.files == 1 { "" } else { "s" }
        ),
    );
    row("certificates", report.certificates.to_string());
    row(
        "signing key",
        report
            .keys
            .clone()
            .unwrap_or_else(|| "- (no key directory)".into()),
    );
    let store = &report.sessions;
    row(
        "session store",
        format!("{}, {}", store.store, healthy(store.detail.healthy)),
    );
    match (&store.detail.count, &store.detail.error) {
        (Some(count), _) => row("sessions", count.to_string()),
        (None, Some(error)) => row("session store error", error.clone()),
        (None, None) => {}
    }
    let directory = &report.directory;
    if directory.servers.is_empty() {
        row("directory", "- (none configured)".into());
    } else {
        row("directory", healthy(directory.healthy).to_string());
    }
    for server in &directory.servers {
        let mut state = format!("{} {}", server.url, server.status);
        if let Some(error) = &server.last_error {
            state.push_str(&format!(" (last error: {error})"));
        }
        row("directory server", state);
    }
    table
}

/// Seconds as `3d 4h 5m 6s`, leading zero units left out.
fn uptime(seconds: u64) -> String {
    let parts = [
        (seconds / 86_400, "d"),
        (seconds / 3_600 % 24, "h"),
        (seconds / 60 % 60, "m"),
        (seconds % 60, "s"),
    ];
    let first = parts.iter().position(|(n, _)| *n > 0).unwrap_or(3);
    parts[first..]
        .iter()
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use pforte::admin::api::{
        DirectoryStatus, PolicyStatus, ServerView, SessionsStatus, StoreHealth,
    };

    fn report() -> StatusReport {
        StatusReport {
            healthy: false,
            version: "1.2.3".into(),
            uptime_seconds: 90_061,
            ready: true,
            config: "/etc/pforte/gateway.toml".into(),
            last_reload_success: 0,
            apps: vec!["mail".into(), "docs".into()],
            policy: PolicyStatus {
                file: "/etc/pforte/policy.toml".into(),
                rules: 7,
                files: 2,
            },
            certificates: 1,
            keys: Some("k1".into()),
            sessions: SessionsStatus {
                store: "redis".into(),
                detail: StoreHealth {
                    healthy: true,
                    count: Some(4),
                    error: None,
                },
            },
            directory: DirectoryStatus {
                healthy: false,
                servers: vec![
                    ServerView {
                        url: "ldap://a".into(),
                        status: "down".into(),
                        last_error: Some("refused".into()),
                    },
                    ServerView {
                        url: "ldap://b".into(),
                        status: "untried".into(),
                        last_error: None,
                    },
                ],
            },
        }
    }

    #[test]
    fn nested_values_are_rows_not_json() {
        let text = table(&report()).render();
        assert!(!text.contains('{') && !text.contains('['), "{text}");
        let lines: Vec<String> = text
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        for line in [
            "healthy no",
            "uptime 1d 1h 1m 1s",
            "apps mail,docs",
            "policy rules 7 (from 2 files)",
            "session store redis, healthy",
            "sessions 4",
            "directory UNHEALTHY",
            "directory server ldap://a down (last error: refused)",
            "directory server ldap://b untried",
            "last reload -",
        ] {
            assert!(lines.iter().any(|l| l == line), "{line:?} in\n{text}");
        }
    }

    #[test]
    fn uptime_reads_as_units() {
        assert_eq!(uptime(0), "0s");
        assert_eq!(uptime(61), "1m 1s");
        assert_eq!(uptime(3_600), "1h 0m 0s");
    }
}
