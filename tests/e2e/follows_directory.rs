//! Access follows the directory: a person moved out of a group or disabled loses the apps and
//! the tokens within the refresh interval, a refresh or userinfo the rules no longer allow is
//! refused (the refresh family revoked), and a directory outage keeps access for the grace only.
//!
//! The gateways run in this process with a manual clock (tests/support/in_process.rs) against
//! the harness's slapd and Redis, so the five-minute interval and the fifteen-minute grace are
//! moved through, not slept. People and groups are the test's own (`t-…`), made and changed with
//! the real `pforte-admin` and ldapmodify, and deleted afterwards.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pforte::reload::Reloader;
use pforte_e2e::cut::Cuttable;
use pforte_e2e::gateway::Gateway;
use pforte_e2e::in_process::{Answer, InProcess, VERIFIER, audit};
use pforte_e2e::oidc::BackchannelRp;
use pforte_e2e::pki::TestCa;
use pforte_e2e::upstream::Upstream;
use pforte_e2e::{eventually, unique_prefix};
use pforte_session::Timestamp;

use super::admin_people::{Cleanup, Ldap, ok, ok_with, unique};

const LOGIN: &str = "login.gw.test";
const BOARDS: &str = "boards.gw.test";
const CALLBACK: &str = "https://rp.gw.test/callback";
const SECRET: &str = "boards-test-secret-0123456789";
/// The default refresh interval, and a second past it.
const DUE: Duration = Duration::from_secs(5 * 60 + 1);
/// The default grace past the due time.
const GRACE: Duration = Duration::from_secs(15 * 60);

/// A person of the test's own in a group of its own, and what the gateways need to let them
/// into `boards` through that group.
struct People {
    ldap: Ldap,
    user: String,
    group: String,
}

impl People {
    fn new(label: &str) -> Self {
        Self {
            ldap: Ldap::new(),
            user: unique(label),
            group: unique(&format!("{label}-g")),
        }
    }

    fn password(&self) -> String {
        format!("{}-pw", self.user)
    }

    fn cleanup(&self) -> Cleanup<'_> {
        Cleanup {
            ldap: &self.ldap,
            dns: vec![
                format!("uid={},ou=people,{}", self.user, self.ldap.base),
                format!("cn={},ou=groups,{}", self.group, self.ldap.base),
            ],
        }
    }

    /// `boards` for the group's members.
    fn policy(&self) -> String {
        format!(
            "[[rule]]\napps = [\"boards\"]\nallow = [\"group:{}\"]\n",
            self.group
        )
    }

    /// `pforte-admin`'s config: the gateway's, with the directory's admin account.
    fn admin_config(&self, gw: &InProcess) -> PathBuf {
        let config = std::fs::read_to_string(&gw.folder.config_path).unwrap()
            + &self.ldap.admin_section(
                &self.ldap.admin_dn,
                &pforte_e2e::env("PFORTE_TEST_LDAP_ADMIN_PW_FILE"),
            );
        let path = gw.path("admin.toml");
        std::fs::write(&path, config).unwrap();
        path
    }

    /// Adds the group and the person in it with `pforte-admin`.
    fn add(&self, admin: &Path) {
        ok(admin, &["groups", "add", &self.group]);
        ok_with(
            admin,
            &[
                "users",
                "add",
                &self.user,
                "--name",
                "Tess Follows",
                "--group",
                &self.group,
                "--password-stdin",
            ],
            &format!("{}\n", self.password()),
        );
    }

    /// Marks the person disabled in LDAP itself, as another tool would.
    fn disable_in_ldap(&self) {
        let ldif = format!(
            "dn: uid={},ou=people,{}\nchangetype: modify\nadd: employeeType\nemployeeType: disabled\n",
            self.user, self.ldap.base
        );
        let out = pforte_e2e::person::ldap("ldapmodify", &ldif);
        assert!(out.status.success(), "ldapmodify: {out:?}");
    }

    /// The subject the gateway logged the person in with.
    fn subject(&self) -> String {
        audit("username", &self.user)
            .iter()
            .find(|e| e["event"] == "login_success")
            .and_then(|e| e["subject"].as_str())
            .expect("a login_success in the audit log")
            .to_owned()
    }
}

