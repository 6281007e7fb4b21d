//! The gateway on a manual clock, assembled in this process (tests/support/in_process.rs):
//! what depends on time (a code's minute, a session's idle and absolute timeouts, TOTP steps)
//! moved through instead of slept, and the admin listener's reload and revocation handed
//! requests directly. The demo's people file; nothing binds a port.

use std::time::Duration;

use pforte_e2e::gateway::Gateway;
use pforte_e2e::in_process::{Answer, InProcess, VERIFIER};
use pforte_e2e::pki::TestCa;
use pforte_session::Timestamp;

const LOGIN: &str = "login.gw.test";
const CALLBACK: &str = "https://rp.gw.test/callback";

/// docs (staff only, behind an upstream nothing serves), the demo people, the public client `rp`.
async fn start_with(mfa: Option<&str>) -> InProcess {
    let mut builder = Gateway::builder()
        .app("docs", "docs.gw.test", &["http://127.0.0.1:3".to_owned()])
        .policy("[[rule]]\napps = [\"docs\"]\nallow = [\"group:staff\"]\n")
        .demo_people()
        .oidc(&format!(
            "[[client]]\nid = \"rp\"\napp = \"docs\"\npublic = true\nredirect_uris = [\"{CALLBACK}\"]\nscopes = [\"openid\", \"profile\"]\n"
        ));
    if let Some(extra) = mfa {
        builder = builder.mfa(&"ab".repeat(32), extra);
    }
    builder
        .assemble(TestCa::new(), Timestamp::from_unix_secs(1_800_000_000))
        .await
}

async fn start() -> InProcess {
    start_with(None).await
}

async fn log_in(gw: &InProcess, username: &str) -> String {
    gw.log_in(LOGIN, username, &format!("{username}pw")).await
}

async fn code(gw: &InProcess, session: &str) -> String {
    gw.code(LOGIN, session, "rp", CALLBACK, "openid").await
}

