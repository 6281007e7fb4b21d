//! `pforte-admin` and the memory session store, the embedded default: the sessions live inside
//! the gateway process, and the tool reaches them through the gateway's admin listener. Listing,
//! showing, revoking, locks and offboarding (`users disable|delete`) work as with Redis: a
//! revoked person is refused on their next request, their OpenID Connect client gets a
//! back-channel logout, each revocation is audited with the admin's name. A wrong admin token is
//! refused, a gateway that is not running is named as such (exit 3), and the listener's own
//! answers say which parameter was wrong.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::PkceCodeChallenge;
use pforte_e2e::browser::Browser;
use pforte_e2e::client::{H1, plain};
use pforte_e2e::gateway::{Gateway, GatewayBuilder, app_toml, pforte_admin_bin};
use pforte_e2e::oidc::BackchannelRp;
use pforte_e2e::pki::TestCa;
use pforte_e2e::upstream::Upstream;
use serde_json::Value;

const LOGIN: &str = "https://login.gw.test";
const MAIL: &str = "https://mail.gw.test";
const CALLBACK: &str = "https://rp.gw.test/callback";
const SECRET: &str = "mail-client-secret-0123456789";
const ADMIN: &str = "e2e-offboarder";
const POLICY: &str = "[[rule]]\napps = [\"mail\"]\nallow = [\"group:staff\"]\n";

/// Runs `pforte-admin --config CONFIG ARGS` without a terminal, as the admin [`ADMIN`].
fn admin_with(config: &std::path::Path, args: &[&str]) -> Output {
    Command::new(pforte_admin_bin())
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::null())
        .env_remove("RUST_LOG")
        .env("SUDO_USER", ADMIN)
        .output()
        .unwrap()
}

