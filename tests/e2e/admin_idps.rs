//! `pforte-admin idps` on a gateway config whose `[federation] providers` lists partners'
//! providers served by a small HTTPS server of the test CA (trusted through
//! `federation.ca_file`): `list` and `show` name each provider and where its secret comes from
//! (never the secret), and `test` fetches discovery and keys as the gateway does: a good
//! provider passes, one with warnings only passes too, and a wrong issuer, an unreachable
//! provider and a missing secret fail with the problem named. A broken providers file is
//! reported at its line, an unknown id or a config without `[federation]` is exit 2.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use pforte_e2e::discovery::{DiscoveryServer, document};
use pforte_e2e::gateway::pforte_admin_bin;
use pforte_e2e::jwks::ClientKey;
use pforte_e2e::pki::TestCa;
use serde_json::Value;

/// A folder with a gateway config, the test CA as `federation.ca_file`, and an idps.toml.
struct Setup {
    dir: tempfile::TempDir,
    /// The CA the config trusts for the providers' HTTPS.
    ca: TestCa,
}

impl Setup {
    fn new(federation: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        let ca = TestCa::new();
        ca.leaf(path, "site", &["*.gw.test"]);
        ca.write_pem(&path.join("partner-ca.pem"));
        fs::write(
            path.join("apps.toml"),
            "[[app]]\nname = \"docs\"\nhosts = [\"docs.gw.test\"]\n\
             upstreams = [\"http://127.0.0.1:9\"]\n",
        )
        .unwrap();
        fs::write(
            path.join("policy.toml"),
            "[[rule]]\napps = [\"docs\"]\nallow = [\"group:staff\"]\n",
        )
        .unwrap();
        let mut config = String::from(
            "[server]\nlisten = [\"127.0.0.1:0\"]\npublic_https_port = 8443\n\n\
             [[tls.certificates]]\ncert = \"site.crt\"\nkey = \"site.key\"\n\n\
             [portal]\nhost = \"login.gw.test\"\n\n[apps]\nfile = \"apps.toml\"\n\n\
             [policy]\nfile = \"policy.toml\"\n\n[log]\naudit_file = \"audit.log\"\n",
        );
        if federation {
            config.push_str(
                "\n[federation]\nproviders = \"idps.toml\"\nca_file = \"partner-ca.pem\"\n",
            );
            fs::write(path.join("idps.toml"), "").unwrap();
        }
        fs::write(path.join("gateway.toml"), config).unwrap();
        fs::create_dir(path.join("secrets")).unwrap();
        Self { dir, ca }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes idps.toml with one guest provider per `(id, issuer)`, each with a secret file
    /// (written when `secret` is true).
    fn providers(&self, entries: &[(&str, &str, bool)]) {
        let mut text = String::from("# partners\n");
        for (i, (id, issuer, secret)) in entries.iter().enumerate() {
            text.push_str(&format!(
                "\n[[idp]]\nid = \"{id}\"\nname = \"Partner {id}\"\nissuer = \"{issuer}\"\n\
                 client_id = \"pforte\"\nclient_secret = {{ file = \"secrets/{id}\" }}\n\
                 domains = [\"{id}{i}.example\"]\nmode = \"guest\"\n\n[idp.guest]\n\
                 default_group = \"partners\"\n[[idp.guest.rule]]\nupstream = \"{id}/staff\"\n\
                 local = \"staff\"\n"
            ));
            if *secret {
                fs::write(
                    self.path(&format!("secrets/{id}")),
                    format!("s3cret-{id}\n"),
                )
                .unwrap();
            }
        }
        fs::write(self.path("idps.toml"), text).unwrap();
    }

    /// Runs `pforte-admin --config gateway.toml ARGS`.
    async fn run(&self, args: &[&str]) -> Output {
        run_with(&self.path("gateway.toml"), args).await
    }

    async fn exits(&self, args: &[&str], code: i32) -> (String, String) {
        let out = self.run(args).await;
        assert_eq!(
            out.status.code(),
            Some(code),
            "pforte-admin {args:?}: {out:?}"
        );
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    async fn json(&self, args: &[&str], code: i32) -> Value {
        let (stdout, _) = self.exits(args, code).await;
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }
}

async fn run_with(config: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new(pforte_admin_bin())
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::null())
        .env_remove("RUST_LOG")
        .output()
        .await
        .unwrap()
}

/// The providers' server: `good` complete, `plain` without logout support (warnings only),
/// `wrong` naming another issuer; all with one ES256 key.
async fn partners(ca: &TestCa, dir: &Path) -> DiscoveryServer {
    let key = ClientKey::generate("partner-key-1");
    let keys = ClientKey::set(&[&key]);
    DiscoveryServer::start(ca, dir, |origin| {
        let full = |issuer: &str| {
            document(
                issuer,
                &format!(
                    r#","end_session_endpoint":"{issuer}/logout",
                    "authorization_response_iss_parameter_supported":true,
                    "backchannel_logout_supported":true"#
                ),
            )
        };
        let mut docs = HashMap::new();
        for id in ["good", "plain", "nosecret"] {
            let issuer = format!("{origin}/{id}");
            let doc = if id == "plain" {
                document(&issuer, "")
            } else {
                full(&issuer)
            };
            docs.insert(format!("/{id}/.well-known/openid-configuration"), doc);
            docs.insert(format!("/{id}/jwks.json"), keys.clone());
        }
        docs.insert(
            "/wrong/.well-known/openid-configuration".into(),
            full(&format!("{origin}/elsewhere")),
        );
        docs
    })
    .await
}

#[tokio::test]
async fn providers_are_listed_and_shown_without_their_secret() {
    let setup = Setup::new(true);
    let (none, _) = setup.exits(&["idps", "test"], 0).await;
    assert!(none.starts_with("no providers in"), "{none}");
    setup.providers(&[
        ("good", "https://idp.good.example", true),
        ("nosecret", "https://idp.nosecret.example", false),
    ]);
    let (table, _) = setup.exits(&["idps", "list"], 0).await;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("ID"), "{table}");
    assert!(lines[1].starts_with("good"), "{table}");
    assert!(
        lines[1].contains("https://idp.good.example") && lines[1].contains("guest"),
        "{table}"
    );
    assert!(lines[2].contains("nosecret1.example"), "{table}");

