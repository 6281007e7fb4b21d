//! The device authorization grant (RFC 8628) end to end: a room system (the `openidconnect`
//! crate's device flow) shows a user code, alice types it on the login host's `/device` page in
//! her browser and approves, and the device's polls turn into verified tokens. Raw polls show
//! `authorization_pending` and `slow_down`; wrong codes, a denial, a person the app's rules
//! refuse, a second factor the rules want and a device code used twice each get their answer;
//! expiry is shown on the in-process gateway's manual clock, without sleeping.

use std::time::Duration;

use openidconnect::core::{
    CoreClient, CoreDeviceAuthorizationResponse, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    ClientId, ClientSecret, DeviceAuthorizationUrl, IssuerUrl, Nonce, OAuth2TokenResponse, Scope,
    TokenResponse,
};
use pforte_e2e::browser::{Browser, hidden_value};
use pforte_e2e::client::Reply;
use pforte_e2e::gateway::Gateway;
use pforte_e2e::in_process::InProcess;
use pforte_e2e::pki::TestCa;
use pforte_session::Timestamp;

use super::{DOCS_SECRET, ISSUER, Setup, claims_of, header_of, setup};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const PAGE: &str = "https://login.gw.test/device";
/// The letters of a user code (RFC 8628 §6.1).
const LETTERS: &str = "BCDFGHJKLMNPQRSTVWXZ";

/// A device authorization request; a confidential client authenticates with HTTP Basic, a
/// public one names itself.
async fn ask(setup: &Setup, client: &str, secret: Option<&str>, scope: &str) -> Reply {
    let mut form = vec![("scope", scope)];
    if secret.is_none() {
        form.push(("client_id", client));
    }
    setup
        .post(
            "/oidc/device_authorization",
            &form,
            secret.map(|secret| (client, secret)),
        )
        .await
}

/// The device code and user code of a successful device authorization request.
async fn codes(setup: &Setup, client: &str, secret: Option<&str>, scope: &str) -> (String, String) {
    let reply = ask(setup, client, secret, scope).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    (
        body["device_code"].as_str().unwrap().to_owned(),
        body["user_code"].as_str().unwrap().to_owned(),
    )
}

/// One poll of the token endpoint.
async fn poll(setup: &Setup, client: &str, secret: Option<&str>, device_code: &str) -> Reply {
    let mut form = vec![("grant_type", GRANT), ("device_code", device_code)];
    if secret.is_none() {
        form.push(("client_id", client));
    }
    setup
        .post("/oidc/token", &form, secret.map(|secret| (client, secret)))
        .await
}

/// The OAuth error of a refused poll (always a 400).
fn error_of(reply: &Reply) -> String {
    assert_eq!(reply.status, 400, "{}", reply.text());
    reply.json()["error"].as_str().unwrap().to_owned()
}

/// What the signed-in `browser` sees for `typed` on the verification page.
async fn enter(browser: &mut Browser, typed: &str) -> Reply {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("user_code", typed)
        .finish();
    browser.get(&format!("{PAGE}?{query}")).await
}

/// Enters `typed` and posts `decision` (`approve` or `deny`) on the confirmation.
async fn decide(browser: &mut Browser, typed: &str, decision: &str) -> Reply {
    let page = enter(browser, typed).await;
    assert_eq!(page.status, 200, "the confirmation: {}", page.text());
    let text = page.text();
    let csrf = hidden_value(&text, "csrf").expect("the decision's form has a csrf field");
    let user_code = hidden_value(&text, "user_code").expect("and the code");
    browser
        .post(
            PAGE,
            &[
                ("csrf", &csrf),
                ("user_code", &user_code),
                ("decision", decision),
            ],
        )
        .await
}

