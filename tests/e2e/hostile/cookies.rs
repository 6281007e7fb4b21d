//! Cookie tossing: a sibling host under the same parent domain can set a cookie for the whole
//! domain. Without `portal.cookie_domain` Pforte must never read its parent-domain session
//! cookie, or a planted `pforte_sso` logs the victim in as the attacker.

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
