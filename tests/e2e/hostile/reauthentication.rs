//! `prompt=login` asks for the password again. When the request first arrived decides whether
//! a login satisfies it; that time must never come from the client (a `pforte_asked_at=1` in the
//! URL passed it without the password), nor may one re-login serve another request.

use pforte_e2e::browser::{Browser, absolute, hidden_value};

use super::Target;

const LOGIN: &str = "https://login.gw.test";
const CALLBACK: &str = "https://rp.gw.test/callback";
const CLIENTS: &str = r#"
[[client]]
id = "rp"
app = "video"
public = true
redirect_uris = ["https://rp.gw.test/callback"]
scopes = ["openid", "profile"]
"#;
/// A PKCE challenge (any well-formed one: no code is exchanged here).
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn authorize(state: &str, extra: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", "rp")
        .append_pair("redirect_uri", CALLBACK)
        .append_pair("scope", "openid")
        .append_pair("state", state)
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256")
        .append_pair("prompt", "login");
    for (k, v) in extra {
        query.append_pair(k, v);
    }
    format!("{LOGIN}/oidc/authorize?{}", query.finish())
}

/// Where an authorization request sends a browser: the client (with a code) or the login form.
async fn goes_to(browser: &mut Browser, url: &str) -> String {
    let reply = browser.get(url).await;
    assert_eq!(reply.status, 302, "{url}: {}", reply.text());
    absolute(url, reply.header("location").unwrap())
}

fn is_code(location: &str) -> bool {
    location.starts_with(CALLBACK) && location.contains("code=")
}

#[tokio::test]
async fn prompt_login_cannot_be_skipped_by_the_client() {
    let target = Target::start_with(|b| b.oidc(CLIENTS)).await;
    let mut bob = Browser::new(target.gw.https, target.gw.root());
    bob.login(&format!("{LOGIN}/login"), "bob", "bobpw").await;
    assert!(bob.cookie("login.gw.test", "__Host-pforte").is_some());

    // The old parameter and forged pending ids: each gets the form, never a code.
    for extra in [
        vec![("pforte_asked_at", "1")],
        vec![("pforte_asked_at", "0"), ("pforte_pending", "forged")],
        vec![(
            "pforte_pending",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )],
    ] {
        let location = goes_to(&mut bob, &authorize("s1", &extra)).await;
        assert!(
            !is_code(&location),
            "{extra:?} skipped the password: {location}"
        );
        assert!(location.contains("/login?"), "{location}");
    }

    // A pending id belongs to its own request: carried over to another one it counts nothing.
    let first = goes_to(&mut bob, &authorize("a", &[])).await;
    let form = bob.get(&first).await;
    let return_to = hidden_value(&form.text(), "return_to").expect("the way back");
    let pending = url_param(&return_to, "pforte_pending").expect("a pending id, not a time");
    assert!(url_param(&return_to, "pforte_asked_at").is_none());

    // Logged in again, in a later second than the request: that request gets its code once.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let csrf = hidden_value(&form.text(), "csrf").unwrap();
    let posted = bob
        .post(
            &format!("{LOGIN}/login"),
            &[
                ("username", "bob"),
                ("password", "bobpw"),
                ("csrf", &csrf),
                ("return_to", &return_to),
            ],
        )
        .await;
    let back = absolute(LOGIN, posted.header("location").unwrap());
    let other = authorize("b", &[("pforte_pending", &pending)]);
    let location = goes_to(&mut bob, &other).await;
    assert!(
        !is_code(&location),
        "another request used the login: {location}"
    );
    let location = goes_to(&mut bob, &back).await;
    assert!(
        is_code(&location),
        "the re-login serves its request: {location}"
    );
    let location = goes_to(&mut bob, &back).await;
    assert!(
        !is_code(&location),
        "the same re-login served twice: {location}"
    );
}

fn url_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
