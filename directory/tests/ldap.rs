//! The LDAP backend against the real slapd of the test services (deploy/dev/services.sh), with
//! the demo directory of deploy/ldap/README.md. Read-only: nothing here writes to the directory.
//! Only `failover_while_ldap2_stops_and_returns` touches the second server (ldap2).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
// These tests wait for a real slapd and measure real time.
#![allow(clippy::disallowed_methods)]

use std::process::Command;
use std::time::{Duration, Instant};

use pforte_directory::{
    AuthError, Directory, DirectoryError, FailureReason, GroupLookup, LdapDirectory, LdapSettings,
    Secret, ServerStatus, UserRecord,
};

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run under ./tests/run (or source deploy/dev/services.sh env)")
    })
}

fn base() -> String {
    var("PFORTE_TEST_LDAP_BASE_DN")
}

/// The demo directory's layout, as an operator would configure it for OpenLDAP.
fn settings(urls: &[String]) -> LdapSettings {
    let password = std::fs::read_to_string(var("PFORTE_TEST_LDAP_BIND_PW_FILE")).unwrap();
    let mut s = LdapSettings {
        urls: urls.to_vec(),
        ca_file: Some(var("PFORTE_TEST_LDAP_CA").into()),
        bind_dn: var("PFORTE_TEST_LDAP_BIND_DN"),
        bind_password: Secret::new(password.trim_end()),
        base_dn: base(),
        user_base: Some(format!("ou=people,{}", base())),
        disabled_filter: Some("(employeeType=disabled)".into()),
        connect_timeout: Duration::from_secs(2),
        operation_timeout: Duration::from_secs(5),
        retry_interval: Duration::from_secs(1),
        ..LdapSettings::default()
    };
    s.groups.base = Some(format!("ou=groups,{}", base()));
    s
}

fn directory(s: LdapSettings) -> Directory {
    Directory::Ldap(LdapDirectory::new(s).unwrap())
}

fn primary() -> Directory {
    directory(settings(&[var("PFORTE_TEST_LDAP_URL")]))
}

fn refusal(result: Result<UserRecord, AuthError>) -> FailureReason {
    match result {
        Err(AuthError::InvalidCredentials(reason)) => reason,
        other => panic!("expected invalid credentials, got {other:?}"),
    }
}

/// A loopback port where nothing listens.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("ldap://127.0.0.1:{port}")
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

#[tokio::test]
async fn alice_logs_in_with_her_groups_and_a_uuid_subject() {
    let alice = primary().authenticate("alice", "alicepw").await.unwrap();
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.display_name, "Alice Liddell");
    assert_eq!(alice.email.as_deref(), Some("alice@example.org"));
    assert_eq!(alice.groups, ["admins", "staff"]);
    assert!(is_uuid(&alice.subject), "entryUUID: {}", alice.subject);
}

#[tokio::test]
async fn nested_groups_give_carol_staff_unless_nesting_is_off() {
    let carol = primary().authenticate("carol", "carolpw").await.unwrap();
    assert_eq!(carol.groups, ["finance", "staff"]);

    let mut direct = settings(&[var("PFORTE_TEST_LDAP_URL")]);
    direct.groups.nested = false;
    let carol = directory(direct).lookup("carol").await.unwrap().unwrap();
    assert_eq!(carol.groups, ["finance"]);
}

#[tokio::test]
async fn member_search_mode_finds_the_same_groups() {
    let mut s = settings(&[var("PFORTE_TEST_LDAP_URL")]);
    s.groups.lookup = GroupLookup::Member;
    let d = directory(s);
    let erin = d.authenticate("erin", "erinpw").await.unwrap();
    assert_eq!(erin.groups, ["it", "staff"]);
    let alice = d.lookup("alice").await.unwrap().unwrap();
    assert_eq!(alice.groups, ["admins", "staff"]);
}

#[tokio::test]
async fn refusals_carry_their_reason() {
    let d = primary();
    assert_eq!(
        refusal(d.authenticate("dave", "davepw").await),
        FailureReason::Disabled
    );
    assert_eq!(
        refusal(d.authenticate("alice", "bobpw").await),
        FailureReason::WrongPassword
    );
    assert_eq!(
        refusal(d.authenticate("mallory", "x").await),
        FailureReason::UnknownUser
    );
    assert_eq!(
        d.lookup("dave").await.unwrap(),
        None,
        "disabled accounts are not found"
    );
}

