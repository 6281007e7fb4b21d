//! Passkeys end to end, against the real slapd (the passkey kept with the person, sealed) and
//! the real Redis (the ceremony state shared by replicas, taken once): registration on the
//! security page, step-up for an app whose rule asks for `mfa`, a passwordless login, and what
//! must be refused: a replayed assertion, one made for another origin, a cloned credential
//! (its counter going back), oversized, malformed, forged and tampered requests. The browser's
//! part is webauthn-authenticator-rs's software authenticator, which signs real assertions with
//! a real counter.

use pforte_e2e::browser::{Browser, Hop, hidden_value};
use pforte_e2e::client::Reply;
use pforte_e2e::gateway::Gateway;
use pforte_e2e::person::LdapPerson;
use pforte_e2e::upstream::Upstream;
use serde_json::Value;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softtoken::SoftToken;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};

const ADMIN: &str = "https://admin.gw.test";
const LOGIN: &str = "https://login.gw.test";
const KEY: &str = "7f1c2a3b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8";

struct Setup {
    gw: Gateway,
    _admin: Upstream,
    person: LdapPerson,
    prefix: String,
}

async fn start(label: &str) -> Setup {
    let person = LdapPerson::add(label);
    let admin = Upstream::start("admin").await;
    let prefix = pforte_e2e::unique_prefix(label);
    let gw = Gateway::builder()
        .app("admin", "admin.gw.test", &[admin.url()])
        .policy(format!(
            "[[rule]]\napps = [\"admin\"]\nallow = [\"user:{}\"]\nlogin = \"mfa\"\n",
            person.username
        ))
        .ldap(&[pforte_e2e::env("PFORTE_TEST_LDAP_URL")])
        .redis(
            &prefix,
            "[sessions.throttle]\nfree_failures = 20\nlock_after = 40\n",
        )
        .mfa(KEY, "")
        .audit_log()
        .start()
        .await;
    Setup {
        gw,
        _admin: admin,
        person,
        prefix,
    }
}

/// A security key with a PIN: it verifies its user, as the login host requires.
fn device() -> SoftToken {
    SoftToken::new(true).unwrap().0
}

/// The browser's `navigator.credentials.create()` at `origin`.
fn create(device: &mut SoftToken, options: &Value, origin: &str) -> String {
    let options: CreationChallengeResponse = serde_json::from_value(options.clone()).unwrap();
    let answer = device
        .do_registration(Url::parse(origin).unwrap(), options)
        .unwrap();
    serde_json::to_string(&answer).unwrap()
}

/// The browser's `navigator.credentials.get()` at `origin`.
fn get(device: &mut SoftToken, options: &Value, origin: &str) -> String {
    let options: RequestChallengeResponse = serde_json::from_value(options.clone()).unwrap();
    let answer = device
        .do_authentication(Url::parse(origin).unwrap(), options)
        .unwrap();
    serde_json::to_string(&answer).unwrap()
}

fn last(hops: &[Hop]) -> &Hop {
    &hops[0]
}

/// The anti-forgery token of a page of the login host.
fn csrf_of(page: &str) -> String {
    hidden_value(page, "csrf").expect("a csrf field")
}

async fn post(browser: &mut Browser, path: &str, body: &str, csrf: &str) -> Reply {
    browser
        .post_json(&format!("{LOGIN}{path}"), body, csrf)
        .await
}

fn events(gw: &Gateway, event: &str) -> Vec<Value> {
    gw.audit()
        .into_iter()
        .filter(|e| e["event"] == event)
        .collect()
}

/// A registered passkey as the browser knows it: its credential id and the user handle the
/// login host gave it (what a discoverable credential answers with).
struct Registered {
    credential_id: String,
    user_handle: String,
}