async fn exchange(gw: &InProcess, code: &str) -> Answer {
    gw.post_form(
        LOGIN,
        "/oidc/token",
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("client_id", "rp"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

#[tokio::test]
async fn a_code_is_redeemed_within_its_minute_and_refused_after_it() {
    let gw = start().await;
    let session = log_in(&gw, "alice").await;
    let fresh = code(&gw, &session).await;
    gw.clock.advance(Duration::from_secs(59)).unwrap();
    let tokens = exchange(&gw, &fresh).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert!(tokens.json()["access_token"].is_string());

    let late = code(&gw, &session).await;
    gw.clock.advance(Duration::from_secs(61)).unwrap();
    let refused = exchange(&gw, &late).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn a_session_ends_at_its_idle_and_absolute_timeouts() {
    let gw = start().await;
    let session = log_in(&gw, "alice").await;
    assert_eq!(
        gw.get(LOGIN, "/", Some(&session)).await.status,
        200,
        "the portal"
    );
    // Used every hour it lives until the absolute timeout (12 h), not a second longer.
    for _ in 0..11 {
        gw.clock.advance(Duration::from_secs(3600)).unwrap();
        assert_eq!(gw.get(LOGIN, "/", Some(&session)).await.status, 200);
    }
    gw.clock.advance(Duration::from_secs(3601)).unwrap();
    let ended = gw.get(LOGIN, "/", Some(&session)).await;
    assert_eq!(ended.status, 303, "a session past 12 h is no session");
    assert_eq!(ended.location(), "/login");

    // Idle for longer than 2 h: gone as well.
    let session = log_in(&gw, "carol").await;
    gw.clock
        .advance(Duration::from_secs(2 * 3600 + 61))
        .unwrap();
    assert_eq!(gw.get(LOGIN, "/", Some(&session)).await.status, 303);
}

#[tokio::test]
async fn an_app_host_sends_a_browser_to_log_in_with_its_hand_over_binding() {
    let gw = start().await;
    let answer = gw.get("docs.gw.test", "/page", None).await;
    assert_eq!(answer.status, 302);
    assert!(
        answer.location().starts_with(
            "https://login.gw.test/login?return_to=https%3A%2F%2Fdocs.gw.test%2Fpage&handover="
        ),
        "{}",
        answer.location()
    );
    assert!(answer.cookie("__Host-pforte-handover").is_some());
    let unknown = gw.get("nowhere.gw.test", "/", None).await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn a_broken_policy_is_refused_on_reload_and_the_last_good_one_stays() {
    let gw = start().await;
    let bob = log_in(&gw, "bob").await;
    // bob is a partner: the docs rule (staff) refuses him.
    assert_eq!(gw.get("docs.gw.test", "/", Some(&bob)).await.status, 403);

    std::fs::write(gw.path("policy.toml"), "[[rule]]\napps = [\"docs\"\n").unwrap();
    let (status, body) = gw.admin("POST", "/reload").await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("policy.toml:"),
        "the refusal names the file and line: {body}"
    );
    assert_eq!(
        gw.get("docs.gw.test", "/", Some(&bob)).await.status,
        403,
        "last good policy"
    );

    std::fs::write(
        gw.path("policy.toml"),
        "[[rule]]\napps = [\"docs\"]\nallow = [\"group:staff\", \"group:partners\"]\n",
    )
    .unwrap();
    let (status, body) = gw.admin("POST", "/reload").await;
    assert_eq!(status, 200, "{body}");
    // Now allowed: the request goes on to the app's upstream, which nothing serves here.
    let after = gw.get("docs.gw.test", "/", Some(&bob)).await;
    assert_eq!(
        after.status, 502,
        "the reloaded policy lets bob through: {}",
        after.body
    );
    let (status, body) = gw.admin("GET", "/status").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn an_admin_revocation_ends_the_session_at_once() {
    let gw = start().await;
    let session = log_in(&gw, "alice").await;
    assert_eq!(gw.get(LOGIN, "/", Some(&session)).await.status, 200);
    let (status, body) = gw.admin("POST", "/sessions/revoke?subject=").await;
    assert_eq!(status, 400, "a revocation names what it ends: {body}");
    let subject = gw
        .shared
        .sessions
        .list(None, gw.clock.now())
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("alice's session")
        .subject;
    let (status, body) = gw
        .admin("POST", &format!("/sessions/revoke?subject={subject}"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        gw.get(LOGIN, "/", Some(&session)).await.status,
        303,
        "the revoked session is no session"
    );
}

/// The form fields of a page and its anti-forgery cookie, to post it back.
fn form_of(page: &Answer) -> (String, String) {
    let csrf = page.cookie("__Host-pforte-csrf").expect("a form cookie");
    (csrf.clone(), format!("__Host-pforte-csrf={csrf}"))
}

/// The base32 key in an enrolment page's `otpauth://` URI.
fn secret_of(page: &str) -> String {
    let start = page.find("secret=").expect("an otpauth URI") + 7;
    page[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect()
}

#[tokio::test]
async fn codes_count_on_the_gateways_clock_and_must_enrol_groups_enrol_first() {
    let gw = start_with(Some("must_enrol = [\"admins\"]")).await;
    let secret_code = |secret: &str, at: Timestamp| {
        pforte_factors::totp::StoredTotp {
            secret: secret.to_owned(),
            name: String::new(),
            created: 0,
        }
        .code_at(at.unix_secs())
        .unwrap()
    };

    // alice is an admin: her login leads to the enrolment before anything else.
    let form = gw.get(LOGIN, "/login", None).await;
    let (csrf, cookie) = form_of(&form);
    let posted = gw
        .post_form(
            LOGIN,
            "/login",
            Some(&cookie),
            &[
                ("username", "alice"),
                ("password", "alicepw"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(posted.status, 303);
    assert_eq!(posted.location(), "/security/totp");
    let session = posted.cookie("__Host-pforte").unwrap();
    let enrol = gw.get(LOGIN, "/security/totp", Some(&session)).await;
    assert_eq!(enrol.status, 200, "{}", enrol.body);
    assert!(
        enrol.body.contains("needs a second factor"),
        "{}",
        enrol.body
    );
    let secret = secret_of(&enrol.body);
    let (csrf, csrf_cookie) = form_of(&enrol);
    let cookies = format!("__Host-pforte={session}; {csrf_cookie}");
    let now = gw.clock.now();
    let enrolled = gw
        .post_form(
            LOGIN,
            "/security/totp",
            Some(&cookies),
            &[("csrf", &csrf), ("code", &secret_code(&secret, now))],
        )
        .await;
    assert_eq!(enrolled.status, 200, "{}", enrolled.body);

    // carol is not an admin: her login goes where it was going.
    let carol = log_in(&gw, "carol").await;
    assert!(!carol.is_empty());

    // A new password session of alice's steps up on the gateway's clock.
    let session = log_in(&gw, "alice").await;
    let step_up = |code: String| {
        let gw = &gw;
        let session = session.clone();
        async move {
            let page = gw.get(LOGIN, "/mfa", Some(&session)).await;
            let (csrf, csrf_cookie) = form_of(&page);
            let cookies = format!("__Host-pforte={session}; {csrf_cookie}");
            gw.post_form(
                LOGIN,
                "/mfa",
                Some(&cookies),
                &[("csrf", &csrf), ("code", &code)],
            )
            .await
            .status
        }
    };
    assert_eq!(
        step_up(secret_code(&secret, now)).await,
        401,
        "the enrolment's code, again"
    );
    gw.clock.advance(Duration::from_secs(90)).unwrap();
    let two_steps_old = Timestamp::from_unix_secs(gw.clock.now().unix_secs() - 60);
    assert_eq!(step_up(secret_code(&secret, two_steps_old)).await, 401);
    let previous = Timestamp::from_unix_secs(gw.clock.now().unix_secs() - 30);
    assert_eq!(
        step_up(secret_code(&secret, previous)).await,
        303,
        "the step before"
    );
}