#[tokio::test]
async fn a_room_system_signs_in_with_a_code_approved_in_the_browser() {
    let setup = setup("oidc-device-flow").await;
    let http = setup.http();
    let discovery = setup
        .browser()
        .get(&format!("{ISSUER}/.well-known/openid-configuration"))
        .await
        .json();
    let endpoint = discovery["device_authorization_endpoint"].as_str().unwrap();
    assert_eq!(endpoint, format!("{ISSUER}/oidc/device_authorization"));
    assert!(
        discovery["grant_types_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == GRANT)
    );
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(ISSUER.into()).unwrap(), &http)
            .await
            .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("room".into()),
        Some(ClientSecret::new(DOCS_SECRET.into())),
    )
    .set_device_authorization_url(DeviceAuthorizationUrl::new(endpoint.to_owned()).unwrap());
    let details: CoreDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("offline_access".into()))
        .request_async(&http)
        .await
        .expect("a device authorization");
    let shown = details.user_code().secret().clone();
    let (first, second) = shown.split_once('-').expect("two halves");
    assert!(
        first.len() == 4
            && second.len() == 4
            && format!("{first}{second}")
                .chars()
                .all(|c| LETTERS.contains(c)),
        "{shown}"
    );
    assert_eq!(details.verification_uri().as_str(), PAGE);
    assert_eq!(
        details.verification_uri_complete().unwrap().secret(),
        &format!("{PAGE}?user_code={shown}")
    );
    assert_eq!(details.expires_in(), Duration::from_secs(600));
    assert_eq!(details.interval(), Duration::from_secs(5));

    // alice has no session in this browser: the page sends her to log in and back.
    let mut browser = setup.browser();
    let complete = details
        .verification_uri_complete()
        .unwrap()
        .secret()
        .clone();
    let hops = browser.login(&complete, "alice", "alicepw").await;
    let confirmation = &hops[0];
    assert_eq!(confirmation.url, complete, "back on the page with the code");
    let page = confirmation.reply.text();
    assert_eq!(confirmation.reply.status, 200, "{page}");
    assert!(
        page.contains(&shown),
        "the code, to compare with the device's"
    );
    assert!(
        page.contains("<strong>docs</strong> (<code>room</code>)"),
        "{page}"
    );
    assert!(page.contains("Alice"), "who approves: {page}");

    // The device polls (the crate waits the interval between polls) while alice approves.
    let polling = async {
        client
            .exchange_device_access_token(&details)
            .unwrap()
            .request_async(&http, tokio::time::sleep, None)
            .await
    };
    let approving = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        decide(&mut browser, &shown, "approve").await
    };
    let (tokens, approved) = tokio::join!(polling, approving);
    assert_eq!(approved.status, 200, "{}", approved.text());
    assert!(approved.text().contains("Device signed in"));
    let tokens = tokens.expect("tokens after the approval");

    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    let claims = id_token
        .claims(&verifier, |_: Option<&Nonce>| Ok::<(), String>(()))
        .expect("signature, iss, aud and expiry verify");
    assert_eq!(claims.issuer().as_str(), ISSUER);
    assert_eq!(claims.audiences()[0].as_str(), "room");
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str()),
        Some("alice")
    );
    let access = tokens.access_token().secret().clone();
    assert_eq!(header_of(&access)["typ"], "at+jwt", "RFC 9068 access token");
    let access_claims = claims_of(&access);
    assert_eq!(access_claims["client_id"], "room");
    assert_eq!(access_claims["scope"], "openid profile offline_access");
    assert_eq!(setup.userinfo(&access).await.status, 200);

    // offline_access and the refresh_token grant: a refresh token that rotates.
    let refresh = tokens.refresh_token().expect("a refresh token").clone();
    let renewed = client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    assert_ne!(renewed.refresh_token().unwrap().secret(), refresh.secret());

    // The device code works once.
    let again = poll(
        &setup,
        "room",
        Some(DOCS_SECRET),
        details.device_code().secret(),
    )
    .await;
    assert_eq!(error_of(&again), "invalid_grant");
    assert_eq!(
        setup
            .gw
            .metric("pforte_oidc_tokens_issued_total{grant=\"device_code\"}")
            .await,
        Some(1.0)
    );
}

#[tokio::test]
async fn polls_wait_slow_down_and_serve_only_their_own_client() {
    let setup = setup("oidc-device-polls").await;
    let (device_code, user_code) = codes(&setup, "room", Some(DOCS_SECRET), "openid").await;
    let first = poll(&setup, "room", Some(DOCS_SECRET), &device_code).await;
    assert_eq!(error_of(&first), "authorization_pending");
    let hasty = poll(&setup, "room", Some(DOCS_SECRET), &device_code).await;
    assert_eq!(error_of(&hasty), "slow_down");
    assert!(
        hasty.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("10 seconds"),
        "the interval grew by 5 s: {}",
        hasty.text()
    );
    let other_client = poll(&setup, "tv", None, &device_code).await;
    assert_eq!(error_of(&other_client), "invalid_grant");
    let unknown = poll(&setup, "room", Some(DOCS_SECRET), "no-such-device-code").await;
    assert_eq!(error_of(&unknown), "invalid_grant");

    // A code the client may not use, scopes it may not have, a client without the grant.
    let reply = ask(&setup, "tv", None, "openid email").await;
    assert_eq!(error_of(&reply), "invalid_scope");
    let reply = ask(&setup, "tv", None, "profile").await;
    assert_eq!(error_of(&reply), "invalid_scope", "openid is required");
    let reply = ask(&setup, "docs", Some(DOCS_SECRET), "openid").await;
    assert_eq!(error_of(&reply), "unauthorized_client");
    let reply = ask(&setup, "room", Some("wrong"), "openid").await;
    assert_eq!(reply.status, 401, "{}", reply.text());
    assert_eq!(reply.json()["error"], "invalid_client");

    // The code works in any case and with spaces; the approval is taken by the next poll.
    let mut browser = setup.signed_in().await;
    let typed = user_code.replace('-', " ").to_lowercase();
    let approved = decide(&mut browser, &typed, "approve").await;
    assert_eq!(approved.status, 200, "{}", approved.text());
    let tokens = poll(&setup, "room", Some(DOCS_SECRET), &device_code).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text());
    let body = tokens.json();
    assert!(body["id_token"].is_string() && body["access_token"].is_string());
    assert!(
        body.get("refresh_token").is_none(),
        "no refresh token without offline_access"
    );
}

