//! Who may come in once the answer is genuine: a link provider's person only by a claim the
//! provider vouches for, a guest only with a group the rules map (no default group here).

use serde_json::json;

use super::{LINK, partner, says, start};

#[tokio::test]
async fn an_unverified_email_does_not_link_to_a_person() {
    let f = start(&[("kin", LINK)]).await;
    let idp = f.idp("kin");
    for verified in [Some(json!(false)), None] {
        idp.set(|s| {
            s.email = Some("carol@example.org".into());
            s.email_verified = verified.clone();
        });
        let mut b = f.browser();
        let reply = f.login(&mut b, "kin").await;
        f.assert_refused(&b, &reply, 403, says::REFUSED, "unverified")
            .await;
    }
    // `email_verified` as a string is not an ID token's claim (OpenID Connect Core §5.1: a
    // boolean): the token is refused as malformed, "true" as much as "false".
    for verified in ["false", "true"] {
        idp.set(|s| s.email_verified = Some(json!(verified)));
        let mut b = f.browser();
        let reply = f.login(&mut b, "kin").await;
        f.assert_refused(&b, &reply, 400, says::FAILED, "id_token")
            .await;
    }
    // The same e-mail, verified, is carol.
    idp.set(|s| s.email_verified = Some(json!(true)));
    let mut b = f.browser();
    let reply = f.login(&mut b, "kin").await;
    f.assert_logged_in(&mut b, &reply).await;
    assert_eq!(f.events("federated_login")[0]["username"], "carol");
}

#[tokio::test]
async fn a_guest_with_no_mapped_group_and_no_default_is_refused() {
    let f = partner().await;
    let idp = f.idp("partner");
    for groups in [
        Some(vec!["elsewhere/visitors".to_string()]),
        Some(vec![]),
        None,
    ] {
        idp.set(|s| s.groups = groups.clone());
        let mut b = f.browser();
        let reply = f.login(&mut b, "partner").await;
        f.assert_refused(&b, &reply, 403, says::REFUSED, "unmapped")
            .await;
    }
}