#[tokio::test]
async fn the_password_check_is_never_cached() {
    let d = primary();
    assert!(d.authenticate("erin", "erinpw").await.is_ok());
    assert_eq!(
        refusal(d.authenticate("erin", "alicepw").await),
        FailureReason::WrongPassword
    );
    assert!(d.authenticate("erin", "erinpw").await.is_ok());
}

#[tokio::test]
async fn many_concurrent_logins_share_small_pools() {
    let mut s = settings(&[var("PFORTE_TEST_LDAP_URL")]);
    s.pool_size = 1;
    s.bind_pool_size = 2;
    let d = std::sync::Arc::new(directory(s));
    let people = [("alice", "alicepw"), ("bob", "bobpw"), ("carol", "carolpw")];
    let logins: Vec<_> = (0..40)
        .map(|i| {
            let d = std::sync::Arc::clone(&d);
            let (name, password) = people[i % 3];
            tokio::spawn(async move { d.authenticate(name, password).await.map(|u| u.username) })
        })
        .collect();
    for (i, login) in logins.into_iter().enumerate() {
        assert_eq!(login.await.unwrap().unwrap(), people[i % 3].0);
    }
}

#[tokio::test]
async fn an_empty_password_never_becomes_an_unauthenticated_bind() {
    let d = primary();
    for username in ["alice", "mallory"] {
        let result = d.authenticate(username, "").await;
        assert!(matches!(result, Err(AuthError::Malformed(_))), "{result:?}");
    }
}

#[tokio::test]
async fn filter_injection_never_authenticates_nor_breaks_the_directory() {
    let d = primary();
    for username in [
        "*",
        ")(uid=*",
        "alice)(|(uid=*",
        "alice*",
        "*)(uid=alice",
        "al\\2aice",
    ] {
        assert_eq!(
            refusal(d.authenticate(username, "alicepw").await),
            FailureReason::UnknownUser,
            "{username:?}"
        );
        assert_eq!(d.lookup(username).await.unwrap(), None, "{username:?}");
    }
    for username in ["alice\0", "\0", "alice\0)(uid=*"] {
        let result = d.authenticate(username, "alicepw").await;
        assert!(
            matches!(result, Err(AuthError::Malformed(_))),
            "{username:?}: {result:?}"
        );
    }
}

#[tokio::test]
async fn usernames_match_without_regard_to_case_and_come_back_canonical() {
    let bob = primary().authenticate("BOB", "bobpw").await.unwrap();
    assert_eq!(bob.username, "bob");
    assert_eq!(bob.groups, ["partners"]);
}

#[tokio::test]
async fn ldaps_with_the_ca_file() {
    let d = directory(settings(&[var("PFORTE_TEST_LDAPS_URL")]));
    let alice = d.authenticate("alice", "alicepw").await.unwrap();
    assert_eq!(alice.groups, ["admins", "staff"]);
}

#[tokio::test]
async fn starttls_with_the_ca_file() {
    let mut s = settings(&[var("PFORTE_TEST_LDAP_URL")]);
    s.starttls = true;
    let erin = directory(s).authenticate("erin", "erinpw").await.unwrap();
    assert_eq!(erin.username, "erin");
}