fn clients(backchannel: &str) -> String {
    let hash = pforte_oidc::clients::SecretHash::create(SECRET, *b"follows-dir-salt").unwrap();
    format!(
        "[[client]]\nid = \"boards\"\napp = \"boards\"\nsecret_hash = \"{hash}\"\n\
         redirect_uris = [\"{CALLBACK}\"]\nscopes = [\"openid\", \"profile\", \"groups\", \"offline_access\"]\n\
         grant_types = [\"authorization_code\", \"refresh_token\"]\n\
         backchannel_logout_uri = \"{backchannel}\"\n"
    )
}

/// A gateway with `boards` behind `upstream`, the LDAP directory at `ldap_url`, sessions in
/// Redis under `prefix`, and the OIDC client `boards` telling `backchannel`.
async fn gateway(
    people: &People,
    upstream: &Upstream,
    ldap_url: &str,
    prefix: &str,
    rp: Option<(&BackchannelRp, TestCa)>,
    start: Timestamp,
) -> InProcess {
    let (uri, ca) = match rp {
        Some((rp, ca)) => (rp.uri(), ca),
        None => ("https://127.0.0.1:1/none".to_owned(), TestCa::new()),
    };
    Gateway::builder()
        .app("boards", BOARDS, &[upstream.url()])
        .policy(people.policy())
        .ldap(&[ldap_url.to_owned()])
        .redis(prefix, "")
        .keys()
        .oidc(&clients(&uri))
        .assemble(ca, start)
        .await
}

