//! Second factors on the real slapd of the test services (deploy/dev/services.sh), which loads
//! deploy/ldap/pforte-schema.ldif and gives the service account write access to the factor
//! attributes and the pforteAccount class of people, and to nothing else.
//!
//! Each test adds its own people (`t-factors-<unique>`, without the pforteAccount class) as the
//! rootdn and deletes them when it ends, whatever happened; the demo people are only read.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
// Unique names from the wall clock, as the other suites make them.
#![allow(clippy::disallowed_methods)]

use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use pforte_directory::{
    Directory, DirectoryError, FactorKind, Field, InputError, LdapDirectory, LdapSettings,
    MAX_FACTOR_VALUE_BYTES, MAX_FACTORS_PER_KIND, Secret, StoredFactors,
};

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run under ./tests/run (or source deploy/dev/services.sh env)")
    })
}

fn base() -> String {
    var("PFORTE_TEST_LDAP_BASE_DN")
}

fn password(file_var: &str) -> String {
    std::fs::read_to_string(var(file_var))
        .unwrap()
        .trim_end()
        .to_owned()
}

/// The gateway's view: bound as the service account, the demo layout.
fn directory() -> Directory {
    let mut s = LdapSettings {
        urls: vec![var("PFORTE_TEST_LDAP_URL")],
        bind_dn: var("PFORTE_TEST_LDAP_BIND_DN"),
        bind_password: Secret::new(password("PFORTE_TEST_LDAP_BIND_PW_FILE")),
        base_dn: base(),
        user_base: Some(format!("ou=people,{}", base())),
        disabled_filter: Some("(employeeType=disabled)".into()),
        connect_timeout: Duration::from_secs(2),
        operation_timeout: Duration::from_secs(5),
        ..LdapSettings::default()
    };
    s.groups.base = Some(format!("ou=groups,{}", base()));
    Directory::Ldap(LdapDirectory::new(s).unwrap())
}

