//! Second factors end to end, against the real slapd (factors kept with the person, sealed) and
//! the real Redis (the replay guard and the stepped-up session shared by replicas): enrolment of
//! an authenticator app when an app's rule asks for `mfa`, step-up with a code computed here
//! from the enrolled secret, replayed, old, malformed and guessed codes, recovery codes, a
//! second replica, and the security page.

use std::time::Duration;

use pforte_e2e::browser::{Browser, Hop, hidden_value};
use pforte_e2e::gateway::Gateway;
use pforte_e2e::person::LdapPerson;
use pforte_e2e::upstream::Upstream;
use pforte_factors::totp::StoredTotp;
use serde_json::Value;

const ADMIN: &str = "https://admin.gw.test";
const LOGIN: &str = "https://login.gw.test";
const KEY: &str = "7f1c2a3b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8";

fn policy(user: &str) -> String {
    format!(
        "[[rule]]\napps = [\"admin\"]\nallow = [\"user:{user}\"]\nlogin = \"mfa\"\n\n\
         [[rule]]\napps = [\"mail\"]\nallow = [\"authenticated\"]\n"
    )
}

struct Setup {
    gw: Gateway,
    _admin: Upstream,
    _mail: Upstream,
    person: LdapPerson,
    prefix: String,
}

async fn start(label: &str, throttle: &str) -> Setup {
    let person = LdapPerson::add(label);
    let admin = Upstream::start("admin").await;
    let mail = Upstream::start("mail").await;
    let prefix = pforte_e2e::unique_prefix(label);
    let gw = replica(&person, &admin, &mail, &prefix, throttle).await;
    Setup {
        gw,
        _admin: admin,
        _mail: mail,
        person,
        prefix,
    }
}

async fn replica(
    person: &LdapPerson,
    admin: &Upstream,
    mail: &Upstream,
    prefix: &str,
    throttle: &str,
) -> Gateway {
    Gateway::builder()
        .app("admin", "admin.gw.test", &[admin.url()])
        .app("mail", "mail.gw.test", &[mail.url()])
        .policy(policy(&person.username))
        .ldap(&[pforte_e2e::env("PFORTE_TEST_LDAP_URL")])
        .redis(prefix, &format!("[sessions.throttle]\n{throttle}"))
        .mfa(KEY, "")
        .audit_log()
        .start()
        .await
}