fn ok(gw: &Gateway, args: &[&str]) -> String {
    let out = admin_with(&gw.config_path, args);
    assert!(out.status.success(), "pforte-admin {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Expects exit `code`; returns standard error.
fn fails_with(config: &std::path::Path, args: &[&str], code: i32) -> String {
    let out = admin_with(config, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "pforte-admin {args:?}: {out:?}"
    );
    String::from_utf8(out.stderr).unwrap()
}

fn json(gw: &Gateway, args: &[&str]) -> Value {
    serde_json::from_str(&ok(gw, args)).unwrap()
}

/// A gateway on the memory store with the demo people and the mail app, and `mail` as an
/// OpenID Connect client whose back-channel logout endpoint is `rp`.
fn builder(mail: &Upstream, rp: &BackchannelRp) -> GatewayBuilder {
    let secret_hash = pforte_oidc::clients::SecretHash::create(SECRET, [7u8; 16]).unwrap();
    let clients = format!(
        "[[client]]\nid = \"mail\"\napp = \"mail\"\nsecret_hash = \"{secret_hash}\"\n\
         redirect_uris = [\"{CALLBACK}\"]\nscopes = [\"openid\", \"profile\"]\n\
         backchannel_logout_uri = \"{}\"\n",
        rp.uri()
    );
    Gateway::builder()
        .apps(app_toml("mail", "mail.gw.test", "/", &[mail.url()], ""))
        .policy(POLICY)
        .demo_people()
        .audit_log()
        .oidc(&clients)
        .sessions(
            "[sessions.throttle]\nfree_failures = 0\nfirst_delay = \"1s\"\nlock_after = 1\n\
             lock_for = \"1h\"",
        )
}

/// A browser in which `user` has logged in to mail.
async fn logged_in(gw: &Gateway, user: &str) -> Browser {
    let mut browser = Browser::new(gw.https, gw.root());
    let hops = browser
        .login(&format!("{MAIL}/"), user, &format!("{user}pw"))
        .await;
    assert_eq!(
        hops[0].reply.status,
        200,
        "{user}: {}",
        hops[0].reply.text()
    );
    browser
}

/// Lets the `mail` client get tokens in the browser's session (so the session names it for
/// back-channel logout): the code flow with PKCE, by hand.
async fn tokens_in(gw: &Gateway, browser: &mut Browser) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", "mail")
        .append_pair("redirect_uri", CALLBACK)
        .append_pair("scope", "openid profile")
        .append_pair("state", "st")
        .append_pair("code_challenge", challenge.as_str())
        .append_pair("code_challenge_method", "S256");
    let reply = browser
        .get(&format!("{LOGIN}/oidc/authorize?{}", query.finish()))
        .await;
    let location = reply.header("location").unwrap_or_default().to_owned();
    assert!(
        location.starts_with(CALLBACK),
        "{}: {location}",
        reply.status
    );
    let query = location.split_once('?').map_or("", |(_, q)| q);
    let code = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("redirect_uri", CALLBACK)
        .append_pair("code_verifier", verifier.secret())
        .finish();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("mail:{SECRET}"));
    let mut h1 = H1::connect(gw.https, "login.gw.test", &gw.root()).await;
    let request = h1
        .request("POST", "/oidc/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", format!("Basic {basic}"))
        .body(body.into())
        .unwrap();
    let reply = h1.send(request).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn revocations(gw: &Gateway) -> Vec<Value> {
    gw.audit()
        .into_iter()
        .filter(|e| e["event"] == "session_revoked")
        .collect()
}

#[tokio::test]
async fn the_tool_reaches_the_memory_store_through_the_gateway() {
    let mail = Upstream::start("mail").await;
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let rp = BackchannelRp::start(&ca, dir.path()).await;
    let mut gw = builder(&mail, &rp).start_with_ca(ca).await;
    let mut alice = logged_in(&gw, "alice").await;
    let mut carol = logged_in(&gw, "carol").await;
    tokens_in(&gw, &mut carol).await;

    // Listing and showing, as with Redis.
    let everyone = json(&gw, &["sessions", "list", "--json"]);
    assert_eq!(everyone.as_array().unwrap().len(), 2, "{everyone}");
    let alices = json(&gw, &["sessions", "list", "--user", "ALICE", "--json"]);
    let alices = alices.as_array().unwrap();
    assert_eq!(alices.len(), 1, "{alices:?}");
    assert_eq!(alices[0]["user"], "alice");
    assert_eq!(alices[0]["methods"], serde_json::json!(["password"]));
    let sid = alices[0]["sid"].as_str().unwrap().to_owned();
    assert!(
        ok(&gw, &["sessions", "list"]).contains(&sid),
        "the table shows it"
    );
    let shown = json(&gw, &["sessions", "show", &sid, "--json"]);
    assert_eq!(shown, alices[0], "show and list agree");
    let err = fails_with(
        &gw.config_path,
        &["sessions", "show", "0123456789abcdef"],
        1,
    );
    assert!(err.contains("no live session"), "{err}");
    let err = fails_with(&gw.config_path, &["sessions", "revoke", "XYZ"], 2);
    assert!(err.contains("not a session id"), "{err}");

    let shown = json(&gw, &["users", "show", "carol", "--json"]);
    assert_eq!(shown["lock"]["state"], "open", "{shown}");
    let carols = shown["sessions"].as_array().unwrap();
    assert_eq!(carols.len(), 1, "{shown}");
    assert_eq!(carols[0]["clients"], serde_json::json!(["mail"]));
    let refreshed = carols[0]["identity_refreshed"].as_u64().unwrap();
    assert!(
        refreshed >= carols[0]["created"].as_u64().unwrap(),
        "{shown}"
    );
    assert_eq!(
        shown["identity_refreshed"], refreshed,
        "the newest of her sessions"
    );
    let text = ok(&gw, &["users", "show", "carol"]);
    assert!(
        text.contains("locked:") && text.contains("sessions: 1"),
        "{text}"
    );
    assert!(!text.contains("unknown"), "{text}");
    let refreshed_line = text
        .lines()
        .find(|l| l.starts_with("identity refreshed:"))
        .unwrap_or_default();
    assert!(
        refreshed_line.contains('T') && refreshed_line.ends_with("Z (newest of their sessions)"),
        "{text}"
    );

    // Revoking one session: refused on the very next request.
    assert_eq!(alice.get(&format!("{MAIL}/")).await.status, 200);
    let out = ok(&gw, &["sessions", "revoke", &sid, "--yes"]);
    assert!(
        out.contains(&format!("revoked session {sid} of alice")),
        "{out}"
    );
    assert_eq!(
        alice.get(&format!("{MAIL}/")).await.status,
        302,
        "the revoked session is refused right after the command"
    );
    assert_eq!(
        carol.get(&format!("{MAIL}/")).await.status,
        200,
        "carol keeps hers"
    );
    let audited = revocations(&gw);
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(audited[0]["session"], sid.as_str());
    assert_eq!(
        audited[0]["by"], ADMIN,
        "the admin's name, not the gateway's"
    );

    // Offboarding: disable ends every session of the person in the same command, and her
    // client hears of it by back-channel logout.
    let carol_subject = carols[0]["subject"].as_str().unwrap().to_owned();
    let started = Instant::now();
    let out = ok(&gw, &["users", "disable", "carol"]);
    let command_took = started.elapsed();
    assert!(out.contains("disabled carol"), "{out}");
    assert!(out.contains("ended 1 session(s) of carol"), "{out}");
    assert_eq!(
        carol.get(&format!("{MAIL}/")).await.status,
        302,
        "carol's session is refused right after `users disable`"
    );
    let delivered =
        pforte_e2e::eventually(Duration::from_secs(5), async || !rp.received().is_empty()).await;
    assert!(
        delivered,
        "no back-channel logout after {:?}",
        started.elapsed()
    );
    // The figure for the report (run with --nocapture): the whole command (people file
    // changed, sessions ended through the listener) and the first back-channel delivery.
    eprintln!(
        "users disable: command {command_took:?}, back-channel logout received {:?} after start",
        started.elapsed()
    );
    let claims = claims_of(&rp.received()[0]);
    assert_eq!(claims["aud"], "mail");
    assert_eq!(claims["sub"], carol_subject.as_str());
    let audited = revocations(&gw);
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert_eq!(audited[1]["subject"], carol_subject.as_str());
    assert_eq!(audited[1]["by"], ADMIN);
    assert!(
        json(&gw, &["sessions", "list", "--json"])
            .as_array()
            .unwrap()
            .is_empty(),
        "no session left"
    );

    // Locks of the memory store: seen and lifted through the gateway.
    let mut erin = Browser::new(gw.https, gw.root());
    erin.login(&format!("{LOGIN}/login"), "erin", "wrong").await;
    let reply = plain(gw.admin, "POST", "/unlock?address=127.0.0.1", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let shown = json(&gw, &["users", "show", "erin", "--json"]);
    assert_eq!(shown["lock"]["state"], "locked", "{shown}");
    ok(&gw, &["users", "unlock", "Erin"]);
    let shown = json(&gw, &["users", "show", "erin", "--json"]);
    assert_eq!(shown["lock"]["state"], "open", "{shown}");
    let mut erin = Browser::new(gw.https, gw.root());
    let hops = erin
        .login(&format!("{LOGIN}/login"), "erin", "erinpw")
        .await;
    assert_eq!(hops[0].url, format!("{LOGIN}/"), "{}", hops[0].reply.text());
    let unlock = gw
        .audit()
        .into_iter()
        .find(|e| e["event"] == "unlock" && e["key"] == "erin")
        .expect("the unlock is audited");
    assert_eq!(unlock["by"], ADMIN);

    // Delete ends erin's new session too.
    let out = ok(&gw, &["users", "delete", "erin", "--yes"]);
    assert!(out.contains("ended 1 session(s) of erin"), "{out}");
    assert_eq!(
        erin.get(&format!("{LOGIN}/")).await.status,
        303,
        "back to the login form"
    );

    // A gateway that is not running: said so, exit 3, and the directory change is not hidden.
    gw.signal("TERM");
    assert!(gw.wait_exit(Duration::from_secs(10)).await.is_some());
    let err = fails_with(&gw.config_path, &["sessions", "list"], 3);
    assert!(err.contains("cannot connect"), "{err}");
    assert!(err.contains(&gw.admin.to_string()), "{err}");
    let err = fails_with(&gw.config_path, &["users", "disable", "bob"], 3);
    assert!(err.contains("sessions were NOT ended"), "{err}");
}

#[tokio::test]
async fn a_wrong_admin_token_is_refused() {
    let mail = Upstream::start("mail").await;
    let gw = Gateway::builder()
        .apps(app_toml("mail", "mail.gw.test", "/", &[mail.url()], ""))
        .policy(POLICY)
        .demo_people()
        .admin_token("the-right-token-0123456789")
        .start()
        .await;
    let _alice = logged_in(&gw, "alice").await;
    // The config's token: the tool is let in.
    let listed = json(&gw, &["sessions", "list", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert!(ok(&gw, &["status"]).contains("session store"));

    // Another token: refused (exit 1), and nothing is revoked.
    let config = std::fs::read_to_string(&gw.config_path).unwrap();
    assert!(
        config.contains("token = { file = \"admin-token\" }"),
        "{config}"
    );
    std::fs::write(gw.path("wrong-token"), "not-the-token\n").unwrap();
    let wrong = gw.path("wrong.toml");
    std::fs::write(&wrong, config.replace("\"admin-token\"", "\"wrong-token\"")).unwrap();
    for args in [
        &["sessions", "list"][..],
        &["sessions", "revoke", "--user", "alice", "--yes"],
        &["users", "show", "alice"],
        &["status"],
    ] {
        let err = fails_with(&wrong, args, 1);
        assert!(err.contains("refused"), "{args:?}: {err}");
    }
    // Loopback alone is not enough once a token is configured.
    let reply = plain(gw.admin, "GET", "/sessions", &[]).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        json(&gw, &["sessions", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn the_listener_names_the_parameter_it_refuses() {
    let gw = Gateway::builder().demo_people().start().await;
    for (method, path, status, field) in [
        ("GET", "/sessions/xyz", 400, Some("sid")),
        ("GET", "/sessions?subjet=x", 400, Some("subjet")),
        ("GET", "/sessions?subject=", 400, Some("subject")),
        ("GET", "/locks", 400, Some("account")),
        ("GET", "/locks?address=nonsense", 400, Some("address")),
        (
            "GET",
            "/locks?account=a&address=127.0.0.1",
            400,
            Some("address"),
        ),
        (
            "POST",
            "/sessions/revoke?sid=0123456789abcdef&sid=0123456789abcdef",
            400,
            Some("sid"),
        ),
        (
            "POST",
            "/sessions/revoke?subject=x&by=a%0Ab",
            400,
            Some("by"),
        ),
        ("GET", "/sessions/0123456789abcdef", 404, None),
    ] {
        let reply = plain(gw.admin, method, path, &[]).await;
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.text());
        let problem = reply.json();
        assert_eq!(
            problem["field"].as_str(),
            field,
            "{method} {path}: {problem}"
        );
        assert!(problem["error"].is_string(), "{problem}");
    }
    for (method, path) in [
        ("GET", "/sessions/revoke"),
        ("POST", "/sessions"),
        ("POST", "/locks"),
    ] {
        assert_eq!(
            plain(gw.admin, method, path, &[]).await.status,
            405,
            "{method} {path}"
        );
    }
    let reply = plain(gw.admin, "GET", "/locks?account=Nobody", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.json(),
        serde_json::json!({"scope": "account", "key": "nobody", "lock": {"state": "open"}})
    );
    let reply = plain(gw.admin, "POST", "/sessions/revoke?subject=nobody", &[]).await;
    assert_eq!(reply.json(), serde_json::json!({"revoked": []}));
}
