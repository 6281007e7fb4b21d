//! The directory tests against the servers people run besides OpenLDAP: a 389 Directory Server
//! and a Samba Active Directory domain controller, both started by the harness
//! (`deploy/dev/ds389.sh`, `deploy/dev/samba-ad.sh`) with the demo's people and groups. For each,
//! the real gateway logs people in over LDAPS: a direct member and a nested one (carol is in
//! staff through finance) pass a rule on the outer group, a disabled account is refused as
//! disabled (389-DS: `nsAccountLock`, AD: `userAccountControl`'s bit 2), and `pforte-admin` adds a
//! person, changes the password, and offboards them: `users disable` ends their live session in
//! the Redis store at once. On AD the in-chain matching rule is shown to carry the group rule.
//!
//! `PFORTE_TEST_389=0` / `PFORTE_TEST_AD=0` (./tests/run without that server) skip a server's test
//! with a message; otherwise a missing server is a failure.

use std::path::Path;
use std::time::Duration;

use pforte_e2e::browser::Browser;
use pforte_e2e::gateway::{Gateway, GatewayBuilder};
use pforte_e2e::upstream::Upstream;
use serde_json::Value;

use super::admin_people::{admin, admin_config, fails, ok, ok_with, unique};

const MAIL: &str = "https://mail.gw.test";
const STAFF_ONLY: &str = "[[rule]]\napps = [\"mail\"]\nallow = [\"group:staff\"]\n";

/// The two directory servers besides OpenLDAP.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ds389,
    ActiveDirectory,
}

/// One server as the harness exported it (`PFORTE_TEST_389_*`, `PFORTE_TEST_AD_*`).
struct Server {
    kind: Kind,
    var: &'static str,
}

impl Server {
    /// The server, or `None` (with a message) when the harness was told to leave it out.
    fn from_env(kind: Kind) -> Option<Self> {
        let var = match kind {
            Kind::Ds389 => "389",
            Kind::ActiveDirectory => "AD",
        };
        if std::env::var(format!("PFORTE_TEST_{var}")).as_deref() == Ok("0") {
            eprintln!("skipped: PFORTE_TEST_{var}=0, the harness did not start this server");
            return None;
        }
        Some(Self { kind, var })
    }

    fn env(&self, name: &str) -> String {
        pforte_e2e::env(&format!("PFORTE_TEST_{}_{name}", self.var))
    }

    /// The `[directory]` section: the settings documented for this server in
    /// docs/configuration.md, then `extra` keys of `[directory.ldap]`.
    fn directory(&self, extra: &str) -> String {
        let base = self.env("BASE_DN");
        let common = format!(
            "[directory]\nbackend = \"ldap\"\n[directory.ldap]\nurls = [{url:?}]\nca_file = {ca:?}\n\
             bind_dn = {bind:?}\nbind_password = {{ file = {pw:?} }}\nbase_dn = {base:?}\n\
             connect_timeout = \"2s\"\noperation_timeout = \"5s\"\n",
            url = self.env("LDAPS_URL"),
            ca = self.env("CA"),
            bind = self.env("BIND_DN"),
            pw = self.env("BIND_PW_FILE"),
        );
        let kind = match self.kind {
            Kind::Ds389 => format!(
                "user_base = \"ou=people,{base}\"\ngroup_base = \"ou=groups,{base}\"\n\
                 group_lookup = \"member\"\ndisabled_filter = \"(nsAccountLock=TRUE)\"\n"
            ),
            Kind::ActiveDirectory => format!(
                "preset = \"active_directory\"\nuser_base = \"CN=Users,{base}\"\n\
                 group_base = \"CN=Users,{base}\"\n"
            ),
        };
        format!("{common}{kind}{extra}\n")
    }

    /// The `[directory.ldap.admin]` section for `pforte-admin`.
    fn admin_section(&self) -> String {
        format!(
            "\n[directory.ldap.admin]\nbind_dn = {dn:?}\nbind_password_file = {pw:?}\n",
            dn = self.env("ADMIN_DN"),
            pw = self.env("ADMIN_PW_FILE"),
        )
    }

    /// A gateway with the mail app for staff, this server as its directory (plus `extra`).
    fn gateway(&self, mail: &Upstream, extra: &str) -> GatewayBuilder {
        Gateway::builder()
            .app("mail", "mail.gw.test", &[mail.url()])
            .policy(STAFF_ONLY)
            .directory(self.directory(extra))
            .audit_log()
    }
}

/// The status of the page after logging in at mail: 200 let in, 403 refused by the policy, 401
/// login refused.
async fn mail_after_login(gw: &Gateway, user: &str, password: &str) -> u16 {
    let mut b = Browser::new(gw.https, gw.root());
    b.login(&format!("{MAIL}/"), user, password).await[0]
        .reply
        .status
}