/// The unix time now, away from a step's last two seconds, so that a code computed here is
/// checked by the gateway in the same step.
async fn settled_now() -> u64 {
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    if now() % 30 >= 28 {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    now()
}

fn code(secret: &str, unix: u64) -> String {
    StoredTotp {
        secret: secret.to_owned(),
        name: String::new(),
        created: 0,
    }
    .code_at(unix)
    .unwrap()
}

/// The key the enrolment page shows, read from its `otpauth://` URI.
fn enrolled_secret(page: &str) -> String {
    let start = page
        .find("secret=")
        .expect("the page shows the otpauth URI")
        + 7;
    page[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect()
}

fn last(hops: &[Hop]) -> &Hop {
    &hops[0]
}

/// Posts a change of the factor `handle` on the security page (rename or remove, with the
/// password as confirmation) with the page's anti-forgery token.
async fn change_factor(
    browser: &mut Browser,
    csrf: &str,
    handle: &str,
    fields: &[(&str, &str)],
) -> pforte_e2e::client::Reply {
    let mut form = vec![("csrf", csrf), ("handle", handle)];
    form.extend_from_slice(fields);
    browser
        .post(&format!("{LOGIN}/security/factor"), &form)
        .await
}

/// Posts a form of the page in `hop` to `action` on the login host with its csrf and
/// return_to, plus `fields`; follows the redirects.
async fn submit(
    browser: &mut Browser,
    hop: &Hop,
    action: &str,
    fields: &[(&str, &str)],
) -> Vec<Hop> {
    submit_on(browser, &hop.reply.text(), action, fields).await
}

/// [`submit`] for a page's text.
async fn submit_on(
    browser: &mut Browser,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> Vec<Hop> {
    let csrf = hidden_value(page, "csrf").expect("a csrf field");
    let return_to = hidden_value(page, "return_to");
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    if let Some(rt) = &return_to {
        form.push(("return_to", rt));
    }
    form.extend_from_slice(fields);
    let url = format!("{LOGIN}{action}");
    let reply = browser.post(&url, &form).await;
    browser.follow_from(&url, reply).await
}

fn events(gw: &Gateway, event: &str) -> Vec<Value> {
    gw.audit()
        .into_iter()
        .filter(|e| e["event"] == event)
        .collect()
}

#[tokio::test]
async fn an_mfa_app_leads_through_enrolment_then_steps_up_with_fresh_codes_only() {
    let s = start("mfa-totp", "free_failures = 20\nlock_after = 30\n").await;
    let (user, pw) = (&s.person.username, &s.person.password);

    // A password session opens the admin app: no factor yet, so enrolment comes first.
    let mut first = Browser::new(s.gw.https, s.gw.root());
    let hops = first.login(&format!("{ADMIN}/"), user, pw).await;
    let enrolment = last(&hops);
    assert_eq!(enrolment.reply.status, 200, "{}", enrolment.url);
    assert!(
        enrolment.url.starts_with(&format!("{LOGIN}/security/totp")),
        "{}",
        enrolment.url
    );
    let page = enrolment.reply.text();
    assert!(
        page.contains("<svg") && page.contains("otpauth://totp/"),
        "{page}"
    );
    let secret = enrolled_secret(&page);
    assert_eq!(secret.len(), 32, "{secret}");

    // Nothing is saved without the confirming code, or with a wrong one.
    let wrong = submit(
        &mut first,
        enrolment,
        "/security/totp",
        &[("name", "phone"), ("code", "000000")],
    )
    .await;
    assert_eq!(last(&wrong).reply.status, 400);
    let malformed = submit(
        &mut first,
        last(&wrong),
        "/security/totp",
        &[("name", "phone"), ("code", "12ab56")],
    )
    .await;
    assert_eq!(last(&malformed).reply.status, 400);

    // The previous step's code confirms it: ten recovery codes, shown once, then the app.
    let now = settled_now().await;
    let enrolled = submit(
        &mut first,
        last(&malformed),
        "/security/totp",
        &[("name", "phone"), ("code", &code(&secret, now - 30))],
    )
    .await;
    let codes_page = last(&enrolled).reply.text();
    assert_eq!(last(&enrolled).reply.status, 200, "{codes_page}");
    let recovery: Vec<String> = codes_page
        .split("<li><code>")
        .skip(1)
        .map(|c| c.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10, "{codes_page}");
    let app = first.follow(&format!("{ADMIN}/")).await;
    assert_eq!(
        last(&app).reply.status,
        200,
        "the stepped-up session reaches the app"
    );
    assert!(last(&app).url.starts_with(ADMIN));

    // A new password login is sent to the step-up page, not through enrolment again.
    let mut second = Browser::new(s.gw.https, s.gw.root());
    let hops = second.login(&format!("{ADMIN}/"), user, pw).await;
    let step_up = last(&hops);
    assert!(
        step_up.url.starts_with(&format!("{LOGIN}/mfa?")),
        "{}",
        step_up.url
    );
    assert_eq!(step_up.reply.status, 200);

    // Refused: a code two steps old, a malformed one, and the enrolment's code (already used).
    let old = submit(
        &mut second,
        step_up,
        "/mfa",
        &[("code", &code(&secret, now - 60))],
    )
    .await;
    assert_eq!(last(&old).reply.status, 401);
    let bad = submit(&mut second, last(&old), "/mfa", &[("code", "12 34 5x")]).await;
    assert_eq!(last(&bad).reply.status, 400);
    let replayed = submit(
        &mut second,
        last(&bad),
        "/mfa",
        &[("code", &code(&secret, now - 30))],
    )
    .await;
    assert_eq!(last(&replayed).reply.status, 401);
    assert!(last(&replayed).reply.text().contains("already used"));

    // The current step's code steps the session up and lands on the app.
    let fresh = code(&secret, settled_now().await);
    let stepped = submit(&mut second, last(&replayed), "/mfa", &[("code", &fresh)]).await;
    assert_eq!(last(&stepped).reply.status, 200, "{}", last(&stepped).url);
    assert!(
        last(&stepped).url.starts_with(ADMIN),
        "{}",
        last(&stepped).url
    );

    // The same code once more, from a third login: refused, on any replica.
    let mut third = Browser::new(s.gw.https, s.gw.root());
    let hops = third.login(&format!("{ADMIN}/"), user, pw).await;
    let again = submit(&mut third, last(&hops), "/mfa", &[("code", &fresh)]).await;
    assert_eq!(last(&again).reply.status, 401);

    // A recovery code works once, and says how many are left.
    let used = submit(
        &mut third,
        last(&again),
        "/mfa",
        &[("recovery_code", &recovery[3])],
    )
    .await;
    let text = last(&used).reply.text();
    assert_eq!(last(&used).reply.status, 200, "{text}");
    assert!(text.contains("<strong>9</strong>"), "{text}");
    let mut fourth = Browser::new(s.gw.https, s.gw.root());
    let hops = fourth.login(&format!("{ADMIN}/"), user, pw).await;
    let reused = submit(
        &mut fourth,
        last(&hops),
        "/mfa",
        &[("recovery_code", &recovery[3])],
    )
    .await;
    assert_eq!(last(&reused).reply.status, 401);

    // Audited: enrolment, the step-ups, every refusal with its reason, the recovery code.
    assert_eq!(events(&s.gw, "second_factor_enrolled").len(), 1);
    assert_eq!(events(&s.gw, "recovery_code_used").len(), 1);
    let failures: Vec<String> = events(&s.gw, "second_factor_failed")
        .iter()
        .map(|e| e["detail"].as_str().unwrap_or_default().to_owned())
        .collect();
    for reason in ["wrong", "malformed", "replayed"] {
        assert!(failures.iter().any(|f| f == reason), "{failures:?}");
    }
    for (result, at_least) in [
        ("success", 2.0),
        ("replayed", 2.0),
        ("wrong", 2.0),
        ("malformed", 2.0),
    ] {
        let series =
            format!("pforte_second_factor_attempts_total{{kind=\"totp\",result=\"{result}\"}}");
        let counted = s.gw.metric(&series).await.unwrap_or_default();
        assert!(counted >= at_least, "{series} = {counted}");
    }
    let recovered = s
        .gw
        .metric("pforte_second_factor_attempts_total{kind=\"recovery_code\",result=\"success\"}")
        .await;
    assert_eq!(recovered, Some(1.0));
    let log = std::fs::read_to_string(s.gw.path("audit.jsonl")).unwrap();
    assert!(!log.contains(&secret) && !log.contains(&fresh) && !log.contains(&recovery[3]));
}

#[tokio::test]
async fn wrong_codes_are_throttled_like_wrong_passwords() {
    let s = start(
        "mfa-throttle",
        "free_failures = 1\nfirst_delay = \"1m\"\nmax_delay = \"2m\"\n",
    )
    .await;
    let (user, pw) = (&s.person.username, &s.person.password);
    let mut browser = Browser::new(s.gw.https, s.gw.root());
    let hops = browser.login(&format!("{ADMIN}/"), user, pw).await;
    let enrolment = last(&hops);
    let secret = enrolled_secret(&enrolment.reply.text());
    let enrolled = submit(
        &mut browser,
        enrolment,
        "/security/totp",
        &[("code", &code(&secret, settled_now().await - 30))],
    )
    .await;
    assert_eq!(last(&enrolled).reply.status, 200);

    let mut other = Browser::new(s.gw.https, s.gw.root());
    let hops = other.login(&format!("{ADMIN}/"), user, pw).await;
    let mut page = last(&hops).reply.text();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let answer = submit_on(&mut other, &page, "/mfa", &[("code", "000000")]).await;
        statuses.push(last(&answer).reply.status);
        page = last(&answer).reply.text();
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    // Locked: even the right code is refused now.
    let right = code(&secret, settled_now().await);
    let locked = submit_on(&mut other, &page, "/mfa", &[("code", &right)]).await;
    assert_eq!(last(&locked).reply.status, 429);
    let throttled = events(&s.gw, "second_factor_failed")
        .iter()
        .filter(|e| e["detail"] == "throttled")
        .count();
    assert!(throttled >= 2, "{:?}", s.gw.audit());
}

#[tokio::test]
async fn a_session_stepped_up_on_one_replica_is_mfa_on_the_other() {
    let s = start("mfa-replica", "").await;
    let (user, pw) = (&s.person.username, &s.person.password);
    let admin = Upstream::start("admin").await;
    let mail = Upstream::start("mail").await;
    let b = replica(&s.person, &admin, &mail, &s.prefix, "").await;

    let mut on_a = Browser::new(s.gw.https, s.gw.root());
    let hops = on_a.login(&format!("{MAIL}/"), user, pw).await;
    assert_eq!(last(&hops).reply.status, 200);
    // Replica B knows the password session, and the admin app asks it for a step-up.
    let mut on_b = on_a.at(b.https, b.root());
    let hops = on_b.follow(&format!("{ADMIN}/")).await;
    assert!(
        last(&hops)
            .url
            .starts_with(&format!("{LOGIN}/security/totp")),
        "{}",
        last(&hops).url
    );
    // Enrolled and stepped up on A.
    let hops = on_a.follow(&format!("{ADMIN}/")).await;
    let secret = enrolled_secret(&last(&hops).reply.text());
    let enrolled = submit(
        &mut on_a,
        last(&hops),
        "/security/totp",
        &[("code", &code(&secret, settled_now().await))],
    )
    .await;
    assert_eq!(last(&enrolled).reply.status, 200);
    // B lets the same session into the admin app within the revocation bound.
    let mut on_b = on_a.at(b.https, b.root());
    let reached = pforte_e2e::eventually(Duration::from_secs(2), async || {
        let hops = on_b.follow(&format!("{ADMIN}/")).await;
        last(&hops).reply.status == 200 && last(&hops).url.starts_with(ADMIN)
    })
    .await;
    assert!(reached, "replica B did not see the step-up");
}

#[tokio::test]
async fn the_security_page_lists_factors_and_sessions_and_ends_a_session() {
    let s = start("mfa-security", "").await;
    let (user, pw) = (&s.person.username, &s.person.password);
    let mut phone = Browser::new(s.gw.https, s.gw.root());
    phone.extra_headers.push((
        "user-agent".into(),
        "Mozilla/5.0 (Android 14; Mobile; rv:130.0) Gecko/130.0 Firefox/130.0".into(),
    ));
    phone.login(&format!("{MAIL}/"), user, pw).await;
    let mut laptop = Browser::new(s.gw.https, s.gw.root());
    let hops = laptop.login(&format!("{ADMIN}/"), user, pw).await;
    let secret = enrolled_secret(&last(&hops).reply.text());
    submit(
        &mut laptop,
        last(&hops),
        "/security/totp",
        &[
            ("name", "Work phone"),
            ("code", &code(&secret, settled_now().await)),
        ],
    )
    .await;

    let page = laptop.get(&format!("{LOGIN}/security")).await;
    assert_eq!(page.status, 200);
    let text = page.text();
    assert!(text.contains("Work phone"), "{text}");
    assert!(text.contains("Recovery codes left: 10"), "{text}");
    assert!(
        text.contains("Firefox"),
        "the phone's session is listed by its device: {text}"
    );
    assert!(text.contains("mfa (pwd, otp)"), "{text}");

    // End the phone's session from the laptop: the phone is logged out on its next request.
    let csrf = hidden_value(&text, "csrf").unwrap();
    let rows: Vec<&str> = text.split("<tr>").skip(2).collect();
    assert_eq!(rows.len(), 2, "two sessions: {text}");
    let other = rows
        .iter()
        .find(|row| !row.contains("this browser"))
        .and_then(|row| hidden_value(row, "sid"))
        .expect("the phone's row");
    let ended = laptop
        .post(
            &format!("{LOGIN}/security/sessions/end"),
            &[("csrf", &csrf), ("sid", &other)],
        )
        .await;
    assert_eq!(ended.status, 200, "{}", ended.text());
    let ended_in_time = pforte_e2e::eventually(Duration::from_secs(1), async || {
        let hops = phone.follow(&format!("{MAIL}/")).await;
        last(&hops).url.starts_with(&format!("{LOGIN}/login"))
    })
    .await;
    assert!(ended_in_time, "the phone's session still works");

    // Another person's session cannot be ended from here.
    let foreign = laptop
        .post(
            &format!("{LOGIN}/security/sessions/end"),
            &[("csrf", &csrf), ("sid", "0123456789abcdef")],
        )
        .await;
    assert_eq!(foreign.status, 400);
}

const MAIL: &str = "https://mail.gw.test";

#[tokio::test]
async fn an_oidc_client_asking_for_mfa_gets_an_id_token_that_says_so() {
    let person = LdapPerson::add("mfa-oidc");
    let mail = Upstream::start("mail").await;
    let admin = Upstream::start("admin").await;
    let callback = "https://mail.gw.test/callback";
    let clients = format!(
        "[[client]]\nid = \"mail\"\napp = \"mail\"\npublic = true\nredirect_uris = [\"{callback}\"]\nscopes = [\"openid\", \"profile\"]\n"
    );
    let gw = Gateway::builder()
        .app("admin", "admin.gw.test", &[admin.url()])
        .app("mail", "mail.gw.test", &[mail.url()])
        .policy(policy(&person.username))
        .ldap(&[pforte_e2e::env("PFORTE_TEST_LDAP_URL")])
        .redis(&pforte_e2e::unique_prefix("mfa-oidc"), "")
        .mfa(KEY, "")
        .oidc(&clients)
        .start()
        .await;
    let (user, pw) = (&person.username, &person.password);

    // Enrolled in one browser, with the previous step's code.
    let mut enrolling = Browser::new(gw.https, gw.root());
    enrolling.login(&format!("{LOGIN}/login"), user, pw).await;
    let page = enrolling
        .get(&format!("{LOGIN}/security/totp"))
        .await
        .text();
    let secret = enrolled_secret(&page);
    let now = settled_now().await;
    let enrolled = submit_on(
        &mut enrolling,
        &page,
        "/security/totp",
        &[("code", &code(&secret, now - 30))],
    )
    .await;
    assert_eq!(last(&enrolled).reply.status, 200);

    // A password session in another browser; the client asks for MFA.
    let mut browser = Browser::new(gw.https, gw.root());
    browser.login(&format!("{LOGIN}/login"), user, pw).await;
    let verifier = "an-mfa-e2e-pkce-verifier-that-is-long-enough-0123456789";
    let challenge = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()),
    );
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", "mail"),
            ("redirect_uri", callback),
            ("scope", "openid profile"),
            ("state", "s1"),
            ("nonce", "n1"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("acr_values", "urn:pforte:acr:mfa"),
        ])
        .finish();
    let hops = browser
        .follow(&format!("{LOGIN}/oidc/authorize?{query}"))
        .await;
    let step_up = last(&hops);
    assert!(
        step_up.url.starts_with(&format!("{LOGIN}/mfa?")),
        "{}",
        step_up.url
    );
    let fresh = code(&secret, settled_now().await);
    let page = step_up.reply.text();
    let csrf = hidden_value(&page, "csrf").unwrap();
    let return_to = hidden_value(&page, "return_to").unwrap();
    let posted = browser
        .post(
            &format!("{LOGIN}/mfa"),
            &[("csrf", &csrf), ("return_to", &return_to), ("code", &fresh)],
        )
        .await;
    assert_eq!(posted.status, 303, "{}", posted.text());
    let back = posted.header("location").unwrap().to_owned();
    assert!(
        back.starts_with(&format!("{LOGIN}/oidc/authorize?")),
        "{back}"
    );
    let to_client = browser.get(&back).await;
    let location = to_client.header("location").unwrap_or_default().to_owned();
    assert!(
        location.starts_with(callback),
        "{location}: {}",
        to_client.text()
    );
    let code_value = form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");

    let mut h1 = pforte_e2e::client::H1::connect(gw.https, "login.gw.test", &gw.root()).await;
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "authorization_code"),
            ("code", code_value.as_str()),
            ("redirect_uri", callback),
            ("client_id", "mail"),
            ("code_verifier", verifier),
        ])
        .finish();
    let req = h1
        .request("POST", "/oidc/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.into())
        .unwrap();
    let tokens = h1.send(req).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text());
    let id_token = tokens.json()["id_token"].as_str().unwrap().to_owned();
    let payload = id_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["acr"], "urn:pforte:acr:mfa", "{claims}");
    assert_eq!(
        claims["amr"],
        serde_json::json!(["pwd", "otp", "mfa"]),
        "{claims}"
    );
}

