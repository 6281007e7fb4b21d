//! Log in once: the login form, the hand-over to app hosts, identity headers, the portal,
//! logout, and everything that must not get in (wrong passwords, throttled guessing, open
//! redirects, tampered cookies, LDAP injection). Against the demo people file, the real slapd and
//! the real Redis.

use std::time::Duration;

use pforte_e2e::browser::{Browser, hidden_value};
use pforte_e2e::eventually;
use pforte_e2e::gateway::{Gateway, GatewayBuilder, app_toml};
use pforte_e2e::upstream::Upstream;

/// Staff use mail and docs; partners only docs; discovery documents are public.
const POLICY: &str = r#"[[rule]]
apps = ["*"]
paths = ["/.well-known/"]
allow = ["everyone"]

[[rule]]
apps = ["mail", "docs"]
allow = ["group:staff"]

[[rule]]
apps = ["docs"]
allow = ["group:partners"]
"#;

const LOGIN: &str = "https://login.gw.test";
const MAIL: &str = "https://mail.gw.test";
const DOCS: &str = "https://docs.gw.test";

struct Setup {
    gw: Gateway,
    mail: Upstream,
    _docs: Upstream,
}

async fn builder() -> (GatewayBuilder, Upstream, Upstream) {
    let mail = Upstream::start("mail").await;
    let docs = Upstream::start("docs").await;
    let apps = app_toml(
        "mail",
        "mail.gw.test",
        "/",
        &[mail.url()],
        "display_name = \"Team Mail\"",
    ) + &app_toml(
        "docs",
        "docs.gw.test",
        "/",
        &[docs.url()],
        "display_name = \"Documents\"",
    );
    let builder = Gateway::builder().apps(apps).policy(POLICY).audit_log();
    (builder, mail, docs)
}

async fn start(configure: impl FnOnce(GatewayBuilder) -> GatewayBuilder) -> Setup {
    let (builder, mail, docs) = builder().await;
    let gw = configure(builder).start().await;
    Setup {
        gw,
        mail,
        _docs: docs,
    }
}

fn browser(gw: &Gateway) -> Browser {
    Browser::new(gw.https, gw.root())
}

fn events(gw: &Gateway, event: &str) -> Vec<serde_json::Value> {
    gw.audit()
        .into_iter()
        .filter(|e| e["event"] == event)
        .collect()
}