/// Logs in with the password and registers a passkey named `name` on the security page;
/// returns the browser (now stepped up), the security page's token and the passkey.
async fn register(s: &Setup, key: &mut SoftToken, name: &str) -> (Browser, String, Registered) {
    let mut browser = Browser::new(s.gw.https, s.gw.root());
    browser
        .login(LOGIN, &s.person.username, &s.person.password)
        .await;
    let page = browser.get(&format!("{LOGIN}/security")).await;
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'; connect-src 'self'"),
        "{csp}"
    );
    let csrf = csrf_of(&page.text());
    let options = post(
        &mut browser,
        "/security/passkey/options",
        &format!("{{\"name\": \"{name}\"}}"),
        &csrf,
    )
    .await;
    assert_eq!(options.status, 200, "{}", options.text());
    let options = options.json();
    let selection = &options["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["userVerification"], "required", "{options}");
    assert_eq!(
        selection["residentKey"], "preferred",
        "passwordless logins are on"
    );
    let answer = create(key, &options, LOGIN);
    let done = post(&mut browser, "/security/passkey/register", &answer, &csrf).await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(done.json()["redirect"], "/security");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    let registered = Registered {
        credential_id: answer["id"].as_str().unwrap().to_owned(),
        user_handle: options["publicKey"]["user"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    (browser, csrf, registered)
}

/// What a discoverable credential answers to a passwordless request: the software
/// authenticator keeps no resident credentials, so the credential is named in the options and
/// the user handle an authenticator would return is added (it is not signed: the login host
/// must check the credential belongs to the person it names, which is what this exercises).
fn discoverable(key: &mut SoftToken, options: &Value, registered: &Registered) -> String {
    let mut options = options.clone();
    assert_eq!(
        options["publicKey"]["allowCredentials"],
        serde_json::json!([])
    );
    options["publicKey"]["allowCredentials"] =
        serde_json::json!([{ "type": "public-key", "id": registered.credential_id }]);
    let mut answer: Value = serde_json::from_str(&get(key, &options, LOGIN)).unwrap();
    answer["response"]["userHandle"] = Value::from(registered.user_handle.as_str());
    answer.to_string()
}

/// A new password session on the step-up page of the admin app, with its token.
async fn password_session(s: &Setup) -> (Browser, String) {
    let mut browser = Browser::new(s.gw.https, s.gw.root());
    let hops = browser
        .login(&format!("{ADMIN}/"), &s.person.username, &s.person.password)
        .await;
    let step_up = last(&hops);
    assert!(
        step_up.url.starts_with(&format!("{LOGIN}/mfa?")),
        "{}",
        step_up.url
    );
    let page = step_up.reply.text();
    assert!(
        page.contains("data-passkey-action=\"authenticate\""),
        "{page}"
    );
    let csp = step_up.reply.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    (browser, csrf_of(&page))
}

/// The step-up options for `browser`.
async fn step_up_options(browser: &mut Browser, csrf: &str) -> Value {
    let options = post(
        browser,
        "/mfa/passkey/options",
        &format!("{{\"return_to\": \"{ADMIN}/\"}}"),
        csrf,
    )
    .await;
    assert_eq!(options.status, 200, "{}", options.text());
    options.json()
}

#[tokio::test]
async fn a_passkey_registered_on_the_security_page_steps_up_and_refuses_replays_clones_and_other_origins()
 {
    let s = start("passkey-step-up").await;
    let mut key = device();
    let (mut first, _, _) = register(&s, &mut key, "YubiKey").await;

    // Saved (sealed, in slapd), audited, and the first factor stepped the session up.
    let enrolled = events(&s.gw, "second_factor_enrolled");
    assert_eq!(enrolled.len(), 1, "{enrolled:?}");
    assert_eq!(enrolled[0]["kind"], "passkey");
    let security = first.get(&format!("{LOGIN}/security")).await;
    assert!(security.text().contains("YubiKey"), "{}", security.text());
    let app = first.follow(&format!("{ADMIN}/")).await;
    assert_eq!(last(&app).reply.status, 200, "{}", last(&app).url);

    // The script is the login host's own, a script to browsers and nothing else; pages without
    // a passkey button keep the policy without scripts.
    let script = s.gw.get("login.gw.test", "/assets/passkey.js").await;
    assert_eq!(script.status, 200);
    assert!(
        script
            .header("content-type")
            .unwrap()
            .starts_with("application/javascript")
    );
    assert_eq!(script.header("x-content-type-options"), Some("nosniff"));
    assert!(script.text().contains("data-passkey-action"));
    let enrol = first.get(&format!("{LOGIN}/security/totp")).await;
    let csp = enrol.header("content-security-policy").unwrap();
    assert!(!csp.contains("script-src"), "{csp}");

    // A copy of the key, taken now (counter 1 after the next use).
    let mut clone = SoftToken::from_cbor(&key.to_cbor().unwrap()).unwrap();

    // A new password session steps up with the passkey and lands on the app.
    let (mut second, csrf) = password_session(&s).await;
    let options = step_up_options(&mut second, &csrf).await;
    let assertion = get(&mut key, &options, LOGIN);
    let verified = post(&mut second, "/mfa/passkey/verify", &assertion, &csrf).await;
    assert_eq!(verified.status, 200, "{}", verified.text());
    assert_eq!(verified.json()["redirect"], format!("{ADMIN}/"));
    let app = second.follow(&format!("{ADMIN}/")).await;
    assert_eq!(last(&app).reply.status, 200, "{}", last(&app).url);
    assert_eq!(events(&s.gw, "second_factor_verified").len(), 1);

    // The same assertion again: its ceremony was taken, so it answers nothing.
    let replayed = post(&mut second, "/mfa/passkey/verify", &assertion, &csrf).await;
    assert_eq!(replayed.status, 400, "{}", replayed.text());
    assert!(replayed.json()["error"].is_string());

    // An assertion made for another origin: a subdomain of the login host (the only other
    // origin a browser lets use its relying-party id), e.g. a taken-over one relaying the
    // ceremony.
    let (mut third, csrf3) = password_session(&s).await;
    let options = step_up_options(&mut third, &csrf3).await;
    let foreign = get(&mut key, &options, "https://evil.login.gw.test");
    let refused = post(&mut third, "/mfa/passkey/verify", &foreign, &csrf3).await;
    assert_eq!(refused.status, 401, "{}", refused.text());

    // The clone signs with a counter behind the stored one: refused.
    let options = step_up_options(&mut third, &csrf3).await;
    let cloned = get(&mut clone, &options, LOGIN);
    let refused = post(&mut third, "/mfa/passkey/verify", &cloned, &csrf3).await;
    assert_eq!(refused.status, 401, "{}", refused.text());
    let failures = events(&s.gw, "second_factor_failed");
    let details: Vec<&str> = failures
        .iter()
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert!(
        details.contains(&"wrong_origin") && details.contains(&"possible_clone"),
        "{failures:?}"
    );
    let wrong =
        s.gw.metric("pforte_second_factor_attempts_total{kind=\"passkey\",result=\"wrong\"}")
            .await;
    assert_eq!(wrong, Some(2.0), "both refusals metered");

    // Still a password session: the admin app sends it to the step-up page.
    let app = third.get(&format!("{ADMIN}/")).await;
    assert_eq!(app.status, 302);
}

#[tokio::test]
async fn bad_passkey_requests_get_clear_client_errors_and_store_nothing() {
    let s = start("passkey-bad-input").await;
    let mut key = device();
    let (mut browser, csrf, _) = register(&s, &mut key, "Laptop").await;
    let url = format!("{LOGIN}/security/passkey/register");

    let started = post(
        &mut browser,
        "/security/passkey/options",
        "{\"name\": \"Second\"}",
        &csrf,
    )
    .await;
    assert_eq!(started.status, 200);
    let mut other = device();
    let good = create(&mut other, &started.json(), LOGIN);

    // Oversized (refused from its Content-Length, before any of it is read), malformed, not
    // JSON, without the anti-forgery token, and a GET.
    let oversized = oversized_post(&s, &browser, "/security/passkey/register", &csrf).await;
    assert_eq!(oversized.status, 413, "{}", oversized.text());
    assert!(oversized.json()["error"].is_string());
    let cases: Vec<(Reply, u16)> = vec![
        (
            post(
                &mut browser,
                "/security/passkey/register",
                "{\"id\": ",
                &csrf,
            )
            .await,
            400,
        ),
        (
            browser
                .send_json(
                    &url,
                    "application/x-www-form-urlencoded",
                    good.as_bytes(),
                    &csrf,
                )
                .await,
            415,
        ),
        (
            post(&mut browser, "/security/passkey/register", &good, "").await,
            403,
        ),
        (browser.get(&url).await, 405),
    ];
    for (reply, status) in &cases {
        assert_eq!(reply.status, *status, "{}", reply.text());
        if *status != 405 {
            assert!(reply.json()["error"].is_string(), "{}", reply.text());
        }
    }
    // The malformed answer took the ceremony: the good one now answers nothing.
    let late = post(&mut browser, "/security/passkey/register", &good, &csrf).await;
    assert_eq!(late.status, 400, "{}", late.text());

    // A ceremony state altered in Redis is refused, not a server error.
    let started = post(&mut browser, "/security/passkey/options", "{}", &csrf).await;
    assert_eq!(started.status, 200);
    let answer = create(&mut other, &started.json(), LOGIN);
    tamper_ceremonies(&s.prefix);
    let tampered = post(&mut browser, "/security/passkey/register", &answer, &csrf).await;
    assert_eq!(tampered.status, 400, "{}", tampered.text());

    // The options exclude the authenticator already registered, so a real one refuses to
    // register twice (the software authenticator makes a new credential each time instead).
    let started = post(&mut browser, "/security/passkey/options", "{}", &csrf).await;
    let excluded = started.json()["publicKey"]["excludeCredentials"].clone();
    assert_eq!(excluded.as_array().map(Vec::len), Some(1), "{excluded}");

    // Nothing else was stored: one passkey, one enrolment.
    assert_eq!(events(&s.gw, "second_factor_enrolled").len(), 1);
    let page = browser.get(&format!("{LOGIN}/security")).await.text();
    assert!(
        page.contains("<strong>Laptop</strong>") && !page.contains("<strong>Second</strong>"),
        "{page}"
    );

    // Passwordless: a ceremony id nobody issued, and a malformed answer.
    let mut stranger = Browser::new(s.gw.https, s.gw.root());
    let login_page = stranger.get(&format!("{LOGIN}/login")).await.text();
    let csrf = csrf_of(&login_page);
    stranger
        .cookies
        .entry("login.gw.test".into())
        .or_default()
        .insert("__Host-pforte-passkey".into(), "ab".repeat(32));
    let unknown = post(&mut stranger, "/login/passkey/verify", "{}", &csrf).await;
    assert_eq!(unknown.status, 400, "{}", unknown.text());
    let started = post(&mut stranger, "/login/passkey/options", "{}", &csrf).await;
    assert_eq!(started.status, 200);
    let garbage = post(&mut stranger, "/login/passkey/verify", "[1, 2]", &csrf).await;
    assert_eq!(garbage.status, 400, "{}", garbage.text());
    for reply in [&unknown, &garbage] {
        assert!(
            reply
                .header("set-cookie")
                .is_none_or(|c| !c.contains("__Host-pforte="))
        );
    }
}

/// A POST whose head announces 100 KiB of JSON, sent with the browser's cookies and no body:
/// the login host answers from the head.
async fn oversized_post(
    s: &Setup,
    browser: &Browser,
    path: &str,
    csrf: &str,
) -> pforte_e2e::raw::RawReply {
    let cookies: Vec<String> = browser.cookies["login.gw.test"]
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let cookie = cookies.join("; ");
    let head = pforte_e2e::raw::head(
        &format!("POST {path} HTTP/1.1"),
        &[
            ("Host", "login.gw.test"),
            ("Content-Type", "application/json"),
            ("Content-Length", "102400"),
            ("Origin", LOGIN),
            ("X-CSRF-Token", csrf),
            ("Cookie", &cookie),
        ],
    );
    pforte_e2e::raw::send(s.gw.https, "login.gw.test", &s.gw.root(), &head).await
}

/// Overwrites every waiting ceremony state of this gateway's Redis prefix with one whose
/// webauthn-rs state is altered.
fn tamper_ceremonies(prefix: &str) {
    let url = pforte_e2e::env("PFORTE_TEST_REDIS_URL");
    let keys = std::process::Command::new("redis-cli")
        .args([
            "-u",
            &url,
            "--scan",
            "--pattern",
            &format!("{prefix}o:ceremony:*"),
        ])
        .output()
        .unwrap();
    let keys = String::from_utf8(keys.stdout).unwrap();
    let keys: Vec<&str> = keys.lines().filter(|k| !k.is_empty()).collect();
    assert!(
        !keys.is_empty(),
        "a ceremony waits under {prefix}o:ceremony:*"
    );
    for key in keys {
        let value = std::process::Command::new("redis-cli")
            .args(["-u", &url, "--raw", "GET", key])
            .output()
            .unwrap();
        let mut pending: Value = serde_json::from_slice(&value.stdout).unwrap();
        // One byte more: no longer the JSON the gateway wrote.
        let state = pending["state"].as_str().unwrap().to_owned();
        pending["state"] = Value::from(format!("{state}}}"));
        let set = std::process::Command::new("redis-cli")
            .args(["-u", &url, "SET", key, &pending.to_string(), "KEEPTTL"])
            .output()
            .unwrap();
        assert!(set.status.success(), "{set:?}");
    }
}

#[tokio::test]
async fn a_passkey_alone_logs_in_as_mfa_and_reaches_the_app() {
    let s = start("passkey-passwordless").await;
    let mut key = device();
    let (_, _, registered) = register(&s, &mut key, "Phone").await;

    // The login page offers it: the button and the browser's passkey autofill.
    let mut browser = Browser::new(s.gw.https, s.gw.root());
    let login = browser
        .get(&format!(
            "{LOGIN}/login?return_to={}",
            form_urlencoded::byte_serialize(format!("{ADMIN}/").as_bytes()).collect::<String>()
        ))
        .await;
    let page = login.text();
    assert!(
        page.contains("data-passkey-action=\"passwordless\"")
            && page.contains("autocomplete=\"username webauthn\""),
        "{page}"
    );
    let csrf = csrf_of(&page);
    let return_to = hidden_value(&page, "return_to").unwrap();

    let options = post(
        &mut browser,
        "/login/passkey/options",
        &serde_json::json!({ "return_to": return_to }).to_string(),
        &csrf,
    )
    .await;
    assert_eq!(options.status, 200, "{}", options.text());
    assert!(
        browser
            .cookie("login.gw.test", "__Host-pforte-passkey")
            .is_some()
    );
    let assertion = discoverable(&mut key, &options.json(), &registered);
    let logged_in = post(&mut browser, "/login/passkey/verify", &assertion, &csrf).await;
    assert_eq!(logged_in.status, 200, "{}", logged_in.text());
    let next = logged_in.json()["redirect"].as_str().unwrap().to_owned();
    assert!(browser.cookie("login.gw.test", "__Host-pforte").is_some());

    // The session is a whole MFA login: the admin app (login = "mfa") opens without a step-up.
    let hops = browser.follow(&next).await;
    assert_eq!(last(&hops).reply.status, 200, "{}", last(&hops).url);
    assert!(last(&hops).url.starts_with(ADMIN), "{}", last(&hops).url);
    assert_eq!(events(&s.gw, "passkey_login").len(), 1);
    let success = events(&s.gw, "login_success");
    assert_eq!(
        success.len(),
        2,
        "the password login of the registration and this one"
    );

    // The same assertion once more, with the ceremony cookie and a valid form token again (as
    // whoever replays it would have): its ceremony is gone.
    let ceremony = options
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .and_then(|c| c.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap();
    let fresh = browser.get(&format!("{LOGIN}/login?prompt=login")).await;
    let csrf = csrf_of(&fresh.text());
    let jar = browser.cookies.entry("login.gw.test".into()).or_default();
    jar.insert("__Host-pforte-passkey".into(), ceremony);
    let replayed = post(&mut browser, "/login/passkey/verify", &assertion, &csrf).await;
    assert_eq!(replayed.status, 400, "{}", replayed.text());
}
