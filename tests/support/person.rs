//! A person of its own for a test, in the harness's slapd: added as the rootdn with a password,
//! deleted when the test ends (pass or fail), so tests that enrol second factors never meet the
//! demo people or each other.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::env;

/// A person in the test directory, deleted on drop.
pub struct LdapPerson {
    /// The login name.
    pub username: String,
    /// The password.
    pub password: String,
    dn: String,
}

fn admin_password() -> String {
    std::fs::read_to_string(env("PFORTE_TEST_LDAP_ADMIN_PW_FILE"))
        .unwrap()
        .trim_end()
        .to_owned()
}

/// Runs `tool` (ldapadd, ldapmodify, ldapdelete) as the test directory's rootdn with `ldif` on
/// its standard input.
pub fn ldap(tool: &str, ldif: &str) -> std::process::Output {
    let mut child = Command::new(tool)
        .args(["-x", "-H", &env("PFORTE_TEST_LDAP_URL"), "-D"])
        .arg(env("PFORTE_TEST_LDAP_ADMIN_DN"))
        .args(["-w", &admin_password()])
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

impl LdapPerson {
    /// Adds `t-<label>-<unique>` with a password of its own.
    pub fn add(label: &str) -> Self {
        let unique = crate::unique_prefix(label)
            .trim_end_matches(':')
            .replace("pforte-e2e-", "t-");
        let username = unique
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect::<String>();
        let dn = format!(
            "uid={username},ou=people,{}",
            env("PFORTE_TEST_LDAP_BASE_DN")
        );
        let password = format!("{username}-pw");
        let ldif = format!(
            "dn: {dn}\nobjectClass: inetOrgPerson\nuid: {username}\ncn: Test {label}\nsn: {label}\nuserPassword: {password}\n"
        );
        let out = ldap("ldapadd", &ldif);
        assert!(out.status.success(), "ldapadd {dn}: {out:?}");
        Self {
            username,
            password,
            dn,
        }
    }
}

impl Drop for LdapPerson {
    fn drop(&mut self) {
        let _ = ldap("ldapdelete", &format!("{}\n", self.dn));
    }
}