/// The reasons of the gateway's audited login failures for `user`, in order.
fn failure_reasons(gw: &Gateway, user: &str) -> Vec<String> {
    gw.audit()
        .into_iter()
        .filter(|e| e["event"] == "login_failure" && e["username"] == user)
        .map(|e| e["reason"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Deletes the test's person with `pforte-admin` when the test ends, whatever happened.
struct Person<'c> {
    config: &'c Path,
    name: String,
}

impl Drop for Person<'_> {
    fn drop(&mut self) {
        let _ = admin(self.config, &["users", "delete", &self.name, "--yes"], "");
    }
}

/// Everything below, against one server.
async fn the_gateway_and_the_admin_tool_work_against(kind: Kind) {
    let Some(server) = Server::from_env(kind) else {
        return;
    };
    let mail = Upstream::start("mail").await;
    let gw = server
        .gateway(&mail, "")
        .redis(&pforte_e2e::unique_prefix("dirs"), "")
        .start()
        .await;

    // Login; the rule on staff lets in its direct member alice and carol through finance; bob is
    // in partners only.
    assert_eq!(mail_after_login(&gw, "alice", "alicepw").await, 200);
    assert_eq!(mail_after_login(&gw, "carol", "carolpw").await, 200);
    assert_eq!(mail_after_login(&gw, "bob", "bobpw").await, 403);
    assert_eq!(mail_after_login(&gw, "alice", "wrongpw").await, 401);
    // dave is disabled (389-DS: nsAccountLock, which also makes the server refuse his bind; AD:
    // userAccountControl 514): refused as disabled with his right password.
    assert_eq!(mail_after_login(&gw, "dave", "davepw").await, 401);
    assert_eq!(failure_reasons(&gw, "dave"), ["disabled"]);
    assert_eq!(failure_reasons(&gw, "alice"), ["wrong_password"]);

    // Without nesting carol is in finance only: the rule on staff refuses her, so the 200 above
    // came from the nested group.
    let flat = server
        .gateway(&mail, "nested_groups = false\nin_chain = false\n")
        .start()
        .await;
    assert_eq!(mail_after_login(&flat, "carol", "carolpw").await, 403);
    assert_eq!(mail_after_login(&flat, "alice", "alicepw").await, 200);

    if kind == Kind::ActiveDirectory {
        // The in-chain rule answers every level in one search: with max_depth = 1 the level-by-
        // level walk stops at finance (nesting too deep, the login fails), the in-chain search
        // still finds staff.
        let chain = server.gateway(&mail, "max_depth = 1\n").start().await;
        assert_eq!(mail_after_login(&chain, "carol", "carolpw").await, 200);
        let walk = server
            .gateway(&mail, "max_depth = 1\nin_chain = false\n")
            .start()
            .await;
        assert_ne!(mail_after_login(&walk, "carol", "carolpw").await, 200);
        let walk_deep = server.gateway(&mail, "in_chain = false\n").start().await;
        assert_eq!(mail_after_login(&walk_deep, "carol", "carolpw").await, 200);
    }

    // pforte-admin: a new person in finance (so in staff through it), with a password.
    let config = admin_config(&gw, "admin.toml", &server.admin_section());
    let name = unique("dirs");
    let _person = Person {
        config: &config,
        name: name.clone(),
    };
    let out = ok_with(
        &config,
        &[
            "users",
            "add",
            &name,
            "--name",
            "Tess Person",
            "--mail",
            "tess@example.org",
            "--group",
            "finance",
            "--password-stdin",
        ],
        "firstpw\n",
    );
    assert!(out.contains(&format!("added {name}")), "{out}");
    let shown: Value =
        serde_json::from_str(&ok(&config, &["users", "show", &name, "--json"])).unwrap();
    assert_eq!(
        shown["groups"],
        serde_json::json!(["finance", "staff"]),
        "{shown}"
    );
    assert_eq!(mail_after_login(&gw, &name, "firstpw").await, 200);

    // A new password: the old one is refused, the new one accepted (binds are never cached).
    ok_with(
        &config,
        &["users", "set-password", &name, "--password-stdin"],
        "secondpw\n",
    );
    assert_eq!(mail_after_login(&gw, &name, "firstpw").await, 401);
    let mut tess = Browser::new(gw.https, gw.root());
    let hops = tess.login(&format!("{MAIL}/"), &name, "secondpw").await;
    assert_eq!(hops[0].reply.status, 200);
    assert_eq!(tess.get(&format!("{MAIL}/")).await.status, 200);

    // Offboarding: disabling ends the live session in the Redis store at once; a gateway that has
    // not seen the account refuses the login as disabled.
    let out = ok(&config, &["users", "disable", &name]);
    assert!(out.contains("session(s)"), "{out}");
    let ended = pforte_e2e::eventually(Duration::from_secs(2), async || {
        tess.get(&format!("{MAIL}/")).await.status == 302
    })
    .await;
    assert!(ended, "the disabled person's session survived");
    fails(&config, &["users", "disable", &name], 2, "already disabled");
    let fresh = server.gateway(&mail, "").start().await;
    assert_eq!(mail_after_login(&fresh, &name, "secondpw").await, 401);
    assert_eq!(failure_reasons(&fresh, &name), ["disabled"]);

    // Enabled again, then deleted.
    ok(&config, &["users", "enable", &name]);
    let back = server.gateway(&mail, "").start().await;
    assert_eq!(mail_after_login(&back, &name, "secondpw").await, 200);
    ok(&config, &["users", "delete", &name, "--yes"]);
    fails(&config, &["users", "show", &name], 2, "no user");
}

#[tokio::test]
async fn ds389_logins_groups_disabled_accounts_passwords_and_offboarding() {
    the_gateway_and_the_admin_tool_work_against(Kind::Ds389).await;
}

#[tokio::test]
async fn active_directory_logins_groups_in_chain_disabled_accounts_passwords_and_offboarding() {
    the_gateway_and_the_admin_tool_work_against(Kind::ActiveDirectory).await;
}