#[tokio::test]
async fn log_in_once_and_open_every_app_without_another_password() {
    let Setup { gw, mail, _docs } = start(GatewayBuilder::demo_people).await;
    let mut b = browser(&gw);

    // Not logged in: a browser is sent to the login page with where it was going...
    let first = b.get(&format!("{MAIL}/inbox?folder=1")).await;
    assert_eq!(first.status, 302);
    let location = first.header("location").unwrap();
    assert!(
        location.starts_with(
            "https://login.gw.test/login?return_to=https%3A%2F%2Fmail.gw.test%2Finbox%3Ffolder%3D1"
        ),
        "{location}"
    );
    // ...and an API client gets a 401.
    let mut api = b.at(gw.https, gw.root());
    api.extra_headers
        .push(("accept".into(), "application/json".into()));
    assert_eq!(api.get(&format!("{MAIL}/api/messages")).await.status, 401);
    assert_eq!(mail.count(), 0);

    // A cookie planted before the login is not the session afterwards (no fixation).
    b.cookies
        .entry("login.gw.test".into())
        .or_default()
        .insert("__Host-pforte".into(), "A".repeat(43));

    let hops = b
        .login(&format!("{MAIL}/inbox?folder=1"), "alice", "alicepw")
        .await;
    let landed = &hops[0];
    assert_eq!(
        landed.reply.status,
        200,
        "{}\n{}",
        landed.reply.text(),
        gw.log()
    );
    assert_eq!(landed.url, format!("{MAIL}/inbox?folder=1"));
    let seen = landed.reply.json();
    assert_eq!(seen["upstream"], "mail");
    assert_eq!(
        seen["headers"]["x-forwarded-user"],
        serde_json::json!(["alice"])
    );
    assert_eq!(
        seen["headers"]["x-forwarded-groups"],
        serde_json::json!(["admins,staff"])
    );
    assert_eq!(
        seen["headers"]["x-forwarded-name"],
        serde_json::json!(["Alice Liddell"])
    );
    assert_eq!(
        seen["headers"]["x-forwarded-email"],
        serde_json::json!(["alice@example.org"])
    );
    assert!(
        seen["headers"].get("cookie").is_none(),
        "the session cookie never reaches the app: {seen}"
    );
    let session = b
        .cookie("login.gw.test", "__Host-pforte")
        .unwrap()
        .to_string();
    assert_ne!(session, "A".repeat(43));
    assert_eq!(
        b.cookie("mail.gw.test", "__Host-pforte"),
        Some(session.as_str())
    );

    // The session cookie as the login response set it.
    let set_cookie = hops
        .iter()
        .flat_map(|h| h.reply.headers.get_all("set-cookie"))
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("__Host-pforte="))
        .unwrap();
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Domain"), "{set_cookie}");

    // Docs: a hand-over through the login host, no form.
    let hops = b.follow(&format!("{DOCS}/")).await;
    assert_eq!(hops[0].reply.status, 200);
    assert_eq!(hops[0].reply.json()["upstream"], "docs");
    assert!(
        hops.iter()
            .all(|h| !h.reply.text().contains("name=\"password\""))
    );

    // The portal lists the apps alice may open, and a logout button.
    let portal = b.get(&format!("{LOGIN}/")).await;
    assert_eq!(portal.status, 200);
    let page = portal.text();
    assert!(
        page.contains("https://mail.gw.test/\">Team Mail</a>"),
        "{page}"
    );
    assert!(
        page.contains("https://docs.gw.test/\">Documents</a>"),
        "{page}"
    );
    assert!(page.contains("Alice Liddell"));

    // Logout ends the session on every host.
    let token = hidden_value(&page, "csrf").unwrap();
    let out = b
        .post(&format!("{LOGIN}/logout"), &[("csrf", token.as_str())])
        .await;
    assert_eq!(out.status, 200, "{}", out.text());
    assert_eq!(b.get(&format!("{MAIL}/inbox")).await.status, 302);
    assert_eq!(b.get(&format!("{DOCS}/")).await.status, 302);
    assert_eq!(b.get(&format!("{LOGIN}/")).await.status, 303);

    assert_eq!(events(&gw, "login_success").len(), 1);
    let logout = &events(&gw, "logout")[0];
    assert_eq!(logout["subject"], "d3db2d2a-ab3e-4c29-aa09-ec8911d9b629");
    assert_eq!(
        gw.metric("pforte_logins_total{result=\"success\"}").await,
        Some(1.0)
    );
    assert!(!gw.log().contains("alicepw"), "a password reached the log");
    assert!(!gw.audit().iter().any(|e| e.to_string().contains(&session)));
}

#[tokio::test]
async fn a_refusal_names_the_app_and_the_person() {
    let Setup { gw, mail, _docs } = start(GatewayBuilder::demo_people).await;
    let mut b = browser(&gw);
    b.login(&format!("{LOGIN}/login"), "bob", "bobpw").await;
    let refused = b.get(&format!("{MAIL}/")).await;
    let refused = if refused.status == 302 {
        b.follow(&format!("{MAIL}/")).await.remove(0).reply
    } else {
        refused
    };
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert!(refused.text().contains("Team Mail") && refused.text().contains("Bob Builder"));
    assert_eq!(mail.count(), 0);
    let denied = events(&gw, "access_denied");
    assert!(
        denied
            .iter()
            .any(|e| e["app"] == "mail" && e["subject"] == "157181d0-ea94-4e83-8181-53e529155301"),
        "{denied:?}"
    );
    assert_eq!(b.follow(&format!("{DOCS}/")).await[0].reply.status, 200);
}

