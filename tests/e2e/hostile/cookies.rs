//! Cookie tossing: a sibling host under the same parent domain can set a cookie for the whole
//! domain. Without `portal.cookie_domain` Pforte must never read its parent-domain session
//! cookie, or a planted `pforte_sso` logs the victim in as the attacker.

use pforte_e2e::browser::{Browser, absolute, hidden_value};
use pforte_e2e::raw::head;

use super::{Target, received};

#[tokio::test]
async fn a_planted_domain_cookie_logs_nobody_in() {
    let target = Target::start().await;
    // The attacker's own session, as a sibling host would plant it for the parent domain.
    let mallory = target.session("bob", "login.gw.test").await;
    let planted = format!("pforte_sso={mallory}");
    // On an app host: the victim is sent to log in, and the app sees nobody.
    let reply = target
        .raw(
            "video.gw.test",
            &head(
                "GET /call HTTP/1.1",
                &[("Host", "video.gw.test"), ("Cookie", &planted)],
            ),
        )
        .await;
    assert_eq!(
        reply.status,
        302,
        "the planted cookie was a session: {}",
        reply.text()
    );
    // Beside a stale host cookie it does not take the stale session's place either.
    let stale = format!("__Host-pforte={}; {planted}", "A".repeat(43));
    let reply = target
        .raw(
            "video.gw.test",
            &head(
                "GET /call HTTP/1.1",
                &[("Host", "video.gw.test"), ("Cookie", &stale)],
            ),
        )
        .await;
    assert_eq!(reply.status, 302);
    // On the login host: no portal for the attacker's session.
    let reply = target
        .raw(
            "login.gw.test",
            &head(
                "GET / HTTP/1.1",
                &[("Host", "login.gw.test"), ("Cookie", &planted)],
            ),
        )
        .await;
    assert_eq!(reply.status, 303, "the portal opened: {}", reply.text());
    assert_eq!(reply.header("location"), Some("/login"));
    assert_eq!(target.shared.count(), 0);
}

/// Where the operator chose a parent-domain cookie, it is read: a login reaches every host.
#[tokio::test]
async fn the_domain_cookie_works_where_it_was_chosen() {
    let target = Target::start_with(|b| b.portal("cookie_domain = \"gw.test\"")).await;
    let bob = target.session("bob", "login.gw.test").await;
    let reply = target
        .raw(
            "video.gw.test",
            &head(
                "GET /call HTTP/1.1",
                &[
                    ("Host", "video.gw.test"),
                    ("Cookie", &format!("pforte_sso={bob}")),
                ],
            ),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(received(&reply.json(), "x-forwarded-user"), ["bob"]);
}

/// The same harm without any cookie domain: the attacker logs in, keeps the hand-over link the
/// login host gives their own browser, and sends it to the victim. A ticket is bound to the
/// browser that asked for it, so the victim's browser cannot redeem it.
#[tokio::test]
async fn a_hand_over_link_logs_in_only_the_browser_that_asked_for_it() {
    let target = Target::start().await;
    let mut mallory = Browser::new(target.gw.https, target.gw.root());
    let first = mallory.get("https://video.gw.test/call").await;
    assert_eq!(first.status, 302);
    let form_url = absolute(
        "https://video.gw.test/call",
        first.header("location").unwrap(),
    );
    let form = mallory.get(&form_url).await;
    let page = form.text();
    let mut fields = vec![
        ("username", "bob".to_string()),
        ("password", "bobpw".to_string()),
        ("csrf", hidden_value(&page, "csrf").unwrap()),
        ("return_to", hidden_value(&page, "return_to").unwrap()),
    ];
    if let Some(binding) = hidden_value(&page, "handover") {
        fields.push(("handover", binding));
    }
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let posted = mallory.post("https://login.gw.test/login", &fields).await;
    let link = absolute(
        "https://login.gw.test/login",
        posted.header("location").expect("the hand-over link"),
    );
    assert!(
        link.starts_with("https://video.gw.test/.pforte/sso?ticket="),
        "{link}"
    );

    let mut victim = Browser::new(target.gw.https, target.gw.root());
    let redeemed = victim.get(&link).await;
    assert_eq!(redeemed.status, 303);
    assert!(
        victim.cookie("video.gw.test", "__Host-pforte").is_none(),
        "the victim got the attacker's session"
    );
    let hops = victim.follow("https://video.gw.test/call").await;
    assert!(
        hops[0].url.starts_with("https://login.gw.test/login"),
        "the victim works in the app as the attacker: {}",
        hops[0].url
    );
    assert_eq!(target.shared.count(), 0);

    // The browser that asked for it still gets in with a fresh link.
    let hops = mallory.follow("https://video.gw.test/call").await;
    assert_eq!(hops[0].reply.status, 200, "{}", hops[0].reply.text());
    assert_eq!(received(&hops[0].reply.json(), "x-forwarded-user"), ["bob"]);
}
