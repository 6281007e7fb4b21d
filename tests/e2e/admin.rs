//! `pforte-admin` against running gateways, real slapd and Redis: each command's effect where
//! people feel it. A revoked session goes back to the login page on both of two gateways within
//! 1 s; `policy who-can` lists exactly the people the gateway lets in; a rotation by the tool
//! signs new assertions that verify; `users unlock` lets a locked person log in; bad input gets a
//! clear message and a non-zero exit and changes nothing.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use pforte_e2e::browser::Browser;
use pforte_e2e::client::plain;
use pforte_e2e::gateway::{Gateway, app_toml, pforte_admin_bin};
use pforte_e2e::upstream::Upstream;
use pforte_keys::{KeyDir, VerifyOptions};
use serde_json::Value;

const LOGIN: &str = "https://login.gw.test";
const MAIL: &str = "https://mail.gw.test";
const STAFF_MAIL: &str = "[[rule]]\napps = [\"mail\"]\nallow = [\"group:staff\"]\n";

/// Runs `pforte-admin --config GATEWAY ARGS` without a terminal.
fn admin(gw: &Gateway, args: &[&str]) -> Output {
    Command::new(pforte_admin_bin())
        .arg("--config")
        .arg(&gw.config_path)
        .args(args)
        .stdin(Stdio::null())
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

/// Runs the tool and expects success; returns standard output.
fn ok(gw: &Gateway, args: &[&str]) -> String {
    let out = admin(gw, args);
    assert!(out.status.success(), "pforte-admin {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the tool and expects exit code `code`; returns standard error.
fn fails(gw: &Gateway, args: &[&str], code: i32) -> String {
    let out = admin(gw, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "pforte-admin {args:?}: {out:?}"
    );
    String::from_utf8(out.stderr).unwrap()
}

fn json(gw: &Gateway, args: &[&str]) -> Value {
    serde_json::from_str(&ok(gw, args)).unwrap()
}

#[tokio::test]
async fn a_revoked_session_goes_to_the_login_page_on_both_gateways() {
    let mail = Upstream::start("mail").await;
    let prefix = pforte_e2e::unique_prefix("admin");
    let start = || {
        Gateway::builder()
            .app("mail", "mail.gw.test", &[mail.url()])
            .policy(STAFF_MAIL)
            .demo_people()
            .audit_log()
            .redis(&prefix, "")
    };
    let a = start().start().await;
    let b = start().start().await;
    let mut alice_a = Browser::new(a.https, a.root());
    let hops = alice_a.login(&format!("{MAIL}/"), "alice", "alicepw").await;
    assert_eq!(hops[0].reply.status, 200, "{}", hops[0].reply.text());
    let mut alice_b = alice_a.at(b.https, b.root());
    assert_eq!(alice_b.get(&format!("{MAIL}/")).await.status, 200);
    let mut carol = Browser::new(a.https, a.root());
    assert_eq!(
        carol.login(&format!("{MAIL}/"), "carol", "carolpw").await[0]
            .reply
            .status,
        200
    );

    let everyone = json(&a, &["sessions", "list", "--json"]);
    assert_eq!(everyone.as_array().unwrap().len(), 2, "{everyone}");
    let alices = json(&a, &["sessions", "list", "--user", "alice", "--json"]);
    let alices = alices.as_array().unwrap();
    assert_eq!(alices.len(), 1);
    assert_eq!(alices[0]["login"], "password");
    let sid = alices[0]["sid"].as_str().unwrap().to_string();
    assert!(
        ok(&a, &["sessions", "list"]).contains(&sid),
        "the table shows it"
    );
    assert_eq!(alices[0]["methods"], serde_json::json!(["password"]));
    let shown = json(&a, &["sessions", "show", &sid, "--json"]);
    assert_eq!(shown["sid"], sid.as_str());
    assert_eq!(shown["login"], "password");
    assert_eq!(shown["methods"], serde_json::json!(["password"]));
    let text = ok(&a, &["sessions", "show", &sid]);
    assert!(
        text.contains("methods:") && text.contains("password"),
        "{text}"
    );
    let err = fails(&a, &["sessions", "show", "0123456789abcdef"], 1);
    assert!(err.contains("no live session"), "{err}");

    // Bad input and a missing confirmation change nothing.
    let err = fails(&a, &["sessions", "revoke", "XYZ"], 2);
    assert!(err.contains("not a session id"), "{err}");
    let err = fails(&a, &["sessions", "revoke", &sid], 2);
    assert!(err.contains("--yes"), "{err}");
    let err = fails(&a, &["sessions", "revoke", "0123456789abcdef", "--yes"], 1);
    assert!(err.contains("no live session"), "{err}");
    assert_eq!(alice_b.get(&format!("{MAIL}/")).await.status, 200);

    ok(&a, &["sessions", "revoke", &sid, "--yes"]);
    let revoked = Instant::now();
    let refused = pforte_e2e::eventually(Duration::from_secs(1), async || {
        alice_a.get(&format!("{MAIL}/")).await.status == 302
            && alice_b.get(&format!("{MAIL}/")).await.status == 302
    })
    .await;
    assert!(
        refused,
        "a gateway still accepts the revoked session after {:?}",
        revoked.elapsed()
    );
    assert_eq!(
        carol.get(&format!("{MAIL}/")).await.status,
        200,
        "carol keeps hers"
    );

    let out = ok(&a, &["sessions", "revoke", "--user", "carol", "--yes"]);
    assert!(out.contains("revoked 1 session"), "{out}");
    let gone = pforte_e2e::eventually(Duration::from_secs(1), async || {
        carol.get(&format!("{MAIL}/")).await.status == 302
    })
    .await;
    assert!(gone, "carol's session survived `revoke --user`");

    let audited: Vec<Value> = a
        .audit()
        .into_iter()
        .filter(|e| e["event"] == "session_revoked")
        .collect();
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert_eq!(audited[0]["session"], sid.as_str());
    assert!(!audited[0]["by"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn who_can_lists_exactly_the_people_the_gateway_lets_in() {
    let mail = Upstream::start("mail").await;
    let policy = "[[rule]]\napps = [\"mail\"]\nallow = [\"group:finance\", \"group:admins\"]\n";
    let gw = Gateway::builder()
        .app("mail", "mail.gw.test", &[mail.url()])
        .policy(policy)
        .ldap(&[pforte_e2e::env("PFORTE_TEST_LDAP_URL")])
        .start()
        .await;
    let listed = json(
        &gw,
        &[
            "policy",
            "who-can",
            "mail",
            "--from",
            "127.0.0.1",
            "--auth",
            "password",
            "--json",
        ],
    );
    let listed: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["user"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["alice", "carol"]);
    for user in ["alice", "bob", "carol", "erin"] {
        let mut browser = Browser::new(gw.https, gw.root());
        let hops = browser
            .login(&format!("{MAIL}/"), user, &format!("{user}pw"))
            .await;
        let let_in = hops[0].reply.status == 200;
        assert_eq!(
            let_in,
            listed.contains(&user),
            "{user}: the gateway answered {}",
            hops[0].reply.status
        );
    }

    // The directory, read live: nested groups, filters, JSON.
    let carol = json(&gw, &["users", "show", "carol", "--json"]);
    assert_eq!(carol["groups"], serde_json::json!(["finance", "staff"]));
    let staff = json(&gw, &["users", "list", "--group", "staff", "--json"]);
    let staff: Vec<&str> = staff
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["username"].as_str().unwrap())
        .collect();
    assert_eq!(staff, ["alice", "carol", "erin"], "dave is disabled");
    assert!(ok(&gw, &["users", "list", "--filter", "BROCKOVICH"]).contains("erin"));

    // `policy explain --user` without --groups asks the directory, as a login would.
    for (user, allowed) in [("carol", true), ("bob", false)] {
        let out = admin(
            &gw,
            &[
                "policy",
                "explain",
                "--user",
                user,
                "--from",
                "127.0.0.1",
                MAIL,
            ],
        );
        assert_eq!(out.status.success(), allowed, "{user}: {out:?}");
    }
    let err = fails(&gw, &["policy", "explain", "--user", "nobody", MAIL], 2);
    assert!(err.contains("no user \"nobody\""), "{err}");

    let err = fails(&gw, &["policy", "who-can", "nosuch"], 2);
    assert!(err.contains("no app \"nosuch\""), "{err}");
    let err = fails(&gw, &["users", "show", "nobody"], 2);
    assert!(err.contains("no user \"nobody\""), "{err}");
    // The memory store's sessions, through the gateway's admin listener: the four logins above
    // (a person the policy refuses has a session too; the app refuses it).
    let listed = json(&gw, &["sessions", "list", "--json"]);
    let mut users: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["user"].as_str().unwrap())
        .collect();
    users.sort_unstable();
    assert_eq!(users, ["alice", "bob", "carol", "erin"], "{listed}");
}

#[tokio::test]
async fn a_rotation_by_the_tool_signs_new_assertions_that_verify() {
    let docs = Upstream::start("docs").await;
    let apps = app_toml(
        "docs",
        "docs.gw.test",
        "/",
        &[docs.url()],
        "identity_headers = { assertion = \"X-Pforte-Assertion\" }",
    );
    let gw = Gateway::builder()
        .apps(apps)
        .policy(STAFF_MAIL.replace("mail", "docs"))
        .demo_people()
        .audit_log()
        .keys()
        .start()
        .await;
    let before = json(&gw, &["keys", "list", "--json"]);
    assert_eq!(before.as_array().unwrap().len(), 1);
    let err = fails(&gw, &["keys", "rotate"], 2);
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(
        json(&gw, &["keys", "list", "--json"]),
        before,
        "nothing changed"
    );

    let mut alice = Browser::new(gw.https, gw.root());
    let hops = alice
        .login("https://docs.gw.test/", "alice", "alicepw")
        .await;
    let first = hops[0].reply.json()["headers"]["x-pforte-assertion"][0]
        .as_str()
        .unwrap()
        .to_string();

    let next = ok(&gw, &["keys", "generate"]).trim().to_string();
    let out = ok(&gw, &["keys", "rotate", "--yes"]);
    assert!(out.contains(&format!("signing now: {next}")), "{out}");
    let picked_up = pforte_e2e::eventually(Duration::from_secs(10), async || {
        let jwks = alice
            .get(&format!("{LOGIN}/.well-known/jwks.json"))
            .await
            .json();
        jwks["keys"].as_array().unwrap().len() >= 3
    })
    .await;
    assert!(
        picked_up,
        "the gateway did not reload the keys:\n{}",
        gw.log()
    );

    let mut carol = Browser::new(gw.https, gw.root());
    let hops = carol
        .login("https://docs.gw.test/", "carol", "carolpw")
        .await;
    let fresh = hops[0].reply.json()["headers"]["x-pforte-assertion"][0]
        .as_str()
        .unwrap()
        .to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let options =
        VerifyOptions::new("https://login.gw.test", vec!["docs".to_string()]).with_typ("JWT");
    let keyset = KeyDir::new(gw.path("keys")).load(now).unwrap();
    assert!(keyset.verify::<Value>(&fresh, &options, now).is_ok());
    assert!(
        keyset.verify::<Value>(&first, &options, now).is_ok(),
        "old ones still verify"
    );
    let rows = json(&gw, &["keys", "list", "--json"]);
    let active: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["state"] == "active")
        .collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["kid"], next.as_str());
    assert!(
        gw.audit().iter().any(|e| e["event"] == "key_rotated"),
        "rotation audited"
    );
}

#[tokio::test]
async fn users_unlock_lets_a_locked_person_log_in() {
    let mail = Upstream::start("mail").await;
    let gw = Gateway::builder()
        .app("mail", "mail.gw.test", &[mail.url()])
        .policy(STAFF_MAIL)
        .demo_people()
        .audit_log()
        .redis(
            &pforte_e2e::unique_prefix("admin"),
            "[sessions.throttle]\nfree_failures = 0\nfirst_delay = \"1s\"\nlock_after = 1\nlock_for = \"1h\"",
        )
        .start()
        .await;
    let mut b = Browser::new(gw.https, gw.root());
    b.login(&format!("{LOGIN}/login"), "erin", "wrong").await;
    // The address lock goes through the gateway's endpoint, so only the account lock remains.
    let reply = plain(gw.admin, "POST", "/unlock?address=127.0.0.1", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let mut b = Browser::new(gw.https, gw.root());
    let hops = b.login(&format!("{LOGIN}/login"), "erin", "erinpw").await;
    assert_eq!(hops[0].reply.status, 429, "the account is locked");
    let erin = json(&gw, &["users", "show", "erin", "--json"]);
    assert_eq!(erin["lock"]["state"], "locked", "{erin}");

    let err = fails(&gw, &["users", "unlock", "nobody"], 2);
    assert!(err.contains("no user"), "{err}");
    ok(&gw, &["users", "unlock", "Erin"]);
    let mut b = Browser::new(gw.https, gw.root());
    let hops = b.login(&format!("{LOGIN}/login"), "erin", "erinpw").await;
    assert_eq!(hops[0].url, format!("{LOGIN}/"), "{}", hops[0].reply.text());
    let erin = json(&gw, &["users", "show", "erin", "--json"]);
    assert_eq!(erin["lock"]["state"], "open");
    assert_eq!(erin["sessions"].as_array().unwrap().len(), 1);
    let unlocks: Vec<Value> = gw
        .audit()
        .into_iter()
        .filter(|e| e["event"] == "unlock" && e["key"] == "erin")
        .collect();
    assert_eq!(unlocks.len(), 1, "one unlock by the tool");
}

#[test]
fn an_unreadable_config_is_named_and_exits_2() {
    let out = Command::new(pforte_admin_bin())
        .args(["--config", "/nonexistent/gateway.toml", "users", "list"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("/nonexistent/gateway.toml"), "{err}");
}

#[tokio::test]
async fn status_reports_the_gateway_and_fails_when_a_backend_is_down() {
    let mail = Upstream::start("mail").await;
    let healthy = Gateway::builder()
        .app("mail", "mail.gw.test", &[mail.url()])
        .policy(STAFF_MAIL)
        .ldap(&[pforte_e2e::env("PFORTE_TEST_LDAP_URL")])
        .redis(&pforte_e2e::unique_prefix("status"), "")
        .keys()
        .start()
        .await;
    let report: Value = serde_json::from_str(&ok(&healthy, &["status", "--json"])).unwrap();
    assert_eq!(report["healthy"], true, "{report}");
    assert_eq!(report["policy"]["rules"], 1);
    assert_eq!(report["apps"], serde_json::json!(["mail"]));
    assert_eq!(report["sessions"]["store"], "redis");
    assert!(report["keys"].is_string());
    assert_eq!(
        report["directory"]["servers"][0]["status"], "up",
        "{report}"
    );
    let table = ok(&healthy, &["status"]);
    assert!(
        table.contains("policy rules") && table.contains("redis"),
        "{table}"
    );
    // Nested values are rows of their own, not JSON in a cell.
    assert!(!table.contains('{') && !table.contains('['), "{table}");
    let rows: Vec<String> = table
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let ldap = pforte_e2e::env("PFORTE_TEST_LDAP_URL");
    for row in [
        format!("directory server {ldap} up"),
        "session store redis, healthy".to_string(),
        "policy rules 1 (from 1 file)".to_string(),
        "healthy yes".to_string(),
    ] {
        assert!(rows.contains(&row), "{row:?} in\n{table}");
    }

    // A directory that does not answer: unhealthy, exit 3 (for monitoring).
    let mut broken = Gateway::builder()
        .app("mail", "mail.gw.test", &[mail.url()])
        .policy(STAFF_MAIL)
        .ldap(&["ldap://127.0.0.1:9".to_string()])
        .start()
        .await;
    let out = admin(&broken, &["status", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["healthy"], false);
    assert_eq!(
        report["directory"]["servers"][0]["status"], "down",
        "{report}"
    );

    // A gateway that is not running: exit 3 with the address named.
    broken.signal("TERM");
    assert!(broken.wait_exit(Duration::from_secs(10)).await.is_some());
    let out = admin(&broken, &["status"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot connect"),
        "{out:?}"
    );
}
