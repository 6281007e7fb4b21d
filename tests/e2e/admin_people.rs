//! `pforte-admin users` and `groups` changing the directory, against the real slapd and a people
//! file, checked where people feel it: at the gateway's login form and in its policy decisions.
//! A refused command leaves the directory (an ldapsearch of it) or the people file (byte for
//! byte) unchanged.
//!
//! These tests share the suite's slapd with every other test: they add only entries named
//! `t-<unique>`, never touch the demo people or the demo groups' members, and remove what they
//! added even when an assertion fails. A running gateway caches user searches for 30 s, so each
//! login that must see a disabled or enabled account asks a gateway that has not seen the
//! account in its earlier state; passwords and deletions are checked by a bind, never cached.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use pforte_e2e::browser::Browser;
use pforte_e2e::gateway::{DEMO_PEOPLE, Gateway, UNLIMITED_RATES, pforte_admin_bin};
use pforte_e2e::upstream::Upstream;
use serde_json::Value;

const MAIL: &str = "https://mail.gw.test";

/// Runs `pforte-admin --config CONFIG ARGS` without a terminal, with `input` on stdin.
pub(super) fn admin(config: &Path, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(pforte_admin_bin())
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("RUST_LOG")
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// Runs the tool and expects success; returns standard output.
pub(super) fn ok(config: &Path, args: &[&str]) -> String {
    ok_with(config, args, "")
}

pub(super) fn ok_with(config: &Path, args: &[&str], input: &str) -> String {
    let out = admin(config, args, input);
    assert!(out.status.success(), "pforte-admin {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the tool and expects exit code `code` with `message` in standard error.
pub(super) fn fails(config: &Path, args: &[&str], code: i32, message: &str) {
    let out = admin(config, args, "");
    assert_eq!(
        out.status.code(),
        Some(code),
        "pforte-admin {args:?}: {out:?}"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(message), "pforte-admin {args:?}: {err}");
}

pub(super) fn json(config: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&ok(config, args)).unwrap()
}

/// `t-LABEL-<unique>`: a name no other test and no earlier run uses.
pub(super) fn unique(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("t-{label}-{nanos:x}{:x}", std::process::id())
}

/// The users `policy who-can mail` lists.
fn who_can_mail(config: &Path) -> Vec<String> {
    json(
        config,
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
    )
    .as_array()
    .unwrap()
    .iter()
    .map(|p| p["user"].as_str().unwrap().to_string())
    .collect()
}

/// The status of the first page after logging in at mail: 200 let in, 403 refused by the
/// policy, 401 login refused.
async fn mail_after_login(gw: &Gateway, user: &str, password: &str) -> u16 {
    let mut b = Browser::new(gw.https, gw.root());
    b.login(&format!("{MAIL}/"), user, password).await[0]
        .reply
        .status
}

fn policy(group: &str) -> String {
    format!("[[rule]]\napps = [\"mail\"]\nallow = [\"group:{group}\"]\n")
}

/// The LDAP part: the demo directory read and written as its admin.
pub(super) struct Ldap {
    pub(super) url: String,
    pub(super) base: String,
    pub(super) admin_dn: String,
    pub(super) admin_pw: String,
}

impl Ldap {
    pub(super) fn new() -> Self {
        let pw_file = pforte_e2e::env("PFORTE_TEST_LDAP_ADMIN_PW_FILE");
        Self {
            url: pforte_e2e::env("PFORTE_TEST_LDAP_URL"),
            base: pforte_e2e::env("PFORTE_TEST_LDAP_BASE_DN"),
            admin_dn: pforte_e2e::env("PFORTE_TEST_LDAP_ADMIN_DN"),
            admin_pw: std::fs::read_to_string(pw_file)
                .unwrap()
                .trim_end()
                .to_string(),
        }
    }

    /// Every person and group with their attributes, as ldapsearch prints them.
    fn snapshot(&self) -> String {
        let out = Command::new("ldapsearch")
            .args([
                "-LLL",
                "-x",
                "-H",
                &self.url,
                "-D",
                &self.admin_dn,
                "-w",
                &self.admin_pw,
            ])
            .args(["-b", &self.base, "-S", "dn"])
            .args([
                "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))",
                "*",
                "memberOf",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "ldapsearch: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// The admin section a config needs for changes, with the admin DN and password file.
    pub(super) fn admin_section(&self, bind_dn: &str, pw_file: &str) -> String {
        format!(
            "\n[directory.ldap.admin]\nbind_dn = {bind_dn:?}\nbind_password_file = {pw_file:?}\n"
        )
    }
}

/// Deletes the entries a test added when it ends, whatever happened.
pub(super) struct Cleanup<'l> {
    pub(super) ldap: &'l Ldap,
    pub(super) dns: Vec<String>,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        for dn in &self.dns {
            let _ = Command::new("ldapdelete")
                .args([
                    "-x",
                    "-H",
                    &self.ldap.url,
                    "-D",
                    &self.ldap.admin_dn,
                    "-w",
                    &self.ldap.admin_pw,
                    dn,
                ])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// The gateway's config with `extra` appended, as the admin's config file beside it.
pub(super) fn admin_config(gw: &Gateway, name: &str, extra: &str) -> PathBuf {
    let config = std::fs::read_to_string(&gw.config_path).unwrap() + extra;
    let path = gw.path(name);
    std::fs::write(&path, config).unwrap();
    path
}

#[tokio::test]
async fn ldap_people_and_groups_change_what_the_gateway_lets_in() {
    let ldap = Ldap::new();
    let user = unique("user");
    let group = unique("group");
    let _cleanup = Cleanup {
        ldap: &ldap,
        dns: vec![
            format!("uid={user},ou=people,{}", ldap.base),
            format!("cn={group},ou=groups,{}", ldap.base),
        ],
    };
    let mail = Upstream::start("mail").await;
    let ldap_url = [ldap.url.clone()];
    let start = |redis: bool| {
        let b = Gateway::builder()
            .app("mail", "mail.gw.test", &[mail.url()])
            .policy(policy(&group))
            .ldap(&ldap_url)
            .audit_log();
        if redis {
            b.redis(&pforte_e2e::unique_prefix("people"), "")
        } else {
            b
        }
    };
    let a = start(true).start().await;
    let config = admin_config(
        &a,
        "admin.toml",
        &ldap.admin_section(
            &ldap.admin_dn,
            &pforte_e2e::env("PFORTE_TEST_LDAP_ADMIN_PW_FILE"),
        ),
    );
    let before = ldap.snapshot();

    // Refused: nothing reaches the directory.
    fails(
        &config,
        &[
            "users", "add", &user, "--name", "T Person", "--group", "nosuch",
        ],
        2,
        "no group \"nosuch\"",
    );
    fails(
        &config,
        &["users", "add", "alice", "--name", "Another Alice"],
        2,
        "a user \"alice\" already exists",
    );
    fails(
        &config,
        &["users", "set-password", "nobody", "--password-stdin"],
        2,
        "no user \"nobody\"",
    );
    fails(
        &config,
        &["users", "disable", "dave"],
        2,
        "already disabled",
    );
    fails(
        &config,
        &["users", "delete", "nobody", "--yes"],
        2,
        "no user \"nobody\"",
    );
    fails(
        &config,
        &["groups", "add", "staff"],
        2,
        "a group \"staff\" already exists",
    );
    fails(
        &config,
        &["groups", "add-member", "nosuch", "alice"],
        2,
        "no group \"nosuch\"",
    );
    fails(
        &config,
        &["groups", "add-member", "staff", "alice"],
        2,
        "already a member",
    );
    fails(
        &config,
        &["groups", "remove-member", "staff", "carol"],
        2,
        "only through finance",
    );
    let read_only = admin_config(
        &a,
        "read-only.toml",
        &ldap.admin_section(
            &pforte_e2e::env("PFORTE_TEST_LDAP_BIND_DN"),
            &pforte_e2e::env("PFORTE_TEST_LDAP_BIND_PW_FILE"),
        ),
    );
    fails(
        &read_only,
        &["groups", "add", &group],
        1,
        "the directory refused to add the group",
    );
    let missing = admin_config(
        &a,
        "missing.toml",
        &ldap.admin_section(&ldap.admin_dn, "/nonexistent/pw"),
    );
    fails(
        &missing,
        &["groups", "add", &group],
        2,
        "cannot read the admin password file /nonexistent/pw",
    );
    fails(
        &a.config_path,
        &["groups", "add", &group],
        2,
        "no [directory.ldap.admin]",
    );
    assert_eq!(
        ldap.snapshot(),
        before,
        "a refused command changed the directory"
    );

    // Nested groups as the gateway resolves them, read with the service account.
    let staff = json(&a.config_path, &["groups", "show", "staff", "--json"]);
    let carol = staff["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "carol")
        .unwrap();
    assert_eq!(carol["via"], serde_json::json!(["finance"]), "{staff}");
    let dave = staff["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "dave")
        .unwrap();
    assert_eq!(dave["disabled"], true);
    assert!(ok(&a.config_path, &["groups", "show", "staff"]).contains("carol"));

    // A new group and a new person with a password: in the group, let in by the policy.
    ok(&config, &["groups", "add", &group]);
    let shown = json(&config, &["groups", "show", &group, "--json"]);
    assert_eq!(
        shown["members"],
        serde_json::json!([]),
        "the placeholder is no member: {shown}"
    );
    let out = ok_with(
        &config,
        &[
            "users",
            "add",
            &user,
            "--name",
            "Tess Person",
            "--mail",
            "tess@example.org",
            "--group",
            &group,
            "--password-stdin",
        ],
        "firstpw\n",
    );
    assert!(out.contains(&format!("added {user}")), "{out}");
    fails(
        &config,
        &["users", "add", &user, "--name", "Again"],
        2,
        "already exists",
    );
    let shown = json(&config, &["users", "show", &user, "--json"]);
    assert_eq!(shown["groups"], serde_json::json!([group]), "{shown}");
    assert_eq!(shown["display_name"], "Tess Person");
    assert_eq!(shown["email"], "tess@example.org");
    assert_eq!(
        who_can_mail(&config),
        std::slice::from_ref(&user),
        "the policy decision follows the group"
    );
    assert!(ok(&config, &["groups", "list"]).contains(&group));

    // Out of the group and back in: the policy decision follows.
    ok(&config, &["groups", "remove-member", &group, &user]);
    fails(
        &config,
        &["groups", "remove-member", &group, &user],
        2,
        "not a direct member",
    );
    assert!(who_can_mail(&config).is_empty());
    assert_eq!(
        json(&config, &["users", "show", &user, "--json"])["groups"],
        serde_json::json!([])
    );
    ok(&config, &["groups", "add-member", &group, &user]);
    fails(
        &config,
        &["groups", "add-member", &group, &user],
        2,
        "already a member",
    );
    assert_eq!(who_can_mail(&config), std::slice::from_ref(&user));

    let mut tess = Browser::new(a.https, a.root());
    assert_eq!(
        tess.login(&format!("{MAIL}/"), &user, "firstpw").await[0]
            .reply
            .status,
        200
    );

    // A new password: the old one is refused, the new one accepted (binds are never cached).
    ok_with(
        &config,
        &["users", "set-password", &user, "--password-stdin"],
        "secondpw\n",
    );
    assert_eq!(mail_after_login(&a, &user, "firstpw").await, 401);
    assert_eq!(mail_after_login(&a, &user, "secondpw").await, 200);

    // Disabled: the session ends at once, and a gateway that has not seen the account refuses it.
    let out = ok(&config, &["users", "disable", &user]);
    assert!(out.contains("ended 2 session(s)"), "{out}");
    let ended = pforte_e2e::eventually(Duration::from_secs(2), async || {
        tess.get(&format!("{MAIL}/")).await.status == 302
    })
    .await;
    assert!(ended, "the disabled person's session survived");
    fails(&config, &["users", "disable", &user], 2, "already disabled");
    let b = start(false).start().await;
    assert_eq!(mail_after_login(&b, &user, "secondpw").await, 401);
    let reasons: Vec<Value> = b
        .audit()
        .into_iter()
        .filter(|e| e["event"] == "login_failure")
        .collect();
    assert_eq!(reasons[0]["reason"], "disabled", "{reasons:?}");

    ok(&config, &["users", "enable", &user]);
    let c = start(false).start().await;
    assert_eq!(mail_after_login(&c, &user, "secondpw").await, 200);

    // Deleted: asks first, then the login is refused.
    fails(&config, &["users", "delete", &user], 2, "--yes");
    assert!(json(&config, &["users", "show", &user, "--json"]).is_object());
    ok(&config, &["users", "delete", &user, "--yes"]);
    assert_eq!(mail_after_login(&c, &user, "secondpw").await, 401);
    fails(&config, &["users", "show", &user], 2, "no user");
    let emptied = json(&config, &["groups", "show", &group, "--json"]);
    assert_eq!(
        emptied["members"],
        serde_json::json!([]),
        "the group outlives its last member: {emptied}"
    );

    let events: Vec<String> = a
        .audit()
        .into_iter()
        .filter(|e| !e["by"].as_str().unwrap_or("").is_empty())
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    for wanted in [
        "group_added",
        "user_added",
        "member_added",
        "password_set",
        "user_disabled",
        "session_revoked",
        "user_enabled",
        "member_removed",
        "user_deleted",
    ] {
        assert!(
            events.iter().any(|e| e == wanted),
            "no {wanted} in {events:?}"
        );
    }
}

#[tokio::test]
async fn the_people_file_is_edited_in_place_and_the_gateway_follows() {
    let mail = Upstream::start("mail").await;
    let gw = Gateway::builder()
        .app("mail", "mail.gw.test", &[mail.url()])
        .policy(policy("video"))
        .demo_people()
        // The test polls logins until the gateway has reloaded the file; before that they
        // fail, and neither the brute-force throttle nor the login form's rate limit per
        // address may refuse them meanwhile.
        .sessions("[sessions.throttle]\nfree_failures = 1000\nlock_after = 1001\n")
        .limits(UNLIMITED_RATES)
        .audit_log()
        .start()
        .await;
    let config = gw.config_path.clone();
    let file = gw.path("people.toml");
    let before = std::fs::read(&file).unwrap();

    fails(
        &config,
        &[
            "users", "add", "frank", "--name", "Frank Z", "--group", "nosuch",
        ],
        2,
        "no group \"nosuch\"",
    );
    fails(
        &config,
        &["users", "add", "Alice", "--name", "Another Alice"],
        2,
        "already exists",
    );
    fails(
        &config,
        &["users", "set-password", "nobody", "--password-stdin"],
        2,
        "no user \"nobody\"",
    );
    fails(&config, &["users", "enable", "alice"], 2, "already enabled");
    fails(
        &config,
        &["users", "delete", "nobody", "--yes"],
        2,
        "no user",
    );
    fails(&config, &["groups", "add", "staff"], 2, "already exists");
    fails(
        &config,
        &["groups", "add-member", "nosuch", "bob"],
        2,
        "no group",
    );
    fails(
        &config,
        &["groups", "remove-member", "staff", "bob"],
        2,
        "not a direct member",
    );
    fails(
        &config,
        &[
            "users", "add", "frank", "--name", "Frank Z", "--mail", "no-mail",
        ],
        2,
        "not a mail address",
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "a refused command changed the file"
    );

    ok(&config, &["groups", "add", "video"]);
    ok_with(
        &config,
        &[
            "users",
            "add",
            "frank",
            "--name",
            "Frank Zappa",
            "--mail",
            "frank@example.org",
            "--group",
            "video",
            "--password-stdin",
        ],
        "frankpw\n",
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with(DEMO_PEOPLE),
        "comments and layout kept:\n{text}"
    );
    let video = json(&config, &["groups", "show", "video", "--json"]);
    assert_eq!(video["members"][0]["name"], "frank", "{video}");
    assert_eq!(who_can_mail(&config), ["frank"]);
    let let_in = pforte_e2e::eventually(Duration::from_secs(10), async || {
        mail_after_login(&gw, "frank", "frankpw").await == 200
    })
    .await;
    assert!(
        let_in,
        "the gateway did not pick up the new person:\n{}",
        gw.log()
    );

    ok_with(
        &config,
        &["users", "set-password", "frank", "--password-stdin"],
        "newpw\n",
    );
    let changed = pforte_e2e::eventually(Duration::from_secs(10), async || {
        mail_after_login(&gw, "frank", "frankpw").await == 401
    })
    .await;
    assert!(changed, "the old password still works");
    assert_eq!(mail_after_login(&gw, "frank", "newpw").await, 200);

    ok(&config, &["users", "disable", "frank"]);
    let refused = pforte_e2e::eventually(Duration::from_secs(10), async || {
        mail_after_login(&gw, "frank", "newpw").await == 401
    })
    .await;
    assert!(refused, "a disabled person got in");
    ok(&config, &["users", "enable", "frank"]);
    let back = pforte_e2e::eventually(Duration::from_secs(10), async || {
        mail_after_login(&gw, "frank", "newpw").await == 200
    })
    .await;
    assert!(back, "an enabled person was refused");

    ok(&config, &["groups", "remove-member", "video", "frank"]);
    assert!(who_can_mail(&config).is_empty());
    ok(&config, &["users", "delete", "frank", "--yes"]);
    let gone = pforte_e2e::eventually(Duration::from_secs(10), async || {
        mail_after_login(&gw, "frank", "newpw").await == 401
    })
    .await;
    assert!(gone, "a deleted person got in");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with(DEMO_PEOPLE),
        "comments and layout kept:\n{text}"
    );
    assert!(
        text.contains("[[group]]\nname = \"video\""),
        "the emptied group stays:\n{text}"
    );
    assert!(
        gw.audit()
            .iter()
            .any(|e| e["event"] == "user_deleted" && e["user"] == "frank"),
        "deletion audited"
    );
}