#[tokio::test]
async fn changing_factors_needs_a_stepped_up_session_and_the_password() {
    let s = start("mfa-change", "").await;
    let (user, pw) = (&s.person.username, &s.person.password);

    // An enrolment without its confirming code saves nothing: the next login enrols again.
    let mut quitter = Browser::new(s.gw.https, s.gw.root());
    let hops = quitter.login(&format!("{ADMIN}/"), user, pw).await;
    let refused = submit(
        &mut quitter,
        last(&hops),
        "/security/totp",
        &[("code", "999999")],
    )
    .await;
    assert_eq!(last(&refused).reply.status, 400);
    let mut strong = Browser::new(s.gw.https, s.gw.root());
    let hops = strong.login(&format!("{ADMIN}/"), user, pw).await;
    assert!(
        last(&hops)
            .url
            .starts_with(&format!("{LOGIN}/security/totp"))
    );
    let secret = enrolled_secret(&last(&hops).reply.text());
    let enrolled = submit(
        &mut strong,
        last(&hops),
        "/security/totp",
        &[
            ("name", "Phone"),
            ("code", &code(&secret, settled_now().await - 30)),
        ],
    )
    .await;
    let old_codes: Vec<String> = last(&enrolled)
        .reply
        .text()
        .split("<li><code>")
        .skip(1)
        .map(|c| c.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(old_codes.len(), 10);

    // A password-only session may look, but a change sends it to the step-up page first.
    let mut weak = Browser::new(s.gw.https, s.gw.root());
    weak.login(&format!("{LOGIN}/login"), user, pw).await;
    let page = weak.get(&format!("{LOGIN}/security")).await.text();
    let handle = hidden_value(&page, "handle").expect("the factor's form");
    let csrf = hidden_value(&page, "csrf").unwrap();
    let removal = change_factor(
        &mut weak,
        &csrf,
        &handle,
        &[("action", "remove"), ("confirm", pw)],
    )
    .await;
    assert_eq!(removal.status, 303);
    assert!(removal.header("location").unwrap().starts_with("/mfa?"));

    // The stepped-up session: a wrong confirmation changes nothing; the password renames.
    let page = strong.get(&format!("{LOGIN}/security")).await.text();
    let csrf = hidden_value(&page, "csrf").unwrap();
    let wrong = change_factor(
        &mut strong,
        &csrf,
        &handle,
        &[
            ("action", "rename"),
            ("name", "Stolen"),
            ("confirm", "nope"),
        ],
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert!(!wrong.text().contains("Stolen"));
    let csrf = hidden_value(&wrong.text(), "csrf").unwrap();
    let renamed = change_factor(
        &mut strong,
        &csrf,
        &handle,
        &[
            ("action", "rename"),
            ("name", "Work phone"),
            ("confirm", pw),
        ],
    )
    .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    assert!(renamed.text().contains("Work phone") && renamed.text().contains("Saved."));

    // New recovery codes replace the old ones.
    let csrf = hidden_value(&renamed.text(), "csrf").unwrap();
    let renewed = strong
        .post(
            &format!("{LOGIN}/security/recovery"),
            &[("csrf", &csrf), ("confirm", pw)],
        )
        .await;
    assert_eq!(renewed.status, 200);
    assert_eq!(renewed.text().matches("<li><code>").count(), 10);
    let mut other = Browser::new(s.gw.https, s.gw.root());
    let hops = other.login(&format!("{ADMIN}/"), user, pw).await;
    let stale = submit(
        &mut other,
        last(&hops),
        "/mfa",
        &[("recovery_code", &old_codes[0])],
    )
    .await;
    assert_eq!(
        last(&stale).reply.status,
        401,
        "an old code no longer works"
    );

    // Removed: the next login to the admin app enrols again.
    let page = strong.get(&format!("{LOGIN}/security")).await.text();
    let handle = hidden_value(&page, "handle").unwrap();
    let csrf = hidden_value(&page, "csrf").unwrap();
    let removed = change_factor(
        &mut strong,
        &csrf,
        &handle,
        &[("action", "remove"), ("confirm", pw)],
    )
    .await;
    assert_eq!(removed.status, 200, "{}", removed.text());
    assert!(removed.text().contains("You have no second factor yet."));
    let mut after = Browser::new(s.gw.https, s.gw.root());
    let hops = after.login(&format!("{ADMIN}/"), user, pw).await;
    assert!(
        last(&hops)
            .url
            .starts_with(&format!("{LOGIN}/security/totp"))
    );
    assert_eq!(events(&s.gw, "second_factor_removed").len(), 1);
    assert_eq!(events(&s.gw, "second_factor_renamed").len(), 1);
}

#[tokio::test]
async fn forward_auth_sends_a_password_session_to_the_step_up_page() {
    let person = LdapPerson::add("mfa-forward");
    let admin = Upstream::start("admin").await;
    let mail = Upstream::start("mail").await;
    let gw = Gateway::builder()
        .app("admin", "admin.gw.test", &[admin.url()])
        .app("mail", "mail.gw.test", &[mail.url()])
        .policy(policy(&person.username))
        .ldap(&[pforte_e2e::env("PFORTE_TEST_LDAP_URL")])
        .redis(&pforte_e2e::unique_prefix("mfa-forward"), "")
        .mfa(KEY, "")
        .trusted_proxies(&["127.0.0.1/32"])
        .start()
        .await;
    let mut browser = Browser::new(gw.https, gw.root());
    browser
        .login(
            &format!("{LOGIN}/login"),
            &person.username,
            &person.password,
        )
        .await;
    let session = browser
        .cookie("login.gw.test", "__Host-pforte")
        .unwrap()
        .to_owned();
    let verify = |session: String| {
        let gw = &gw;
        async move {
            let mut h1 = gw.h1("login.gw.test").await;
            let req = h1
                .request("GET", "/auth/verify")
                .header("x-original-url", "https://admin.gw.test/runbook?x=1")
                .header("x-original-method", "GET")
                .header("cookie", format!("__Host-pforte={session}"));
            h1.send(req.body(Default::default()).unwrap()).await
        }
    };
    let weak = verify(session.clone()).await;
    assert_eq!(weak.status, 401);
    assert_eq!(
        weak.header("location"),
        Some("https://login.gw.test/mfa?return_to=https%3A%2F%2Fadmin.gw.test%2Frunbook%3Fx%3D1")
    );

    // Enrolled (and so stepped up) on the login host: the same session passes.
    let page = browser.get(&format!("{LOGIN}/security/totp")).await.text();
    let secret = enrolled_secret(&page);
    let enrolled = submit_on(
        &mut browser,
        &page,
        "/security/totp",
        &[("code", &code(&secret, settled_now().await))],
    )
    .await;
    assert_eq!(last(&enrolled).reply.status, 200);
    let strong = verify(session).await;
    assert_eq!(strong.status, 200, "{}", strong.text());
}