/// An ldap-utils command bound as `dn` with `pw`, LDIF on stdin.
fn ldap_tool(tool: &str, dn: &str, pw: &str, args: &[&str], ldif: &str) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(tool)
        .args(["-x", "-H", &var("PFORTE_TEST_LDAP_URL"), "-D", dn, "-w", pw])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(ldif.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn as_root(tool: &str, args: &[&str], ldif: &str) -> Output {
    let out = ldap_tool(
        tool,
        &var("PFORTE_TEST_LDAP_ADMIN_DN"),
        &password("PFORTE_TEST_LDAP_ADMIN_PW_FILE"),
        args,
        ldif,
    );
    assert!(out.status.success(), "{tool} {args:?}: {out:?}");
    out
}

/// A modify as the gateway's service account; the exit code is the LDAP result code.
fn modify_as_service(ldif: &str) -> i32 {
    let out = ldap_tool(
        "ldapmodify",
        &var("PFORTE_TEST_LDAP_BIND_DN"),
        &password("PFORTE_TEST_LDAP_BIND_PW_FILE"),
        &[],
        ldif,
    );
    out.status.code().unwrap()
}

/// A person added for one test and deleted when it ends.
struct Person {
    name: String,
    dn: String,
}

impl Person {
    fn new(label: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("t-factors-{label}-{nanos:x}{:x}", std::process::id());
        let dn = format!("uid={name},ou=people,{}", base());
        as_root(
            "ldapadd",
            &[],
            &format!(
                "dn: {dn}\nobjectClass: inetOrgPerson\nuid: {name}\ncn: T Factors\nsn: Factors\n"
            ),
        );
        Self { name, dn }
    }

    /// The entry's object classes and factor values as the rootdn reads them.
    fn read(&self, attribute: &str) -> Vec<String> {
        let out = as_root(
            "ldapsearch",
            &[
                "-LLL",
                "-o",
                "ldif-wrap=no",
                "-b",
                &self.dn,
                "-s",
                "base",
                attribute,
            ],
            "",
        );
        let prefix = format!("{attribute}: ");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
            .collect()
    }
}

impl Drop for Person {
    fn drop(&mut self) {
        let _ = Command::new("ldapdelete")
            .args(["-x", "-H", &var("PFORTE_TEST_LDAP_URL")])
            .args(["-D", &var("PFORTE_TEST_LDAP_ADMIN_DN")])
            .args(["-w", &password("PFORTE_TEST_LDAP_ADMIN_PW_FILE"), &self.dn])
            .stderr(Stdio::null())
            .status();
    }
}

fn invalid(result: Result<(), DirectoryError>) -> InputError {
    match result {
        Err(DirectoryError::InvalidInput(e)) => e,
        other => panic!("expected refused input, got {other:?}"),
    }
}

#[tokio::test]
async fn factors_are_added_replaced_and_removed_by_the_service_account() {
    let p = Person::new("cycle");
    let d = directory();
    assert_eq!(
        d.factors(&p.name).await.unwrap(),
        Some(StoredFactors::default())
    );
    assert!(!p.read("objectClass").contains(&"pforteAccount".to_owned()));

    d.add_factor(&p.name, FactorKind::Totp, "v1.sealed+/=")
        .await
        .unwrap();
    assert!(
        p.read("objectClass").contains(&"pforteAccount".to_owned()),
        "the class came with the first value"
    );
    d.add_factor(&p.name, FactorKind::Totp, "v1.sealed+/=")
        .await
        .unwrap();
    for code in ["r1", "r2", "r3"] {
        d.add_factor(&p.name, FactorKind::RecoveryCode, code)
            .await
            .unwrap();
    }
    d.add_factor(&p.name, FactorKind::Passkey, "Key-Ä")
        .await
        .unwrap();
    let f = d.factors(&p.name.to_uppercase()).await.unwrap().unwrap();
    assert_eq!(
        f.totp,
        ["v1.sealed+/="],
        "a value held already is kept once"
    );
    assert_eq!(f.passkeys, ["Key-Ä"]);
    let mut codes = f.recovery_codes.clone();
    codes.sort();
    assert_eq!(codes, ["r1", "r2", "r3"]);

    assert!(
        d.replace_factor(&p.name, FactorKind::RecoveryCode, "r1", "r4")
            .await
            .unwrap()
    );
    assert!(
        !d.replace_factor(&p.name, FactorKind::RecoveryCode, "r1", "r5")
            .await
            .unwrap(),
        "r1 is gone: nothing replaced, nothing added"
    );
    assert!(
        !d.remove_factor(&p.name, FactorKind::RecoveryCode, "R2")
            .await
            .unwrap(),
        "values compare byte for byte"
    );
    assert!(
        !d.remove_factor(&p.name, FactorKind::Totp, "r2")
            .await
            .unwrap(),
        "another kind's value does not count"
    );
    assert!(
        d.remove_factor(&p.name, FactorKind::RecoveryCode, "r2")
            .await
            .unwrap()
    );
    assert!(
        !d.remove_factor(&p.name, FactorKind::RecoveryCode, "r2")
            .await
            .unwrap()
    );
    let mut left = p.read("pforteRecoveryCode");
    left.sort();
    assert_eq!(left, ["r3", "r4"]);
    assert!(
        d.remove_factor(&p.name, FactorKind::Totp, "v1.sealed+/=")
            .await
            .unwrap()
    );
    assert!(d.factors(&p.name).await.unwrap().unwrap().totp.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_removals_of_one_code_exactly_one_succeeds() {
    let p = Person::new("race");
    let d = directory();
    for code in ["r1", "r2", "r3"] {
        d.add_factor(&p.name, FactorKind::RecoveryCode, code)
            .await
            .unwrap();
    }
    // Eight gateways, each with its own connections, use the same code at once.
    for round in ["r2", "r3"] {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let replica = Arc::new(directory());
                let name = p.name.clone();
                tokio::spawn(async move {
                    replica
                        .remove_factor(&name, FactorKind::RecoveryCode, round)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut won = 0;
        for task in tasks {
            won += usize::from(task.await.unwrap());
        }
        assert_eq!(won, 1, "{round}");
    }
    assert_eq!(p.read("pforteRecoveryCode"), ["r1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_adds_all_land_and_the_class_is_added_once() {
    let p = Person::new("adds");
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let replica = directory();
            let name = p.name.clone();
            tokio::spawn(async move {
                replica
                    .add_factor(&name, FactorKind::Passkey, &format!("key-{i}"))
                    .await
                    .unwrap();
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let mut keys = p.read("pforteWebAuthn");
    keys.sort();
    let expected: Vec<String> = (0..6).map(|i| format!("key-{i}")).collect();
    assert_eq!(keys, expected);
    let classes = p.read("objectClass");
    assert_eq!(
        classes.iter().filter(|c| *c == "pforteAccount").count(),
        1,
        "{classes:?}"
    );
}

#[tokio::test]
async fn the_service_account_may_write_the_factors_and_nothing_else() {
    let p = Person::new("acl");
    let dn = &p.dn;
    let change = |body: &str| modify_as_service(&format!("dn: {dn}\nchangetype: modify\n{body}\n"));
    const INSUFFICIENT_ACCESS: i32 = 50;
    assert_eq!(
        change("add: objectClass\nobjectClass: pforteAccount\n-\nadd: pforteTotp\npforteTotp: t"),
        0
    );
    assert_eq!(
        change("replace: mail\nmail: attacker@example.net"),
        INSUFFICIENT_ACCESS
    );
    assert_eq!(change("replace: cn\ncn: Someone Else"), INSUFFICIENT_ACCESS);
    assert_eq!(
        change("add: objectClass\nobjectClass: extensibleObject"),
        INSUFFICIENT_ACCESS,
        "only the pforteAccount value of objectClass"
    );
    assert_eq!(
        change("add: userPassword\nuserPassword: x"),
        INSUFFICIENT_ACCESS
    );
    let group = format!("cn=staff,ou=groups,{}", base());
    assert_eq!(
        modify_as_service(&format!(
            "dn: {group}\nchangetype: modify\nadd: objectClass\nobjectClass: pforteAccount\n"
        )),
        INSUFFICIENT_ACCESS,
        "people only"
    );
    assert!(p.read("mail").is_empty() && p.read("userPassword").is_empty());

    // Other people (here alice, bound as herself) see the entry but not its factors.
    let out = ldap_tool(
        "ldapsearch",
        &format!("uid=alice,ou=people,{}", base()),
        "alicepw",
        &["-LLL", "-b", dn, "-s", "base", "cn", "pforteTotp"],
        "",
    );
    let seen = String::from_utf8(out.stdout).unwrap();
    assert!(seen.contains("cn: T Factors"), "{seen}");
    assert!(!seen.contains("pforteTotp"), "{seen}");
    assert_eq!(
        directory().factors(&p.name).await.unwrap().unwrap().totp,
        ["t"]
    );
}

#[tokio::test]
async fn bad_input_unknown_and_disabled_accounts_are_refused_before_any_write() {
    let p = Person::new("input");
    let d = directory();
    let field = Field::Factor(FactorKind::Passkey);
    assert_eq!(
        invalid(d.add_factor(&p.name, FactorKind::Passkey, "").await),
        InputError::Empty(field)
    );
    let long = "x".repeat(MAX_FACTOR_VALUE_BYTES + 1);
    assert_eq!(
        invalid(d.add_factor(&p.name, FactorKind::Passkey, &long).await),
        InputError::TooLong {
            field,
            max: MAX_FACTOR_VALUE_BYTES
        }
    );
    assert_eq!(
        invalid(d.add_factor(&p.name, FactorKind::Passkey, "a\0b").await),
        InputError::ControlCharacter(field)
    );
    assert!(matches!(
        d.replace_factor(&p.name, FactorKind::Passkey, "a", &long)
            .await,
        Err(DirectoryError::InvalidInput(InputError::TooLong { .. }))
    ));
    assert!(p.read("objectClass").len() == 1, "nothing written");

    for i in 0..MAX_FACTORS_PER_KIND {
        d.add_factor(&p.name, FactorKind::Passkey, &format!("k{i}"))
            .await
            .unwrap();
    }
    assert_eq!(
        invalid(d.add_factor(&p.name, FactorKind::Passkey, "one more").await),
        InputError::TooMany {
            field,
            max: MAX_FACTORS_PER_KIND
        }
    );
    assert_eq!(p.read("pforteWebAuthn").len(), MAX_FACTORS_PER_KIND);

    assert_eq!(d.factors("dave").await.unwrap(), None, "disabled");
    assert_eq!(d.factors("mallory").await.unwrap(), None);
    assert_eq!(d.factors("*").await.unwrap(), None, "the filter is escaped");
    for name in ["dave", "mallory", "*"] {
        assert_eq!(
            d.add_factor(name, FactorKind::Totp, "t").await,
            Err(DirectoryError::UnknownAccount(name.into()))
        );
        assert_eq!(
            d.remove_factor(name, FactorKind::Totp, "t").await,
            Err(DirectoryError::UnknownAccount(name.into()))
        );
    }
    assert!(matches!(
        d.factors("").await,
        Err(DirectoryError::InvalidInput(_))
    ));
}
