//! A provider that is down: the login page with a notice (200), never a 5xx, and the login
//! works again once the provider is back.

use std::time::Duration;

use pforte_e2e::browser::Browser;
use pforte_e2e::eventually;
use pforte_e2e::gateway::Gateway;
use pforte_e2e::hostile_idp::HostileIdp;
use pforte_e2e::pki::TestCa;

use super::{CLIENT_ID, GUEST, LOGIN, assert_no_session, idp_toml, partner, says};

#[tokio::test]
async fn a_provider_down_at_the_callback_gets_a_notice_not_an_error() {
    let f = partner().await;
    let mut b = f.browser();
    let callback = f.to_callback(&mut b, "partner").await;
    f.idp("partner").down().await;
    let reply = b.get(&callback).await;
    f.assert_refused(&b, &reply, 200, says::UNREACHABLE, "unreachable")
        .await;
}

#[tokio::test]
async fn a_provider_down_from_the_start_gets_a_notice_until_it_is_back() {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let secret = "partner-client-secret-0123456789";
    let idp = HostileIdp::start(&ca, dir.path(), CLIENT_ID, secret).await;
    idp.down().await;
    let gw = Gateway::builder()
        .demo_people()
        .audit_log()
        .file("partner-secret", format!("{secret}\n"))
        .federation(&idp_toml("partner", &idp.issuer(), GUEST))
        .start_with_ca(ca)
        .await;
    let mut b = Browser::new(gw.https, gw.root());
    // The login page still shows, with the provider's button.
    let page = b.get(&format!("{LOGIN}/login")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("/federation/partner/start"));

    let started = b.get(&format!("{LOGIN}/federation/partner/start")).await;
    let text = started.text();
    assert_eq!(started.status, 200, "{text}\n{}", gw.log());
    assert!(text.to_lowercase().contains(says::UNREACHABLE), "{text}");
    assert_no_session(&b, &started);
    let audited = eventually(Duration::from_secs(5), async || {
        gw.audit()
            .iter()
            .any(|e| e["event"] == "federated_login_refused" && e["reason"] == "unreachable")
    })
    .await;
    assert!(audited, "{:?}", gw.audit());

    idp.up().await;
    let back = eventually(Duration::from_secs(10), async || {
        b.get(&format!("{LOGIN}/federation/partner/start"))
            .await
            .status
            == 303
    })
    .await;
    assert!(
        back,
        "the provider is back but the start still fails:\n{}",
        gw.log()
    );
}
