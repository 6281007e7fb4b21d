//! `pforte-admin clients` on a temporary copy of a gateway config and the demo clients file: an
//! added client's secret is printed once and only its argon2id hash is stored; list and show
//! never show a hash; rotate-secret and remove ask first; bad input (malformed or plain-http
//! redirect URI, duplicate id, unknown scope or app, unreadable config) gets a clear message and
//! a non-zero exit and leaves the file byte for byte as it was; comments survive every edit.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use pforte_e2e::gateway::pforte_admin_bin;
use pforte_e2e::pki::TestCa;
use pforte_oidc::{ClientType, Clients};
use serde_json::Value;

/// A folder with a gateway config whose `[oidc] clients` is a copy of policies/clients.toml.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        TestCa::new().leaf(path, "site", &["*.gw.test"]);
        fs::create_dir(path.join("keys")).unwrap();
        let mut apps = String::new();
        for (i, app) in ["docs", "files", "chat"].iter().enumerate() {
            apps.push_str(&format!(
                "[[app]]\nname = \"{app}\"\nhosts = [\"{app}.gw.test\"]\n\
                 upstreams = [\"http://127.0.0.1:{}\"]\n\n",
                9 + i
            ));
        }
        fs::write(path.join("apps.toml"), apps).unwrap();
        fs::write(
            path.join("policy.toml"),
            "[[rule]]\napps = [\"docs\", \"files\", \"chat\"]\nallow = [\"group:staff\"]\n",
        )
        .unwrap();
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/clients.toml");
        fs::copy(demo, path.join("clients.toml")).unwrap();
        fs::write(
            path.join("gateway.toml"),
            "[server]\nlisten = [\"127.0.0.1:0\"]\n\n[[tls.certificates]]\ncert = \"site.crt\"\n\
             key = \"site.key\"\n\n[portal]\nhost = \"login.gw.test\"\n\n[apps]\n\
             file = \"apps.toml\"\n\n[policy]\nfile = \"policy.toml\"\n\n[keys]\ndir = \"keys\"\n\n\
             [oidc]\nclients = \"clients.toml\"\n\n[log]\naudit_file = \"audit.log\"\n",
        )
        .unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn clients_text(&self) -> String {
        fs::read_to_string(self.path("clients.toml")).unwrap()
    }

    fn clients(&self) -> Clients {
        Clients::load(&self.path("clients.toml")).unwrap()
    }

    /// Runs `pforte-admin --config gateway.toml ARGS` without a terminal.
    fn run(&self, args: &[&str]) -> Output {
        run_with(&self.path("gateway.toml"), args)
    }

    /// Expects success; returns standard output.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "pforte-admin {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// Expects exit code `code` and an untouched clients file; returns standard error.
    fn refused(&self, args: &[&str], code: i32) -> String {
        let before = fs::read(self.path("clients.toml")).unwrap();
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "pforte-admin {args:?}: {out:?}"
        );
        assert_eq!(
            fs::read(self.path("clients.toml")).unwrap(),
            before,
            "pforte-admin {args:?} changed the file"
        );
        String::from_utf8(out.stderr).unwrap()
    }

    /// The audit log's events.
    fn audit(&self) -> Vec<Value> {
        fs::read_to_string(self.path("audit.log"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}

fn run_with(config: &Path, args: &[&str]) -> Output {
    Command::new(pforte_admin_bin())
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::null())
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

/// The secret printed on the `client_secret:` line.
fn printed_secret(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("client_secret:"))
        .unwrap_or_else(|| panic!("no client_secret line in {stdout}"))
        .trim()
        .to_string()
}

fn verifies(clients: &Clients, id: &str, secret: &str) -> bool {
    match &clients.get(id).unwrap().client_type {
        ClientType::Confidential(hash) => hash.verify(secret),
        ClientType::Public | ClientType::KeyHolder(_) => false,
    }
}

/// The audit events whose `event` field is `name`, as their fields.
fn events<'a>(audit: &'a [Value], name: &str) -> Vec<&'a Value> {
    audit
        .iter()
        .filter(|e| e.to_string().contains(&format!("\"{name}\"")))
        .collect()
}