#[tokio::test]
async fn wrong_password_unknown_user_and_disabled_account_look_the_same() {
    let Setup {
        gw,
        mail: _mail,
        _docs,
    } = start(GatewayBuilder::demo_people).await;
    let mut answers = Vec::new();
    for (user, password) in [
        ("alice", "wrong"),
        ("nobody", "whatever"),
        ("dave", "davepw"),
    ] {
        let mut b = browser(&gw);
        let hops = b.login(&format!("{LOGIN}/login"), user, password).await;
        let reply = &hops[0].reply;
        assert_eq!(reply.status, 401, "{user}");
        let text = reply.text();
        assert!(text.contains("role=\"alert\""), "{text}");
        assert!(b.cookie("login.gw.test", "__Host-pforte").is_none());
        let message = text
            .split("role=\"alert\"")
            .nth(1)
            .unwrap()
            .split("</div>")
            .next()
            .unwrap()
            .to_string();
        answers.push(message);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    let reasons: Vec<String> = events(&gw, "login_failure")
        .iter()
        .map(|e| e["reason"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(reasons, ["wrong_password", "unknown_user", "disabled"]);
    assert_eq!(
        gw.metric("pforte_logins_total{result=\"bad_credentials\"}")
            .await,
        Some(3.0)
    );
    // Empty fields are named.
    let mut b = browser(&gw);
    let hops = b.login(&format!("{LOGIN}/login"), "alice", "").await;
    assert_eq!(hops[0].reply.status, 400);
    assert!(hops[0].reply.text().contains("id=\"password-error\""));
}

#[tokio::test]
async fn repeated_failures_lock_the_account_until_the_lock_ends() {
    let Setup { gw, mail: _mail, _docs } = start(|b| {
        b.demo_people().sessions(
            "[sessions.throttle]\nfree_failures = 2\nfirst_delay = \"1s\"\nmax_delay = \"1s\"\nlock_after = 3\nlock_for = \"6s\"",
        )
    })
    .await;
    for _ in 0..3 {
        let mut b = browser(&gw);
        b.login(&format!("{LOGIN}/login"), "carol", "guess").await;
    }
    // Locked: even the right password is refused, with the throttle message.
    let mut b = browser(&gw);
    let hops = b.login(&format!("{LOGIN}/login"), "carol", "carolpw").await;
    assert_eq!(hops[0].reply.status, 429, "{:?}", gw.audit());
    assert!(hops[0].reply.text().contains("Too many failed attempts"));
    let lockouts = events(&gw, "lockout");
    let scopes: Vec<&str> = lockouts
        .iter()
        .map(|e| e["scope"].as_str().unwrap())
        .collect();
    assert_eq!(scopes, ["account", "source"], "the account and the address");
    assert_eq!(gw.metric("pforte_login_lockouts_total").await, Some(2.0));
    // After the lock ends, the right password works.
    let unlocked = eventually(Duration::from_secs(12), async || {
        let mut b = browser(&gw);
        let hops = b.login(&format!("{LOGIN}/login"), "carol", "carolpw").await;
        hops[0].url == format!("{LOGIN}/") && hops[0].reply.status == 200
    })
    .await;
    assert!(unlocked, "{}", gw.log());
}

#[tokio::test]
async fn the_return_url_is_followed_only_to_this_gateways_hosts() {
    let Setup {
        gw,
        mail: _mail,
        _docs,
    } = start(GatewayBuilder::demo_people).await;
    for evil in [
        "//evil.example/",
        "https:evil.example",
        "https://evil.example/",
        "https://mail.gw.test.evil.example/",
        "https://mail.gw.test:8443/",
        "http://mail.gw.test/",
        "https://evil.example%2F@mail.gw.test/",
        "https://user@mail.gw.test/",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        let mut b = browser(&gw);
        let start = format!(
            "{LOGIN}/login?return_to={}",
            form_urlencoded::byte_serialize(evil.as_bytes()).collect::<String>()
        );
        let hops = b.login(&start, "alice", "alicepw").await;
        for hop in &hops {
            assert!(
                hop.url.starts_with(LOGIN)
                    || hop.url.starts_with(MAIL)
                    || hop.url.starts_with(DOCS),
                "{evil:?} led to {}",
                hop.url
            );
        }
        assert_eq!(
            hops[0].url,
            format!("{LOGIN}/"),
            "{evil:?} must land on the portal"
        );
    }
}

#[tokio::test]
async fn forged_and_tampered_session_cookies_are_no_session() {
    let Setup {
        gw,
        mail: _mail,
        _docs,
    } = start(GatewayBuilder::demo_people).await;
    let mut b = browser(&gw);
    b.login(&format!("{MAIL}/"), "alice", "alicepw").await;
    let good = b
        .cookie("mail.gw.test", "__Host-pforte")
        .unwrap()
        .to_string();
    let mut flipped = good.clone().into_bytes();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    for forged in [
        String::from_utf8(flipped).unwrap(),
        format!("{good}x"),
        good[..42].to_string(),
        "%00".into(),
        "!".repeat(43),
        String::new(),
    ] {
        let mut other = browser(&gw);
        other
            .cookies
            .entry("mail.gw.test".into())
            .or_default()
            .insert("__Host-pforte".into(), forged.clone());
        let reply = other.get(&format!("{MAIL}/")).await;
        assert_eq!(reply.status, 302, "forged cookie {forged:?} was accepted");
    }
    // A forged hand-over ticket is no session either.
    let mut other = browser(&gw);
    let reply = other
        .get(&format!("{MAIL}/.pforte/sso?ticket=AAAA&return_to=/"))
        .await;
    assert_eq!(reply.status, 303);
    assert!(
        reply
            .header("location")
            .unwrap()
            .starts_with("https://login.gw.test/login")
    );
    assert!(other.cookie("mail.gw.test", "__Host-pforte").is_none());
}

#[tokio::test]
async fn ldap_logins_with_nested_groups_and_injection_attempts() {
    let Setup {
        gw,
        mail: _mail,
        _docs,
    } = start(|b| {
        b.ldap(&[pforte_e2e::env("PFORTE_TEST_LDAP_URL")])
            .sessions("[sessions.throttle]\nfree_failures = 50\nlock_after = 100")
    })
    .await;
    // carol is in staff only through the nested group finance.
    let mut b = browser(&gw);
    let hops = b.login(&format!("{MAIL}/"), "carol", "carolpw").await;
    assert_eq!(hops[0].reply.status, 200, "{}", hops[0].reply.text());
    let groups = hops[0].reply.json()["headers"]["x-forwarded-groups"].clone();
    assert_eq!(groups, serde_json::json!(["finance,staff"]));
    for injection in [
        "*",
        ")(uid=*",
        "alice)(|(uid=*",
        "alice\u{0}",
        "*)(objectClass=*",
    ] {
        let mut b = browser(&gw);
        let hops = b
            .login(&format!("{LOGIN}/login"), injection, "alicepw")
            .await;
        assert_eq!(hops[0].reply.status, 401, "{injection:?}");
        assert!(b.cookie("login.gw.test", "__Host-pforte").is_none());
    }
    let mut b = browser(&gw);
    let hops = b.login(&format!("{LOGIN}/login"), "dave", "davepw").await;
    assert_eq!(hops[0].reply.status, 401, "disabled dave");
}

#[tokio::test]
async fn an_unreachable_directory_is_not_a_wrong_password() {
    let Setup {
        gw,
        mail: _mail,
        _docs,
    } = start(|b| b.ldap(&["ldap://127.0.0.1:9".to_string()])).await;
    let mut b = browser(&gw);
    let hops = b.login(&format!("{LOGIN}/login"), "alice", "alicepw").await;
    assert_eq!(hops[0].reply.status, 503);
    let text = hops[0].reply.text();
    assert!(text.contains("cannot be reached"), "{text}");
    assert!(!text.contains("not correct"));
    assert_eq!(
        gw.metric("pforte_logins_total{result=\"directory_unavailable\"}")
            .await,
        Some(1.0)
    );
    assert_eq!(
        events(&gw, "login_failure")[0]["reason"],
        "directory_unavailable"
    );
}

#[tokio::test]
async fn a_parent_domain_cookie_spares_the_hand_over() {
    let Setup {
        gw,
        mail: _mail,
        _docs,
    } = start(|b| b.demo_people().portal("cookie_domain = \"gw.test\"")).await;
    let mut b = browser(&gw);
    let hops = b.login(&format!("{LOGIN}/login"), "alice", "alicepw").await;
    assert_eq!(hops[0].url, format!("{LOGIN}/"));
    let set: Vec<_> = hops
        .iter()
        .flat_map(|h| h.reply.headers.get_all("set-cookie"))
        .collect();
    assert!(
        b.cookies.contains_key(".gw.test"),
        "{:?} {set:?}",
        b.cookies.keys()
    );
    // Straight to the app: no redirect, no ticket.
    let direct = b.get(&format!("{MAIL}/inbox")).await;
    assert_eq!(direct.status, 200, "{}", direct.text());
    assert_eq!(
        direct.json()["headers"]["x-forwarded-user"],
        serde_json::json!(["alice"])
    );
    assert!(
        direct.json()["headers"].get("cookie").is_none(),
        "pforte_sso reached the app"
    );
    // Logout clears the domain cookie too.
    let portal = b.get(&format!("{LOGIN}/")).await.text();
    let token = hidden_value(&portal, "csrf").unwrap();
    b.post(&format!("{LOGIN}/logout"), &[("csrf", token.as_str())])
        .await;
    assert!(b.cookies.get(".gw.test").is_none_or(|jar| jar.is_empty()));
    assert_eq!(b.get(&format!("{MAIL}/inbox")).await.status, 302);
}