#[tokio::test]
async fn ldaps_with_a_ca_that_did_not_sign_the_server_is_unavailable() {
    let mut s = settings(&[var("PFORTE_TEST_LDAPS_URL")]);
    s.ca_file = Some(std::env::temp_dir().join("pforte-no-such-ca.pem"));
    assert!(
        LdapDirectory::new(s.clone()).is_err(),
        "a missing CA file is a setup error"
    );
    // The public CAs of the system: valid roots, none of which signed the test server.
    s.ca_file = Some("/etc/ssl/certs/ca-certificates.crt".into());
    let result = directory(s).authenticate("alice", "alicepw").await;
    assert!(
        matches!(result, Err(AuthError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_dead_first_server_fails_over_to_the_next() {
    let d = directory(settings(&[dead_url(), var("PFORTE_TEST_LDAP_URL")]));
    let alice = d.authenticate("alice", "alicepw").await.unwrap();
    assert_eq!(alice.username, "alice");
    let health = d.health().await;
    assert!(health.is_ready());
    assert_eq!(health.servers[0].status, ServerStatus::Down);
    assert!(health.servers[0].last_error.is_some());
    assert_eq!(health.servers[1].status, ServerStatus::Up);
}

#[tokio::test]
async fn all_servers_dead_is_unavailable() {
    let d = directory(settings(&[dead_url(), dead_url()]));
    let result = d.authenticate("alice", "alicepw").await;
    assert!(
        matches!(
            result,
            Err(AuthError::Unavailable(
                DirectoryError::AllServersDown { .. }
            ))
        ),
        "{result:?}"
    );
    assert!(matches!(
        d.lookup("alice").await,
        Err(DirectoryError::AllServersDown { .. })
    ));
    assert!(!d.health().await.is_ready());
}

#[tokio::test]
async fn a_wrong_service_password_is_unavailable_not_a_wrong_password() {
    let mut s = settings(&[var("PFORTE_TEST_LDAP_URL")]);
    s.bind_password = Secret::new("not-the-service-password");
    let result = directory(s).authenticate("alice", "alicepw").await;
    assert!(
        matches!(
            result,
            Err(AuthError::Unavailable(DirectoryError::ServiceBind { .. }))
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn users_lists_every_enabled_user_with_groups() {
    let users = primary().users().await.unwrap();
    let summary: Vec<(&str, Vec<&str>)> = users
        .iter()
        .map(|u| {
            (
                u.username.as_str(),
                u.groups.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("alice", vec!["admins", "staff"]),
            ("bob", vec!["partners"]),
            ("carol", vec!["finance", "staff"]),
            ("erin", vec!["it", "staff"]),
        ]
    );
    let looked_up = primary().lookup("carol").await.unwrap().unwrap();
    assert_eq!(
        users.iter().find(|u| u.username == "carol"),
        Some(&looked_up)
    );
}

#[tokio::test]
async fn users_beyond_the_limit_is_an_error_not_a_partial_list() {
    let mut s = settings(&[var("PFORTE_TEST_LDAP_URL")]);
    s.users_limit = 2;
    let result = directory(s).users().await;
    assert_eq!(result, Err(DirectoryError::TooManyUsers { limit: 2 }));
}

/// Restarts ldap2 when dropped, so a failing assertion does not leave it stopped.
struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        services("start-ldap");
    }
}

fn services(command: &str) {
    let status = Command::new(var("PFORTE_TEST_SERVICES_SCRIPT"))
        .args([command, &var("PFORTE_TEST_SERVICES_DIR"), "ldap2"])
        .status()
        .unwrap();
    assert!(status.success(), "services.sh {command} ldap2 failed");
}

#[tokio::test]
async fn failover_while_ldap2_stops_and_returns() {
    let d = directory(settings(&[
        var("PFORTE_TEST_LDAP2_URL"),
        var("PFORTE_TEST_LDAP_URL"),
    ]));
    assert_eq!(
        d.authenticate("alice", "alicepw").await.unwrap().username,
        "alice"
    );
    assert_eq!(d.health().await.servers[0].status, ServerStatus::Up);

    let restart = Restart;
    services("stop-ldap");
    for (name, password) in [("alice", "alicepw"), ("bob", "bobpw"), ("carol", "carolpw")] {
        let user = d.authenticate(name, password).await.unwrap();
        assert_eq!(user.username, name, "logins go on while ldap2 is down");
    }
    assert_eq!(
        refusal(d.authenticate("alice", "wrong").await),
        FailureReason::WrongPassword
    );
    assert_eq!(d.health().await.servers[0].status, ServerStatus::Down);

    drop(restart);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        assert_eq!(
            d.authenticate("erin", "erinpw").await.unwrap().username,
            "erin"
        );
        if d.health().await.servers[0].status == ServerStatus::Up {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "ldap2 is used again within 15 s of its return"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_verified_mail_address_finds_one_enabled_person() {
    let d = primary();
    let alice = d.find_by_mail("alice@example.org").await.unwrap().unwrap();
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.groups, ["admins", "staff"]);
    assert_eq!(d.find_by_mail("nobody@example.org").await.unwrap(), None);
    // An address is a value, never a filter: a wildcard finds nobody, and nothing breaks.
    assert_eq!(d.find_by_mail("*").await.unwrap(), None);
    assert_eq!(
        d.find_by_mail("alice@example.org)(uid=*").await.unwrap(),
        None
    );
    assert_eq!(d.find_by_mail("").await.unwrap(), None);
}