#[test]
fn an_added_client_gets_a_secret_shown_once_and_stored_as_a_hash() {
    let s = Setup::new();
    let before = s.clients_text();
    let out = s.ok(&[
        "clients",
        "add",
        "chat",
        "--app",
        "chat",
        "--redirect-uri",
        "https://chat.gw.test/oidc/callback",
        "--post-logout-redirect-uri",
        "https://chat.gw.test/",
        "--scope",
        "openid,profile,groups",
    ]);
    let secret = printed_secret(&out);
    assert!(secret.len() >= 43, "256 bits in base64url: {secret}");
    assert_eq!(out.matches(&secret).count(), 1, "printed once: {out}");
    assert!(out.contains("not shown again"), "{out}");

    let after = s.clients_text();
    assert!(
        after.starts_with(&before),
        "the file's comments and clients stay:\n{after}"
    );
    assert!(!after.contains(&secret), "only the hash is stored");
    let clients = s.clients();
    assert!(verifies(&clients, "chat", &secret));
    assert!(verifies(&clients, "docs", "docs-demo-secret"));

    let list = s.json(&["clients", "list", "--json"]);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["chat", "cli", "docs"]);
    let chat = &list[0];
    assert_eq!(chat["app"], "chat");
    assert_eq!(chat["type"], "confidential");
    assert_eq!(
        chat["redirect_uris"][0],
        "https://chat.gw.test/oidc/callback"
    );
    assert_eq!(
        chat["scopes"],
        serde_json::json!(["openid", "profile", "groups"])
    );
    assert_eq!(list[1]["type"], "public");

    let shown = s.json(&["clients", "show", "chat", "--json"]);
    assert_eq!(
        shown["post_logout_redirect_uris"][0],
        "https://chat.gw.test/"
    );
    assert_eq!(
        shown["grant_types"],
        serde_json::json!(["authorization_code"])
    );
    let table = s.ok(&["clients", "list"]) + &s.ok(&["clients", "show", "chat"]);
    for text in [shown.to_string(), list.to_string(), table] {
        assert!(
            !text.contains("argon2") && !text.contains("secret_hash"),
            "{text}"
        );
    }

    let audit = s.audit();
    let added = events(&audit, "client_added");
    assert_eq!(added.len(), 1, "{audit:?}");
    let line = added[0].to_string();
    assert!(
        line.contains("\"chat\"") && line.contains("\"by\""),
        "{line}"
    );
    assert!(
        !line.contains(&secret) && !line.contains("argon2"),
        "{line}"
    );

    // A public client: no secret at all.
    let out = s.ok(&[
        "clients",
        "add",
        "tool",
        "--app",
        "files",
        "--public",
        "--redirect-uri",
        "http://127.0.0.1:9999/cb",
    ]);
    assert!(!out.contains("client_secret"), "{out}");
    assert!(s.clients().get("tool").unwrap().is_public());
}

#[test]
fn rotate_secret_asks_first_and_replaces_the_hash() {
    let s = Setup::new();
    let err = s.refused(&["clients", "rotate-secret", "docs"], 2);
    assert!(err.contains("--yes"), "{err}");
    let err = s.refused(&["clients", "rotate-secret", "cli", "--yes"], 2);
    assert!(err.contains("public"), "{err}");
    let err = s.refused(&["clients", "rotate-secret", "nope", "--yes"], 2);
    assert!(err.contains("no client \"nope\""), "{err}");

    let before = s.clients_text();
    let out = s.ok(&["clients", "rotate-secret", "docs", "--yes"]);
    let secret = printed_secret(&out);
    assert!(out.contains("not shown again"), "{out}");
    let clients = s.clients();
    assert!(verifies(&clients, "docs", &secret));
    assert!(!verifies(&clients, "docs", "docs-demo-secret"));
    let after = s.clients_text();
    assert_ne!(after, before);
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        changed.len(),
        1,
        "only the secret_hash line changes: {changed:?}"
    );
    assert!(changed[0].1.starts_with("secret_hash = \"$argon2id$"));
    let audit = s.audit();
    assert_eq!(
        events(&audit, "client_secret_rotated").len(),
        1,
        "{audit:?}"
    );
    assert!(
        !fs::read_to_string(s.path("audit.log"))
            .unwrap()
            .contains(&secret)
    );
}

