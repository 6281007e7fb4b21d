//! The authorization response at the callback: state (once, present, Pforte's own), the
//! browser's binding cookie, the response's issuer (RFC 9207, against mix-up) and the
//! provider's error, each refused before the code is spent.

use std::time::Duration;

use pforte_e2e::eventually;
use pforte_e2e::hostile_idp::Field;

use super::{BINDING_COOKIE, GUEST, assert_no_session, partner, says, start};

#[tokio::test]
async fn a_callback_used_twice_is_refused() {
    let f = partner().await;
    let mut b = f.browser();
    let callback = f.to_callback(&mut b, "partner").await;
    // An attacker who saw the callback URL and holds the binding cookie too.
    let mut thief = b.at(f.gw.https, f.gw.root());
    let first = b.get(&callback).await;
    f.assert_logged_in(&mut b, &first).await;
    let replayed = thief.get(&callback).await;
    let page = replayed.text();
    assert_eq!(replayed.status, 400, "{page}");
    assert_no_session(&thief, &replayed);
    assert!(page.to_lowercase().contains(says::FAILED), "{page}");
    let audited = eventually(Duration::from_secs(5), async || {
        f.refusals().iter().any(|r| r == "state")
    })
    .await;
    assert!(audited, "{:?}", f.refusals());
    assert_eq!(f.events("federated_login").len(), 1);
}

#[tokio::test]
async fn a_callback_without_state_is_refused() {
    let f = partner().await;
    f.idp("partner").set(|s| s.state = Field::Omitted);
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::FAILED, "state")
        .await;
}

#[tokio::test]
async fn a_callback_with_a_made_up_state_is_refused() {
    let f = partner().await;
    f.idp("partner")
        .set(|s| s.state = Field::Forged("made-up-state-0123456789".into()));
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::FAILED, "state")
        .await;
}

#[tokio::test]
async fn a_callback_in_another_browser_is_refused() {
    let f = partner().await;
    let mut victim = f.browser();
    let callback = f.to_callback(&mut victim, "partner").await;
    // Login CSRF: the attacker's callback URL opened in a browser that never started it.
    let mut other = f.browser();
    let reply = other.get(&callback).await;
    assert!(other.cookie("login.gw.test", BINDING_COOKIE).is_none());
    f.assert_refused(&other, &reply, 400, says::FAILED, "binding")
        .await;
}

#[tokio::test]
async fn a_response_without_iss_is_refused() {
    let f = partner().await;
    f.idp("partner").set(|s| s.iss = Field::Omitted);
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::FAILED, "issuer_mixup")
        .await;
    assert!(f.idp("partner").token_refusals().is_empty());
}

#[tokio::test]
async fn a_response_naming_the_other_provider_is_refused_before_the_code_is_used() {
    let f = start(&[("partner", GUEST), ("rival", GUEST)]).await;
    let rival = f.idp("rival").issuer();
    f.idp("partner").set(|s| s.iss = Field::Forged(rival));
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::FAILED, "issuer_mixup")
        .await;
    // Nobody was sent the code.
    assert!(f.idp("partner").token_refusals().is_empty());
    assert!(f.idp("rival").token_refusals().is_empty());
}

#[tokio::test]
async fn an_error_from_the_provider_is_refused_and_its_description_not_trusted() {
    let f = partner().await;
    f.idp("partner").set(|s| {
        s.error = Some("access_denied".into());
        s.error_description = Some("<script>alert(1)</script>".into());
    });
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::FAILED, "provider_error")
        .await;
    assert!(
        !reply.text().contains("<script>alert(1)"),
        "{}",
        reply.text()
    );
}

#[tokio::test]
async fn a_code_the_provider_does_not_know_is_refused() {
    let f = partner().await;
    f.idp("partner")
        .set(|s| s.code = Field::Forged("a-code-nobody-issued".into()));
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::FAILED, "token_exchange")
        .await;
    assert_eq!(
        f.idp("partner").token_refusals(),
        ["unknown or used code"],
        "Pforte sent the code with its secret and verifier"
    );
}
