//! The ID token the provider returns for the code: each check of OpenID Connect Core §3.1.3.7
//! (issuer, audience and no untrusted other, signature by a published key, expiry, nonce) refuses a token that fails
//! only it, and a provider's new key costs exactly one JWKS refetch, a made-up one at most one.

use pforte_e2e::hostile_idp::{Field, Signer};
use serde_json::json;

use super::{partner, says};

#[tokio::test]
async fn an_id_token_from_another_issuer_is_refused() {
    let f = partner().await;
    f.idp("partner")
        .set(|s| s.issuer = Field::Forged("https://127.0.0.1:1".into()));
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::FAILED, "id_token")
        .await;
}

#[tokio::test]
async fn an_id_token_for_another_audience_is_refused() {
    let f = partner().await;
    let idp = f.idp("partner");
    idp.set(|s| s.audience = Field::Forged("another-client".into()));
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::FAILED, "id_token")
        .await;
    // Pforte among audiences it does not trust (OpenID Connect Core §3.1.3.7, point 3).
    idp.reset();
    idp.set(|s| {
        s.extra_claims
            .insert("aud".into(), json!(["pforte", "another-client"]));
    });
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::FAILED, "id_token")
        .await;
}

#[tokio::test]
async fn an_id_token_with_a_bad_signature_is_refused() {
    let f = partner().await;
    f.idp("partner").set(|s| s.signer = Signer::BadSignature);
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::FAILED, "id_token")
        .await;
}

#[tokio::test]
async fn an_unsigned_id_token_is_refused() {
    let f = partner().await;
    f.idp("partner").set(|s| s.signer = Signer::AlgNone);
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::FAILED, "id_token")
        .await;
}

#[tokio::test]
async fn an_id_token_by_an_unknown_key_is_refused_after_one_refetch_at_most() {
    let f = partner().await;
    let idp = f.idp("partner");
    idp.set(|s| s.signer = Signer::UnknownKey);
    let mut b = f.browser();
    let callback = f.to_callback(&mut b, "partner").await;
    let before = idp.jwks_fetches();
    let reply = b.get(&callback).await;
    f.assert_refused(&b, &reply, 400, says::FAILED, "id_token")
        .await;
    let during = idp.jwks_fetches() - before;
    // One fetch when none was cached yet, then the one refetch an unknown kid is worth.
    assert!(
        (1..=2).contains(&idp.jwks_fetches()) && during <= 2,
        "{during} JWKS fetches during the callback, {} in all",
        idp.jwks_fetches()
    );
    // Another token by an unknown key costs at most one more fetch: the provider cannot be
    // made to hammer its own JWKS through Pforte.
    let mut again = f.browser();
    let callback = f.to_callback(&mut again, "partner").await;
    let before = idp.jwks_fetches();
    let reply = again.get(&callback).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(idp.jwks_fetches() - before <= 1);
}

#[tokio::test]
async fn a_rotated_key_is_accepted_after_exactly_one_refetch() {
    let f = partner().await;
    let idp = f.idp("partner");
    let mut b = f.browser();
    let first = f.login(&mut b, "partner").await;
    f.assert_logged_in(&mut b, &first).await;
    let fetched = idp.jwks_fetches();
    assert!(fetched >= 1);

    idp.rotate_key();
    let mut other = f.browser();
    let second = f.login(&mut other, "partner").await;
    f.assert_logged_in(&mut other, &second).await;
    assert_eq!(
        idp.jwks_fetches(),
        fetched + 1,
        "one refetch for the new kid"
    );

    // The new key is cached now.
    let mut third = f.browser();
    let reply = f.login(&mut third, "partner").await;
    f.assert_logged_in(&mut third, &reply).await;
    assert_eq!(idp.jwks_fetches(), fetched + 1);
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    let f = partner().await;
    f.idp("partner").set(|s| s.expires_in = -3600);
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::FAILED, "id_token")
        .await;
}

#[tokio::test]
async fn an_id_token_without_the_nonce_is_refused() {
    let f = partner().await;
    f.idp("partner").set(|s| s.nonce = Field::Omitted);
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::FAILED, "id_token")
        .await;
}

#[tokio::test]
async fn an_id_token_with_another_logins_nonce_is_refused() {
    let f = partner().await;
    let idp = f.idp("partner");
    // The nonce of an earlier login of the same browser: a token replayed into a new login.
    let mut b = f.browser();
    let old_nonce = form_nonce(&f.start_login(&mut b, "partner").await);
    let authorize = f.start_login(&mut b, "partner").await;
    assert_ne!(form_nonce(&authorize), old_nonce);
    idp.set(|s| s.nonce = Field::Forged(old_nonce));
    let callback = f.at_provider(&mut b, "partner", &authorize).await;
    let reply = b.get(&callback).await;
    f.assert_refused(&b, &reply, 400, says::FAILED, "id_token")
        .await;
}

/// The `nonce` of an authorization URL.
fn form_nonce(authorize: &str) -> String {
    let query = authorize.split_once('?').unwrap().1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "nonce")
        .map(|(_, v)| v.into_owned())
        .expect("the authorization request carries a nonce")
}

/// Logout tokens with made-up key ids, posted by anyone to the public back-channel endpoint,
/// spend only the logout side's refetch: a login right after a real rotation still gets the
/// one refetch it needs.
#[tokio::test]
async fn logout_tokens_with_unknown_keys_do_not_use_up_a_logins_refetch() {
    let f = partner().await;
    let idp = f.idp("partner");
    let mut b = f.browser();
    let first = f.login(&mut b, "partner").await;
    f.assert_logged_in(&mut b, &first).await;

    let forged = idp.sign_logout(&idp.logout_claims(), Signer::UnknownKey);
    for _ in 0..3 {
        assert_eq!(f.backchannel("partner", &forged).await.status, 400);
    }
    idp.rotate_key();
    let mut other = f.browser();
    let second = f.login(&mut other, "partner").await;
    f.assert_logged_in(&mut other, &second).await;
}