    let list = setup.json(&["idps", "list", "--json"], 0).await;
    assert_eq!(list[0]["id"], "good");
    assert_eq!(list[0]["mode"], "guest");
    assert_eq!(list[1]["domains"][0], "nosecret1.example");

    let shown = setup.json(&["idps", "show", "good", "--json"], 0).await;
    assert_eq!(shown["client_id"], "pforte");
    assert_eq!(shown["client_secret"]["source"], "file");
    assert_eq!(shown["client_secret"]["readable"], true);
    assert_eq!(shown["guest"]["rules"][0]["upstream"], "good/staff");
    assert_eq!(
        shown["register"]["redirect_uri"],
        "https://login.gw.test:8443/federation/good/callback"
    );
    assert!(!shown.to_string().contains("s3cret"), "{shown}");

    let (text, _) = setup.exits(&["idps", "show", "nosecret"], 0).await;
    assert!(text.contains("CANNOT be read here"), "{text}");
    assert!(text.contains("secrets/nosecret"), "{text}");

    let (_, err) = setup.exits(&["idps", "show", "absent"], 2).await;
    assert!(err.contains("no provider \"absent\""), "{err}");
}

#[tokio::test]
async fn test_passes_good_providers_and_names_what_fails() {
    let setup = Setup::new(true);
    let dir = tempfile::tempdir().unwrap();
    let server = partners(&setup.ca, dir.path()).await;
    let origin = server.origin();
    let down = format!("https://127.0.0.1:{}", pforte_e2e::free_port());
    setup.providers(&[
        ("good", &format!("{origin}/good"), true),
        ("plain", &format!("{origin}/plain"), true),
        ("wrong", &format!("{origin}/wrong"), true),
        ("down", &down, true),
        ("nosecret", &format!("{origin}/nosecret"), false),
    ]);

    let (good, _) = setup.exits(&["idps", "test", "good"], 0).await;
    assert!(good.contains("good ("), "{good}");
    assert!(
        good.contains("passed; signing keys partner-key-1"),
        "{good}"
    );
    assert!(!good.contains("warning"), "{good}");

    let (plain, _) = setup.exits(&["idps", "test", "plain"], 0).await;
    assert!(plain.contains("passed"), "{plain}");
    for warning in [
        "no_iss_parameter",
        "no_end_session",
        "no_backchannel_logout",
    ] {
        assert!(plain.contains(warning), "{warning}: {plain}");
    }

    let (wrong, _) = setup.exits(&["idps", "test", "wrong"], 1).await;
    assert!(wrong.contains("FAILED"), "{wrong}");
    assert!(wrong.contains("[issuer_mismatch]"), "{wrong}");
    assert!(wrong.contains(&format!("{origin}/elsewhere")), "{wrong}");

    let (unreachable, _) = setup.exits(&["idps", "test", "down"], 1).await;
    assert!(unreachable.contains("[unreachable]"), "{unreachable}");
    assert!(unreachable.contains("cannot be reached"), "{unreachable}");

    let (secret, _) = setup.exits(&["idps", "test", "nosecret"], 1).await;
    assert!(secret.contains("[secret_unreadable]"), "{secret}");
    assert!(secret.contains("not found"), "{secret}");
    // The other checks still ran: the provider itself is fine.
    assert!(
        secret.contains("FAILED; signing keys partner-key-1"),
        "{secret}"
    );

    let all = setup.json(&["idps", "test", "--json"], 1).await;
    let verdicts: HashMap<&str, &Value> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["id"].as_str().unwrap(), v))
        .collect();
    assert_eq!(verdicts.len(), 5, "{all}");
    assert_eq!(verdicts["good"]["passed"], true);
    assert_eq!(verdicts["plain"]["passed"], true);
    assert_eq!(verdicts["plain"]["warnings"].as_array().unwrap().len(), 3);
    for (id, problem) in [
        ("wrong", "issuer_mismatch"),
        ("down", "unreachable"),
        ("nosecret", "secret_unreadable"),
    ] {
        assert_eq!(verdicts[id]["passed"], false, "{id}: {all}");
        assert_eq!(verdicts[id]["errors"][0]["problem"], problem, "{id}: {all}");
    }

    let (_, err) = setup.exits(&["idps", "test", "absent"], 2).await;
    assert!(err.contains("no provider \"absent\""), "{err}");
}

#[tokio::test]
async fn a_broken_providers_file_or_no_federation_is_named() {
    let setup = Setup::new(true);
    fs::write(
        setup.path("idps.toml"),
        "[[idp]]\nid = \"Bad Id\"\nname = \"x\"\nissuer = \"http://idp.example\"\n\
         client_id = \"pforte\"\nclient_secret = { file = \"s\" }\nmode = \"guest\"\n\
         [idp.guest]\ndefault_group = \"partners\"\n",
    )
    .unwrap();
    for args in [
        &["idps", "list"][..],
        &["idps", "show", "x"],
        &["idps", "test"],
    ] {
        let (_, err) = setup.exits(args, 2).await;
        assert!(err.contains("idps.toml:2:6"), "{args:?}: {err}");
        assert!(err.contains("idps.toml:4:10"), "{args:?}: {err}");
    }

    let without = Setup::new(false);
    let (_, err) = without.exits(&["idps", "list"], 2).await;
    assert!(err.contains("has no [federation] section"), "{err}");
}