#[tokio::test]
async fn wrong_codes_get_a_clear_page_and_a_denial_leaves_the_device_out() {
    let setup = setup("oidc-device-deny").await;
    let (device_code, user_code) = codes(&setup, "room", Some(DOCS_SECRET), "openid").await;
    let mut browser = setup.signed_in().await;

    let form = browser.get(PAGE).await;
    assert_eq!(form.status, 200);
    assert!(form.text().contains("name=\"user_code\""));
    let malformed = enter(&mut browser, "hello").await;
    assert_eq!(malformed.status, 400);
    assert!(
        malformed.text().contains("not a device code"),
        "{}",
        malformed.text()
    );
    let unknown = enter(&mut browser, "BCDF-GHJK").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.text().contains("wrong, already used or expired"));

    // A decision without the form's anti-forgery token changes nothing.
    let forged = browser
        .post(
            PAGE,
            &[
                ("csrf", &"0".repeat(64)),
                ("user_code", &user_code),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.text());
    let still = poll(&setup, "room", Some(DOCS_SECRET), &device_code).await;
    assert_eq!(error_of(&still), "authorization_pending");

    let denied = decide(&mut browser, &user_code, "deny").await;
    assert_eq!(denied.status, 200, "{}", denied.text());
    assert!(denied.text().contains("You denied the request"));
    let refused = poll(&setup, "room", Some(DOCS_SECRET), &device_code).await;
    assert_eq!(error_of(&refused), "access_denied");
    let ended = enter(&mut browser, &user_code).await;
    assert_eq!(ended.status, 404, "a decided code cannot be entered again");
}

#[tokio::test]
async fn a_person_the_apps_rules_refuse_leaves_the_device_with_access_denied() {
    let setup = setup("oidc-device-refused").await;
    // tv belongs to finance, which alice (staff, not finance) may not use.
    let (device_code, user_code) = codes(&setup, "tv", None, "openid profile").await;
    let mut browser = setup.signed_in().await;
    let refused = decide(&mut browser, &user_code, "approve").await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert!(refused.text().contains("do not allow your account"));
    let answer = poll(&setup, "tv", None, &device_code).await;
    assert_eq!(error_of(&answer), "access_denied");
    let audited = setup
        .gw
        .audit()
        .into_iter()
        .find(|e| e["event"] == "oidc_access_denied" && e["client"] == "tv")
        .expect("the refusal is audited");
    assert!(
        audited["detail"]
            .as_str()
            .unwrap()
            .contains("device authorization"),
        "{audited}"
    );

    // console belongs to vault, whose rule wants a second factor: alice is sent to step up
    // and back to the confirmation, and the device keeps waiting.
    let (device_code, user_code) = codes(&setup, "console", None, "openid").await;
    let step_up = decide(&mut browser, &user_code, "approve").await;
    assert_eq!(step_up.status, 303, "{}", step_up.text());
    let location = step_up.header("location").unwrap();
    let back: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("return_to", &format!("{PAGE}?user_code={user_code}"))
        .finish();
    assert_eq!(location, format!("/mfa?{back}"));
    let waiting = poll(&setup, "console", None, &device_code).await;
    assert_eq!(error_of(&waiting), "authorization_pending");
    assert!(
        !setup
            .gw
            .audit()
            .iter()
            .any(|e| e["event"] == "oidc_access_denied" && e["client"] == "console"),
        "a step-up is not a denial"
    );
}