#[test]
fn remove_asks_first_and_keeps_the_other_clients_comments() {
    let s = Setup::new();
    let err = s.refused(&["clients", "remove", "cli"], 2);
    assert!(err.contains("--yes"), "{err}");
    let err = s.refused(&["clients", "remove", "nope", "--yes"], 2);
    assert!(err.contains("no client \"nope\""), "{err}");

    s.ok(&["clients", "remove", "cli", "--yes"]);
    let after = s.clients_text();
    assert!(!after.contains("id = \"cli\""), "{after}");
    assert!(
        !after.contains("loopback port"),
        "its own comment goes: {after}"
    );
    assert!(after.starts_with("# The OpenID Connect clients of the demo workplace"));
    assert!(
        after.contains("DEMO SECRET"),
        "the other client's comment stays"
    );
    let list = s.json(&["clients", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(events(&s.audit(), "client_removed").len(), 1);
    let err = s.refused(&["clients", "show", "cli"], 2);
    assert!(err.contains("no client \"cli\""), "{err}");
}

#[test]
fn bad_input_gets_a_clear_message_and_leaves_the_file_as_it_was() {
    let s = Setup::new();
    let add = |id: &'static str, app: &'static str, uri: &'static str| {
        vec!["clients", "add", id, "--app", app, "--redirect-uri", uri]
    };
    let cases: [(Vec<&str>, &str); 6] = [
        (
            add("x", "chat", "chat.gw.test/cb"),
            "is not an absolute URI",
        ),
        (
            add("x", "chat", "http://chat.gw.test/cb"),
            "uses http on a non-loopback host",
        ),
        (
            add("x", "chat", "https://*.gw.test/cb"),
            "contains a wildcard",
        ),
        (
            add("docs", "docs", "https://docs.gw.test/cb"),
            "client id \"docs\" is registered twice",
        ),
        (
            [
                add("x", "chat", "https://chat.gw.test/cb"),
                vec!["--scope", "openid,admin"],
            ]
            .concat(),
            "unknown scope \"admin\"",
        ),
        (
            add("x", "payroll", "https://chat.gw.test/cb"),
            "no app \"payroll\"",
        ),
    ];
    for (args, message) in cases {
        let err = s.refused(&args, 2);
        assert!(err.contains(message), "{args:?}: {err}");
    }
    assert!(s.audit().is_empty(), "nothing changed, nothing audited");

    // An unreadable or incomplete config: nothing is touched either.
    let clients_before = s.clients_text();
    let out = run_with(&s.path("missing.toml"), &["clients", "list"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing.toml"),
        "{out:?}"
    );
    let without_oidc = fs::read_to_string(s.path("gateway.toml"))
        .unwrap()
        .replace("[oidc]\nclients = \"clients.toml\"\n", "");
    fs::write(s.path("plain.toml"), without_oidc).unwrap();
    let out = run_with(
        &s.path("plain.toml"),
        &[
            "clients",
            "add",
            "x",
            "--app",
            "chat",
            "--redirect-uri",
            "https://c.gw.test/cb",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("[oidc]"),
        "{out:?}"
    );
    assert_eq!(s.clients_text(), clients_before);

    // A clients file that does not load is not edited: the admin fixes it first.
    let broken = clients_before.replace("scopes = [\"openid\", \"profile\", \"email\"]\n", "");
    fs::write(s.path("clients.toml"), &broken).unwrap();
    let err = s.refused(&add("x", "chat", "https://chat.gw.test/cb"), 2);
    assert!(
        err.contains("fix it first") && err.contains("clients.toml:"),
        "{err}"
    );
}

#[test]
fn a_client_with_its_own_keys_is_added_without_a_secret_and_has_none_to_rotate() {
    let s = Setup::new();
    let add = [
        "clients",
        "add",
        "indexer",
        "--app",
        "chat",
        "--jwks-uri",
        "https://indexer.gw.test/jwks.json",
        "--grant-type",
        "client_credentials",
        "--scope",
        "profile",
    ];
    let out = s.ok(&add);
    assert!(out.contains("private_key_jwt"), "{out}");
    assert!(!out.contains("client_secret:"), "no secret is made: {out}");
    assert!(
        s.clients_text()
            .contains("jwks_uri = \"https://indexer.gw.test/jwks.json\"")
    );
    assert!(matches!(
        s.clients().get("indexer").unwrap().client_type,
        ClientType::KeyHolder(_)
    ));
    let shown = s.json(&["clients", "show", "indexer", "--json"]);
    assert_eq!(shown["type"], "private_key_jwt");

    let err = s.refused(&["clients", "rotate-secret", "indexer", "--yes"], 2);
    assert!(err.contains("its own keys"), "{err}");
    let mut insecure = add;
    insecure[2] = "other";
    insecure[6] = "http://indexer.gw.test/jwks.json";
    let err = s.refused(&insecure, 2);
    assert!(err.contains("must be an https URL"), "{err}");
    let mut both = add.to_vec();
    both[2] = "third";
    both.push("--public");
    s.refused(&both, 2);
}
