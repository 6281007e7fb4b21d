//! `pforte check` and `pforte run` on good and bad files (config, apps, policy, certificates):
//! every problem is named with its file, line and key, and a bad set never starts a server.

use std::path::Path;
use std::process::Command;

use pforte_e2e::gateway::pforte_bin;
use pforte_e2e::pki::TestCa;

/// A folder with a valid config, apps file and certificate.
fn valid_setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    ca.leaf(dir.path(), "site", &["*.gw.test"]);
    ca.leaf(dir.path(), "other", &["*.gw.test"]);
    std::fs::write(
        dir.path().join("apps.toml"),
        "[[app]]\nname = \"mail\"\nhosts = [\"mail.gw.test\"]\nupstreams = [\"http://127.0.0.1:9\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("gateway.toml"),
        "[server]\nlisten = [\"127.0.0.1:0\"]\n\n[admin]\nlisten = \"127.0.0.1:0\"\n\n[[tls.certificates]]\ncert = \"site.crt\"\nkey = \"site.key\"\n\n[portal]\nhost = \"login.gw.test\"\n\n[apps]\nfile = \"apps.toml\"\n\n[policy]\nfile = \"policy.toml\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("policy.toml"),
        "[[rule]]\napps = [\"mail\"]\nallow = [\"group:staff\"]\n",
    )
    .unwrap();
    dir
}

fn pforte(args: &[&str], config: &Path) -> (bool, String) {
    let out = Command::new(pforte_bin())
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from:?} not in {file}");
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_valid_setup_passes() {
    let dir = valid_setup();
    let (ok, text) = pforte(&["check"], &dir.path().join("gateway.toml"));
    assert!(ok, "{text}");
    assert!(
        text.contains("OK (1 apps, 1 policy rules, 1 certificates)"),
        "{text}"
    );
}

#[test]
fn each_problem_is_named_with_file_line_and_key() {
    let cases: [(&str, &str, &str, &str); 12] = [
        (
            "apps.toml",
            "upstreams = [\"http://127.0.0.1:9\"]",
            "upstreams = [\"http://127.0.0.1:9\"]\nidentity_headers = { assertion = \"X-Assertion\" }",
            "asks for a signed assertion, but gateway.toml has no [keys]",
        ),
        (
            "gateway.toml",
            "[policy]",
            "[keys]\ndir = \"nokeys\"\n\n[policy]",
            "keys.dir: folder",
        ),
        (
            "gateway.toml",
            "file = \"policy.toml\"",
            "file = \"nopolicy.toml\"",
            "gateway.toml:18:8: policy.file: file",
        ),
        (
            "policy.toml",
            "allow = [\"group:staff\"]",
            "allow = \"group:staff\"",
            "policy.toml:3:9: error:",
        ),
        (
            "policy.toml",
            "apps = [\"mail\"]",
            "apps = [\"mail\"]\nallow_from = [\"internal\"]",
            "policy.toml:3:1: error:",
        ),
        (
            "gateway.toml",
            "[portal]",
            "[portal]\nhots = 1",
            "gateway.toml:12:1: portal.hots: unknown field `hots`",
        ),
        (
            "gateway.toml",
            "\"127.0.0.1:0\"]",
            "\"localhost\"]",
            "gateway.toml:2:11: server.listen: invalid socket address",
        ),
        (
            "gateway.toml",
            "site.crt",
            "missing.crt",
            "gateway.toml:8:8: tls.certificates[0].cert: file",
        ),
        (
            "gateway.toml",
            "file = \"apps.toml\"",
            "file = \"nope.toml\"",
            "gateway.toml:15:8: apps.file: file",
        ),
        (
            "apps.toml",
            "upstreams = [\"http://127.0.0.1:9\"]",
            "upstreams = [\"ftp://x\"]",
            "apps.toml:4:14: app[0].upstreams:",
        ),
        (
            "apps.toml",
            "name = \"mail\"",
            "name = \"Mail Box\"",
            "apps.toml:2:8: app[0].name:",
        ),
        (
            "gateway.toml",
            "key = \"site.key\"",
            "key = \"other.key\"",
            "site.crt with",
        ),
    ];
    for (file, from, to, expected) in cases {
        let dir = valid_setup();
        edit(dir.path(), file, from, to);
        let config = dir.path().join("gateway.toml");
        let (ok, text) = pforte(&["check"], &config);
        assert!(!ok, "check passed for {to:?}");
        assert!(
            text.contains(expected),
            "for {to:?} expected {expected:?} in:\n{text}"
        );
        assert!(!text.contains("panicked"), "{text}");
        let (ok, run_text) = pforte(&["run"], &config);
        assert!(!ok, "run started with {to:?}");
        assert!(
            run_text.contains(expected),
            "run must report the same problem:\n{run_text}"
        );
    }
}

#[test]
fn several_problems_are_reported_together() {
    let dir = valid_setup();
    edit(
        dir.path(),
        "gateway.toml",
        "[portal]",
        "[limits]\nmax_header_bytes = 10\nmax_connections = 0\n\n[portal]",
    );
    let (ok, text) = pforte(&["check"], &dir.path().join("gateway.toml"));
    assert!(!ok);
    assert!(
        text.contains("limits.max_header_bytes: must be at least 8192"),
        "{text}"
    );
    assert!(
        text.contains("limits.max_connections: must be at least 1"),
        "{text}"
    );
}

#[test]
fn a_missing_config_file_is_named() {
    let (ok, text) = pforte(&["check"], Path::new("/nonexistent/pforte/gateway.toml"));
    assert!(!ok);
    assert!(
        text.contains("/nonexistent/pforte/gateway.toml: cannot read config file"),
        "{text}"
    );
}

/// The partners' providers file is checked with the rest: a problem is named with its file,
/// line and column, a missing secret with its provider's entry, and a good file passes.
#[test]
fn the_providers_file_is_checked_with_the_rest() {
    let dir = valid_setup();
    std::fs::write(dir.path().join("partner.secret"), "s3cret\n").unwrap();
    std::fs::write(
        dir.path().join("idps.toml"),
        "[[idp]]\nid = \"partner\"\nname = \"Partner ministry\"\nissuer = \"https://idp.partner.example\"\nclient_id = \"pforte\"\nclient_secret = { file = \"partner.secret\" }\nmode = \"guest\"\n\n[idp.guest]\ndefault_group = \"partners\"\n",
    )
    .unwrap();
    edit(
        dir.path(),
        "gateway.toml",
        "[policy]",
        "[federation]\nproviders = \"idps.toml\"\n\n[policy]",
    );
    let config = dir.path().join("gateway.toml");
    let (ok, text) = pforte(&["check"], &config);
    assert!(ok, "{text}");

    edit(dir.path(), "idps.toml", "https://idp", "http://idp");
    let (ok, text) = pforte(&["check"], &config);
    assert!(!ok, "an http issuer passed");
    assert!(
        text.contains("idps.toml:4:10: an issuer must be https"),
        "{text}"
    );
    edit(dir.path(), "idps.toml", "http://idp", "https://idp");

    std::fs::remove_file(dir.path().join("partner.secret")).unwrap();
    let (ok, text) = pforte(&["check"], &config);
    assert!(!ok, "a missing secret passed");
    assert!(
        text.contains("idps.toml:6:17: client_secret: secret file"),
        "{text}"
    );

    edit(dir.path(), "gateway.toml", "\"idps.toml\"", "\"nope.toml\"");
    let (ok, text) = pforte(&["check"], &config);
    assert!(!ok);
    assert!(text.contains("federation.providers: file"), "{text}");
}
