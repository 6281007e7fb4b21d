//! The systemd unit of `deploy/systemd/`: rated by `systemd-analyze security --offline=yes`
//! (exposure at most 2.0) and checked by `systemd-analyze verify`, still holding what the gateway
//! needs to run.

use std::path::Path;
use std::process::Command;

use super::{deploy_dir, run, text};

/// The highest exposure `systemd-analyze security` may give the unit (issue 15: at most 2.0).
const MAX_EXPOSURE: f64 = 2.0;

#[test]
fn the_systemd_unit_is_hardened_to_at_most_2_and_verifies() {
    let unit = deploy_dir().join("systemd/pforte.service");
    let contents =
        std::fs::read_to_string(&unit).unwrap_or_else(|e| panic!("{}: {e}", unit.display()));
    // What the gateway needs, so that no hardening buys its score by breaking the service:
    // port 443 without root, its config, the network to Redis and LDAP.
    for line in [
        "User=pforte",
        "AmbientCapabilities=CAP_NET_BIND_SERVICE",
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
        "ExecStart=/usr/local/bin/pforte run --config /etc/pforte/gateway.toml",
        "StateDirectory=pforte",
    ] {
        assert!(
            contents.lines().any(|l| l == line),
            "{} lacks `{line}`",
            unit.display()
        );
    }
    for line in contents.lines() {
        assert!(
            !(line.starts_with("PrivateNetwork=") || line.starts_with("IPAddressDeny=")),
            "`{line}` would cut the gateway off from its clients, Redis or LDAP"
        );
        if let Some(families) = line.strip_prefix("RestrictAddressFamilies=") {
            assert!(
                families.contains("AF_INET") && families.contains("AF_INET6"),
                "`{line}` must keep IPv4 and IPv6"
            );
        }
    }

    // An installed system as deploy/systemd/pforte.service's header says, in a folder of its
    // own: the unit, the sysusers file (run for real: it makes the user), the host's systemd
    // units it refers to, and the programs it starts (here stand-ins: verify checks that they
    // exist and are executable).
    let root = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary folder: {e}"));
    let root = root.path();
    let installed = root.join("etc/systemd/system/pforte.service");
    copy(&unit, &installed);
    let sysusers = root.join("usr/lib/sysusers.d/pforte.conf");
    copy(&deploy_dir().join("systemd/pforte.sysusers"), &sysusers);
    let made = run(Command::new("systemd-sysusers").arg(format!("--root={}", root.display())));
    assert!(made.status.success(), "systemd-sysusers: {made:?}");
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap_or_default();
    assert!(
        passwd.contains("\npforte:") || passwd.starts_with("pforte:"),
        "no user pforte made: {passwd}"
    );
    let units = root.join("usr/lib/systemd");
    std::fs::create_dir_all(&units).unwrap_or_else(|e| panic!("{}: {e}", units.display()));
    let copied = run(Command::new("cp")
        .arg("-a")
        .arg("/usr/lib/systemd/system")
        .arg(&units));
    assert!(
        copied.status.success(),
        "copying the host's systemd units: {copied:?}"
    );
    for program in executables(&contents) {
        stand_in(&root.join(program.trim_start_matches('/')));
    }

    let verify = run(Command::new("systemd-analyze")
        .arg("verify")
        .arg(format!("--root={}", root.display()))
        .arg(&installed));
    let said = format!("{}{}", text(&verify.stdout), text(&verify.stderr));
    // verify exits 0 on unknown keys and bad values (it ignores them): any output is a finding.
    assert!(
        verify.status.success() && said.trim().is_empty(),
        "systemd-analyze verify {}:\n{said}",
        unit.display()
    );

    let threshold = format!("--threshold={}", (MAX_EXPOSURE * 10.0).round());
    let security = run(Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager", &threshold])
        .arg(format!("--root={}", root.display()))
        .arg(&installed));
    let report = text(&security.stdout);
    let exposure = report
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for pforte.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|score| score.parse::<f64>().ok())
        .unwrap_or_else(|| {
            panic!(
                "no exposure level in systemd-analyze's report:\n{report}{}",
                text(&security.stderr)
            )
        });
    eprintln!("systemd-analyze security --offline=yes: exposure {exposure}");
    assert!(
        exposure <= MAX_EXPOSURE && security.status.success(),
        "pforte.service's exposure is {exposure}, above {MAX_EXPOSURE:.1}:\n{report}"
    );
}

/// The absolute programs the unit's Exec lines start (after systemd's `-@:+!` prefixes).
fn executables(unit: &str) -> Vec<&str> {
    unit.lines()
        .filter(|l| l.starts_with("Exec"))
        .filter_map(|l| l.split_once('=')?.1.split_whitespace().next())
        .map(|p| p.trim_start_matches(['-', '@', ':', '+', '!']))
        .filter(|p| p.starts_with('/'))
        .collect()
}

/// An executable file at `path` that stands in for an installed program.
fn stand_in(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    std::fs::write(path, "#!/bin/sh\n").unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn copy(from: &Path, to: &Path) {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    std::fs::copy(from, to)
        .unwrap_or_else(|e| panic!("{} → {}: {e}", from.display(), to.display()));
}
