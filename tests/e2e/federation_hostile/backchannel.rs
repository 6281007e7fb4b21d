//! The provider's back-channel logout (`/federation/{id}/backchannel-logout`): a token that is
//! forged, for another client, without the logout event or with a nonce is refused with 400
//! and leaves the session alone, as is one of another provider; a good one ends the session
//! its `sid` names, or every session of the account its `sub` names.

use pforte_e2e::hostile_idp::Signer;
use serde_json::json;

use super::{DOCS, GUEST, LOGIN, partner, start};

#[tokio::test]
async fn backchannel_logout_refuses_bad_tokens_and_ends_the_session_on_a_good_one() {
    let f = partner().await;
    let idp = f.idp("partner");
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_logged_in(&mut b, &reply).await;

    let mut wrong_audience = idp.logout_claims();
    wrong_audience["aud"] = json!("another-client");
    let mut no_events = idp.logout_claims();
    no_events.as_object_mut().unwrap().remove("events");
    let mut with_nonce = idp.logout_claims();
    with_nonce["nonce"] = json!("a logout token must not carry one");
    let bad = [
        (
            "a bad signature",
            idp.sign_logout(&idp.logout_claims(), Signer::BadSignature),
        ),
        (
            "an unknown key",
            idp.sign_logout(&idp.logout_claims(), Signer::UnknownKey),
        ),
        (
            "alg none",
            idp.sign_logout(&idp.logout_claims(), Signer::AlgNone),
        ),
        (
            "another audience",
            idp.sign_logout(&wrong_audience, Signer::Genuine),
        ),
        ("no events", idp.sign_logout(&no_events, Signer::Genuine)),
        ("a nonce", idp.sign_logout(&with_nonce, Signer::Genuine)),
        ("not a JWT", "not-a-token".to_owned()),
    ];
    for (what, token) in &bad {
        let refused = f.backchannel("partner", token).await;
        assert_eq!(refused.status, 400, "{what}: {}", refused.text());
        assert!(refused.json()["error"].is_string(), "{what}");
        // The session lives on.
        assert_eq!(b.get(&format!("{DOCS}/")).await.status, 200, "after {what}");
    }
    assert!(f.events("federated_logout").is_empty());

    let ended = f.backchannel("partner", &idp.logout_token()).await;
    assert_eq!(ended.status, 200, "{}", ended.text());
    assert_eq!(b.get(&format!("{DOCS}/")).await.status, 302);
    assert_eq!(b.get(&format!("{LOGIN}/")).await.status, 303);
    let logouts = f.events("federated_logout");
    assert_eq!(logouts.len(), 1, "{logouts:?}");
    assert_eq!(logouts[0]["provider"], "partner");
    assert_eq!(logouts[0]["sessions"], 1);
}

#[tokio::test]
async fn a_logout_token_naming_only_the_account_ends_each_of_its_sessions() {
    let f = partner().await;
    let idp = f.idp("partner");
    let mut browsers = Vec::new();
    for _ in 0..2 {
        let mut b = f.browser();
        let reply = f.login(&mut b, "partner").await;
        f.assert_logged_in(&mut b, &reply).await;
        browsers.push(b);
    }
    let mut by_account = idp.logout_claims();
    by_account.as_object_mut().unwrap().remove("sid");
    let ended = f
        .backchannel("partner", &idp.sign_logout(&by_account, Signer::Genuine))
        .await;
    assert_eq!(ended.status, 200, "{}", ended.text());
    for b in &mut browsers {
        assert_eq!(b.get(&format!("{DOCS}/")).await.status, 302);
    }
    assert_eq!(f.events("federated_logout")[0]["sessions"], 2);
}

#[tokio::test]
async fn a_logout_token_of_another_provider_is_refused() {
    let f = start(&[("partner", GUEST), ("rival", GUEST)]).await;
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_logged_in(&mut b, &reply).await;
    // The rival's own token at the partner's endpoint, and the partner's at the rival's.
    let rivals = f.idp("rival").logout_token();
    let refused = f.backchannel("partner", &rivals).await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    let partners = f.idp("partner").logout_token();
    let elsewhere = f.backchannel("rival", &partners).await;
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.text());
    assert_eq!(b.get(&format!("{DOCS}/")).await.status, 200);
    assert!(f.events("federated_logout").is_empty());
}