/// An in-process gateway on a manual clock with the room client and the demo people, and a
/// small rate for code lookups (two at once, one every ten seconds).
async fn on_a_manual_clock() -> InProcess {
    Gateway::builder()
        .limits("[limits.rate.device]\nper_minute = 6\nburst = 2\n")
        .app("docs", "docs.gw.test", &["http://127.0.0.1:3".to_owned()])
        .policy("[[rule]]\napps = [\"docs\"]\nallow = [\"group:staff\"]\n")
        .demo_people()
        .oidc(
            "[[client]]\nid = \"room\"\napp = \"docs\"\npublic = true\nscopes = [\"openid\"]\n\
             grant_types = [\"device_code\"]\n",
        )
        .assemble(TestCa::new(), Timestamp::from_unix_secs(1_800_000_000))
        .await
}

async fn poll_in_process(gw: &InProcess, device_code: &str) -> String {
    let answer = gw
        .post_form(
            "login.gw.test",
            "/oidc/token",
            None,
            &[
                ("grant_type", GRANT),
                ("device_code", device_code),
                ("client_id", "room"),
            ],
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    answer.json()["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_interval_grows_by_five_seconds_and_a_device_code_expires_after_ten_minutes() {
    let gw = on_a_manual_clock().await;
    let asked = gw
        .post_form(
            "login.gw.test",
            "/oidc/device_authorization",
            None,
            &[("client_id", "room"), ("scope", "openid")],
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    let body = asked.json();
    let device_code = body["device_code"].as_str().unwrap().to_owned();
    let user_code = body["user_code"].as_str().unwrap().to_owned();

    assert_eq!(
        poll_in_process(&gw, &device_code).await,
        "authorization_pending"
    );
    gw.advance(Duration::from_secs(4));
    assert_eq!(
        poll_in_process(&gw, &device_code).await,
        "slow_down",
        "4 s < 5 s"
    );
    gw.advance(Duration::from_secs(9));
    assert_eq!(
        poll_in_process(&gw, &device_code).await,
        "slow_down",
        "9 s < the 10 s the first slow_down made it"
    );
    gw.advance(Duration::from_secs(15));
    assert_eq!(
        poll_in_process(&gw, &device_code).await,
        "authorization_pending",
        "15 s: the interval it has grown to"
    );

    // Alice could still find the code now; ten minutes after the request it is gone, and the
    // device hears expired_token, not an unknown code.
    let session = gw.log_in("login.gw.test", "alice", "alicepw").await;
    let query = format!("/device?user_code={user_code}");
    let found = gw.get("login.gw.test", &query, Some(&session)).await;
    assert_eq!(found.status, 200, "{}", found.body);
    gw.advance(Duration::from_secs(600 - 28 - 10));
    let found = gw.get("login.gw.test", &query, Some(&session)).await;
    assert_eq!(
        found.status, 200,
        "ten seconds before the end: {}",
        found.body
    );
    gw.advance(Duration::from_secs(10));
    assert_eq!(poll_in_process(&gw, &device_code).await, "expired_token");
    let gone = gw.get("login.gw.test", &query, Some(&session)).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    assert!(gone.body.contains("wrong, already used or expired"));
    gw.advance(Duration::from_secs(300));
    assert_eq!(
        poll_in_process(&gw, &device_code).await,
        "expired_token",
        "still said five minutes later"
    );
}

#[tokio::test]
async fn code_lookups_are_limited_per_address() {
    let gw = on_a_manual_clock().await;
    let session = gw.log_in("login.gw.test", "alice", "alicepw").await;
    let guess = "/device?user_code=BCDF-GHJK";
    for _ in 0..2 {
        let answer = gw.get("login.gw.test", guess, Some(&session)).await;
        assert_eq!(answer.status, 404, "within the burst: {}", answer.body);
    }
    let limited = gw.get("login.gw.test", guess, Some(&session)).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert_eq!(limited.headers["retry-after"], "10");
    assert!(
        limited.body.contains("Too many attempts"),
        "{}",
        limited.body
    );
    let form = gw.get("login.gw.test", "/device", Some(&session)).await;
    assert_eq!(form.status, 200, "the empty form costs nothing");
    gw.advance(Duration::from_secs(10));
    let refilled = gw.get("login.gw.test", guess, Some(&session)).await;
    assert_eq!(refilled.status, 404, "one lookup refilled");
    let metrics = String::from_utf8(gw.shared.metrics.render()).unwrap();
    assert!(
        metrics.lines().any(
            |l| l.starts_with("pforte_rate_limited_total{endpoint=\"device\"}")
                && !l.ends_with(" 0")
        ),
        "counted"
    );
}
