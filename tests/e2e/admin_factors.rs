//! `pforte-admin users mfa list|reset` and the second factors in `users show`, against the real
//! slapd (whose schema has the pforteAccount class) and a people file. The tool shows counts,
//! never a value; a reset asks first, removes everything in one change and is audited; a
//! refused reset changes nothing.
//!
//! Like `admin_people`, the LDAP test adds only its own person (`t-mfa-<unique>`) and removes it
//! when it ends; the factor values are written with the rootdn, as the gateway would have
//! written them with its service account.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use pforte_e2e::gateway::{DEMO_PEOPLE, Gateway};
use serde_json::{Value, json as j};

use super::admin_people::{Cleanup, Ldap, admin_config, fails, json, ok, unique};

/// Values that must never appear in the tool's output.
const SECRET: &str = "SEALED-SECRET";

impl Ldap {
    /// Applies an LDIF change as the rootdn.
    fn modify(&self, ldif: &str) {
        let mut child = Command::new("ldapmodify")
            .args([
                "-x",
                "-H",
                &self.url,
                "-D",
                &self.admin_dn,
                "-w",
                &self.admin_pw,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(ldif.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "ldapmodify:\n{ldif}");
    }

    /// The values of `attribute` of the entry `dn`, as the rootdn reads them.
    fn values(&self, dn: &str, attribute: &str) -> Vec<String> {
        let out = Command::new("ldapsearch")
            .args(["-LLL", "-x", "-o", "ldif-wrap=no", "-H", &self.url])
            .args(["-D", &self.admin_dn, "-w", &self.admin_pw])
            .args(["-b", dn, "-s", "base", attribute])
            .output()
            .unwrap();
        assert!(out.status.success(), "ldapsearch: {out:?}");
        let prefix = format!("{attribute}: ");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
            .collect()
    }
}

/// The `mfa list --json` row of `user`, if listed.
fn listed(config: &Path, args: &[&str], user: &str) -> Option<Value> {
    let rows = json(config, args);
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["user"] == user)
        .cloned()
}

/// The audit events of the tool (those with an admin) with their user.
fn audited(gw: &Gateway) -> Vec<(String, String)> {
    gw.audit()
        .into_iter()
        .filter(|e| !e["by"].as_str().unwrap_or("").is_empty())
        .map(|e| {
            (
                e["event"].as_str().unwrap_or("").to_owned(),
                e["user"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn ldap_factors_are_counted_listed_and_reset_by_the_admin() {
    let ldap = Ldap::new();
    let user = unique("mfa");
    let dn = format!("uid={user},ou=people,{}", ldap.base);
    let _cleanup = Cleanup {
        ldap: &ldap,
        dns: vec![dn.clone()],
    };
    let ldap_url = [ldap.url.clone()];
    let gw = Gateway::builder().ldap(&ldap_url).audit_log().start().await;
    let config = admin_config(
        &gw,
        "admin.toml",
        &ldap.admin_section(
            &ldap.admin_dn,
            &pforte_e2e::env("PFORTE_TEST_LDAP_ADMIN_PW_FILE"),
        ),
    );
    ok(&config, &["users", "add", &user, "--name", "Mfa Person"]);
    let shown = json(&gw.config_path, &["users", "show", &user, "--json"]);
    assert_eq!(
        shown["factors"],
        j!({"totp": 0, "passkeys": 0, "recovery_codes": 0})
    );
    assert!(
        ok(&config, &["users", "mfa", "reset", &user]).contains("has no second factors"),
        "nothing to reset, nothing asked"
    );
    assert_eq!(
        listed(&config, &["users", "mfa", "list", "--json"], &user),
        None
    );

    ldap.modify(&format!(
        "dn: {dn}\nchangetype: modify\nadd: objectClass\nobjectClass: pforteAccount\n-\n\
         add: pforteTotp\npforteTotp: {SECRET}-t\n-\n\
         add: pforteRecoveryCode\npforteRecoveryCode: {SECRET}-r1\npforteRecoveryCode: {SECRET}-r2\n"
    ));

    // Read with the gateway's own account: counts, never a value.
    let shown = ok(&gw.config_path, &["users", "show", &user]);
    assert!(
        squeezed(&shown).contains("factors: 1 TOTP, 2 recovery codes"),
        "{shown}"
    );
    let shown = json(&gw.config_path, &["users", "show", &user, "--json"]);
    assert_eq!(
        shown["factors"],
        j!({"totp": 1, "passkeys": 0, "recovery_codes": 2})
    );
    let row = listed(&gw.config_path, &["users", "mfa", "list", "--json"], &user).unwrap();
    assert_eq!(
        row,
        j!({"user": user, "name": "Mfa Person", "totp": 1, "passkeys": 0, "recovery_codes": 2})
    );
    let all = json(
        &gw.config_path,
        &["users", "mfa", "list", "--all", "--json"],
    );
    assert!(
        all.as_array().unwrap().iter().any(|r| r["user"] == "bob"),
        "--all lists people without factors: {all}"
    );
    let table = ok(&gw.config_path, &["users", "mfa", "list"]);
    assert!(table.starts_with("USER"), "{table}");
    assert!(table.contains(&user), "{table}");
    for out in [shown.to_string(), all.to_string(), table] {
        assert!(!out.contains(SECRET), "a factor value was shown: {out}");
    }

    // Refused: no terminal and no --yes, an unknown person. Nothing changes.
    fails(&config, &["users", "mfa", "reset", &user], 2, "--yes");
    fails(
        &config,
        &["users", "mfa", "reset", "nobody", "--yes"],
        2,
        "no user \"nobody\"",
    );
    assert_eq!(ldap.values(&dn, "pforteRecoveryCode").len(), 2);

    let out = ok(&config, &["users", "mfa", "reset", &user, "--yes"]);
    assert!(
        out.contains(&format!("removed 1 TOTP, 2 recovery codes of {user}")),
        "{out}"
    );
    assert!(!out.contains(SECRET), "{out}");
    for attribute in ["pforteTotp", "pforteWebAuthn", "pforteRecoveryCode"] {
        assert!(ldap.values(&dn, attribute).is_empty(), "{attribute} left");
    }
    assert_eq!(
        json(&gw.config_path, &["users", "show", &user, "--json"])["factors"],
        j!({"totp": 0, "passkeys": 0, "recovery_codes": 0})
    );
    let events = audited(&gw);
    assert_eq!(
        events
            .iter()
            .filter(|(event, who)| event == "factors_reset" && *who == user)
            .count(),
        1,
        "one reset audited, the refused ones not: {events:?}"
    );
}

#[tokio::test]
async fn people_file_factors_are_counted_listed_and_reset_in_place() {
    let gw = Gateway::builder().demo_people().audit_log().start().await;
    let config = gw.config_path.clone();
    let file = gw.path("people.toml");
    let bob_groups = "groups = [\"partners\"]\n";
    assert_eq!(DEMO_PEOPLE.matches(bob_groups).count(), 1);
    let with_factors = DEMO_PEOPLE.replace(
        bob_groups,
        &format!(
            "{bob_groups}passkeys = [\"{SECRET}-k1\", \"{SECRET}-k2\"]\n\
             recovery_codes = [\"{SECRET}-r1\"]\n"
        ),
    );
    std::fs::write(&file, &with_factors).unwrap();

    let shown = ok(&config, &["users", "show", "bob"]);
    assert!(
        squeezed(&shown).contains("factors: 2 passkeys, 1 recovery code"),
        "{shown}"
    );
    let list = json(&config, &["users", "mfa", "list", "--json"]);
    assert_eq!(
        list,
        j!([{"user": "bob", "name": "Bob Builder", "totp": 0, "passkeys": 2, "recovery_codes": 1}])
    );
    assert!(!shown.contains(SECRET) && !list.to_string().contains(SECRET));

    fails(&config, &["users", "mfa", "reset", "bob"], 2, "--yes");
    fails(
        &config,
        &["users", "mfa", "reset", "nobody", "--yes"],
        2,
        "no user",
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), with_factors);

    let out = ok(&config, &["users", "mfa", "reset", "bob", "--yes"]);
    assert!(
        out.contains("removed 2 passkeys, 1 recovery code of bob"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        DEMO_PEOPLE,
        "only the factor keys went; comments and layout stay"
    );
    assert_eq!(json(&config, &["users", "mfa", "list", "--json"]), j!([]));
    assert!(
        audited(&gw).contains(&("factors_reset".to_owned(), "bob".to_owned())),
        "{:?}",
        gw.audit()
    );
}

/// The text with every run of spaces as one, so a check does not depend on column widths.
fn squeezed(text: &str) -> String {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}