/// Tokens for `session` through the code flow of the client `boards`.
async fn tokens(gw: &InProcess, session: &str) -> serde_json::Value {
    let scope = "openid groups offline_access";
    let code = gw.code(LOGIN, session, "boards", CALLBACK, scope).await;
    let answer = token(
        gw,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

/// A token request of the confidential client `boards`.
async fn token(gw: &InProcess, form: &[(&str, &str)]) -> Answer {
    let mut form = form.to_vec();
    form.extend([("client_id", "boards"), ("client_secret", SECRET)]);
    gw.post_form(LOGIN, "/oidc/token", None, &form).await
}

async fn refresh(gw: &InProcess, refresh_token: &str) -> Answer {
    token(
        gw,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

async fn userinfo(gw: &InProcess, access_token: &str) -> Answer {
    gw.get_with(
        LOGIN,
        "/oidc/userinfo",
        ("authorization", &format!("Bearer {access_token}")),
    )
    .await
}

async fn introspect(gw: &InProcess, token: &str) -> bool {
    let answer = gw
        .post_form(
            LOGIN,
            "/oidc/introspect",
            None,
            &[
                ("token", token),
                ("client_id", "boards"),
                ("client_secret", SECRET),
            ],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["active"].as_bool().unwrap()
}

/// The status of `boards` for `session` on `gw`.
async fn boards(gw: &InProcess, session: &str) -> u16 {
    gw.get(BOARDS, "/", Some(session)).await.status
}

fn advance_all(gateways: &[&InProcess], by: Duration) {
    for gw in gateways {
        gw.advance(by);
    }
}

fn ldap_addr() -> SocketAddr {
    let url = pforte_e2e::env("PFORTE_TEST_LDAP_URL");
    url.trim_start_matches("ldap://")
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_person_moved_out_of_a_group_loses_the_app_on_every_replica_within_the_interval() {
    let people = People::new("moved");
    let _cleanup = people.cleanup();
    let upstream = Upstream::start("boards").await;
    let prefix = unique_prefix("follows-moved");
    let start = Timestamp::now();
    let url = people.ldap.url.clone();
    let a = gateway(&people, &upstream, &url, &prefix, None, start).await;
    let b = gateway(&people, &upstream, &url, &prefix, None, start).await;
    let admin = people.admin_config(&a);
    people.add(&admin);

    let session = a.log_in(LOGIN, &people.user, &people.password()).await;
    assert_eq!(boards(&a, &session).await, 200);
    assert_eq!(
        boards(&b, &session).await,
        200,
        "the replica shares the session"
    );

    ok(
        &admin,
        &["groups", "remove-member", &people.group, &people.user],
    );
    advance_all(&[&a, &b], Duration::from_secs(4 * 60));
    assert_eq!(
        boards(&b, &session).await,
        200,
        "within the interval the identity read at login stands"
    );
    advance_all(&[&a, &b], DUE - Duration::from_secs(4 * 60));
    assert_eq!(
        boards(&b, &session).await,
        403,
        "due: replica B re-reads the directory and the group is gone"
    );
    assert!(
        eventually(Duration::from_secs(1), async || boards(&a, &session).await
            == 403)
        .await,
        "replica A decides on what B read within the revocation bound, without asking itself"
    );

    let subject = people.subject();
    let changes: Vec<_> = audit("subject", &subject)
        .into_iter()
        .filter(|e| e["event"] == "identity_changed")
        .collect();
    assert_eq!(
        changes.len(),
        1,
        "one replica asked the directory: {changes:?}"
    );
    assert_eq!(changes[0]["removed"], people.group.as_str());
    assert!(
        audit("subject", &subject)
            .iter()
            .any(|e| e["event"] == "access_denied" && e["app"] == "boards"),
        "the refusal is audited"
    );
}

#[tokio::test]
async fn a_person_disabled_in_ldap_is_refused_and_their_client_refused_and_told() {
    let people = People::new("disabled");
    let _cleanup = people.cleanup();
    let upstream = Upstream::start("boards").await;
    let ca = TestCa::new();
    let rp_dir = tempfile::tempdir().unwrap();
    let rp = BackchannelRp::start(&ca, rp_dir.path()).await;
    let prefix = unique_prefix("follows-disabled");
    let url = people.ldap.url.clone();
    let gw = gateway(
        &people,
        &upstream,
        &url,
        &prefix,
        Some((&rp, ca)),
        Timestamp::now(),
    )
    .await;
    let admin = people.admin_config(&gw);
    people.add(&admin);

    let session = gw.log_in(LOGIN, &people.user, &people.password()).await;
    let issued = tokens(&gw, &session).await;
    let refresh_token = issued["refresh_token"].as_str().unwrap();
    assert_eq!(boards(&gw, &session).await, 200);

    people.disable_in_ldap();
    gw.advance(DUE);
    let next = gw.get(BOARDS, "/", Some(&session)).await;
    assert_ne!(
        next.status, 200,
        "the disabled person's next request is refused"
    );
    assert!(
        next.location().contains(LOGIN) || next.status == 401,
        "sent to log in again ({}): {}",
        next.status,
        next.location()
    );
    let refused = refresh(&gw, refresh_token).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.json()["error"], "invalid_grant");

    let subject = people.subject();
    assert!(
        eventually(Duration::from_secs(5), async || !rp.received().is_empty()).await,
        "the client was not told of the ended session"
    );
    let logout = &rp.received()[0];
    let payload = logout.split('.').nth(1).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert!(
        claims["events"]
            .as_object()
            .unwrap()
            .contains_key("http://schemas.openid.net/event/backchannel-logout"),
        "{claims}"
    );
    let ended = audit("subject", &subject)
        .into_iter()
        .find(|e| e["event"] == "session_revoked")
        .expect("the ended session is audited");
    assert_eq!(ended["by"], pforte::directory_refresh::ENDED_BY);
}

#[tokio::test]
async fn rules_that_stop_allowing_refuse_refresh_userinfo_and_introspection_and_revoke_the_family()
{
    let people = People::new("rules");
    let _cleanup = people.cleanup();
    let upstream = Upstream::start("boards").await;
    let prefix = unique_prefix("follows-rules");
    let url = people.ldap.url.clone();
    let gw = gateway(&people, &upstream, &url, &prefix, None, Timestamp::now()).await;
    let admin = people.admin_config(&gw);
    people.add(&admin);
    let session = gw.log_in(LOGIN, &people.user, &people.password()).await;
    let issued = tokens(&gw, &session).await;
    let access = issued["access_token"].as_str().unwrap();
    let first = issued["refresh_token"].as_str().unwrap();

    let renewed = refresh(&gw, first).await;
    assert_eq!(renewed.status, 200, "{}", renewed.body);
    let current = renewed.json()["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo(&gw, access).await.status, 200);
    assert!(introspect(&gw, access).await);
    assert!(introspect(&gw, &current).await);

    // The policy now denies boards to the group.
    let reloader = Reloader::new(gw.shared.clone(), gw.folder.config_path.clone());
    std::fs::write(
        gw.path("policy.toml"),
        format!(
            "[[rule]]\napps = [\"boards\"]\ndeny = [\"group:{}\"]\n\n[[rule]]\napps = [\"boards\"]\nallow = [\"authenticated\"]\n",
            people.group
        ),
    )
    .unwrap();
    reloader.reload("test").await.unwrap();

    let info = userinfo(&gw, access).await;
    assert_eq!(info.status, 401, "{}", info.body);
    assert!(
        info.headers[http::header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    assert!(
        !introspect(&gw, access).await,
        "the access token is inactive"
    );
    assert!(
        !introspect(&gw, &current).await,
        "the refresh token is inactive"
    );
    let refused = refresh(&gw, &current).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.json()["error"], "invalid_grant");

    let subject = people.subject();
    let refusals: Vec<_> = audit("subject", &subject)
        .into_iter()
        .filter(|e| e["event"] == "oidc_token_refused")
        .collect();
    for what in ["userinfo", "introspection", "refresh"] {
        let found = refusals
            .iter()
            .find(|e| e["detail"].as_str().unwrap().starts_with(what))
            .unwrap_or_else(|| panic!("no {what} refusal audited: {refusals:?}"));
        assert!(
            found["detail"].as_str().unwrap().contains("policy.toml:1"),
            "the refusing rule is named: {found}"
        );
    }

    // Allowed again: the revoked family stays revoked; a fresh login is needed for new tokens.
    std::fs::write(gw.path("policy.toml"), people.policy()).unwrap();
    reloader.reload("test").await.unwrap();
    assert_eq!(userinfo(&gw, access).await.status, 200, "a live decision");
    let after = refresh(&gw, &current).await;
    assert_eq!(after.status, 400, "the family was revoked: {}", after.body);
}

#[tokio::test]
async fn an_ldap_outage_keeps_access_within_the_grace_and_refuses_after_it() {
    let people = People::new("outage");
    let _cleanup = people.cleanup();
    let upstream = Upstream::start("boards").await;
    let forwarder = Cuttable::start(ldap_addr()).await;
    let prefix = unique_prefix("follows-outage");
    let url = format!("ldap://{}", forwarder.addr);
    let gw = gateway(&people, &upstream, &url, &prefix, None, Timestamp::now()).await;
    // pforte-admin runs as a blocking child of this test's thread, which also runs the
    // forwarder: it goes to slapd directly.
    let admin = people.admin_config(&gw);
    let direct = std::fs::read_to_string(&admin)
        .unwrap()
        .replace(&url, &people.ldap.url);
    std::fs::write(&admin, direct).unwrap();
    people.add(&admin);
    let session = gw.log_in(LOGIN, &people.user, &people.password()).await;
    assert_eq!(boards(&gw, &session).await, 200);

    forwarder.cut();
    gw.advance(DUE);
    assert_eq!(
        boards(&gw, &session).await,
        200,
        "due, the directory down: the last identity serves within the grace"
    );
    gw.advance(GRACE);
    let refused = gw.get(BOARDS, "/", Some(&session)).await;
    assert_eq!(
        refused.status, 503,
        "past the grace the request is refused, not let in on an old identity"
    );
    let subject = people.subject();
    assert!(
        audit("subject", &subject)
            .iter()
            .any(|e| e["event"] == "identity_stale"),
        "the refusal is audited"
    );
    let metrics = String::from_utf8(gw.shared.metrics.render()).unwrap();
    for result in ["unavailable", "refused"] {
        let line = format!("pforte_identity_refreshes_total{{result=\"{result}\"}}");
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with(&line) && !l.ends_with(" 0")),
            "{line} not counted"
        );
    }

    // Back: the next attempt (claims are spaced 15 s apart) reads the person and lets them in.
    forwarder.restore().await;
    let back = eventually(Duration::from_secs(10), async || {
        gw.advance(Duration::from_secs(16));
        boards(&gw, &session).await == 200
    })
    .await;
    assert!(
        back,
        "the person was not let in again once the directory answered"
    );
}
