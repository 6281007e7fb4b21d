//! Reloading config and apps: valid changes apply without dropping connections; broken ones
//! keep the last good state and are reported.

use std::time::Duration;

use pforte_e2e::client::{H1, plain};
use pforte_e2e::eventually;
use pforte_e2e::gateway::{Gateway, app_toml};
use pforte_e2e::upstream::Upstream;

const ERRORS: &str = "pforte_config_reloads_total{result=\"error\"}";
const SUCCESSES: &str = "pforte_config_reloads_total{result=\"success\"}";

#[tokio::test]
async fn changed_apps_apply_without_dropping_connections() {
    let mail = Upstream::start("mail").await;
    let docs = Upstream::start("docs").await;
    let gw = Gateway::builder()
        .app("mail", "mail.gw.test", &[mail.url()])
        .start()
        .await;
    let mut kept = H1::connect(gw.https, "mail.gw.test", &gw.root()).await;
    assert_eq!(kept.get("/").await.status, 200);
    assert_eq!(gw.get("docs.gw.test", "/").await.status, 404);
    let before = gw.metric(SUCCESSES).await.unwrap();

    let apps = app_toml("mail", "mail.gw.test", "/", &[mail.url()], "")
        + &app_toml("docs", "docs.gw.test", "/", &[docs.url()], "");
    gw.replace_file("apps.toml", apps);
    assert!(
        eventually(Duration::from_secs(10), async || gw
            .get("docs.gw.test", "/")
            .await
            .status
            == 200)
        .await,
        "{}",
        gw.log()
    );
    assert_eq!(
        kept.get("/again").await.json()["upstream"],
        "mail",
        "the open connection survived the reload"
    );
    assert!(gw.metric(SUCCESSES).await.unwrap() > before);
    let stamp = gw
        .metric("pforte_config_last_reload_success_timestamp_seconds")
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        (now - stamp).abs() < 60.0,
        "last reload stamp {stamp} is not recent ({now})"
    );
}

#[tokio::test]
async fn broken_files_keep_the_last_good_state() {
    let mail = Upstream::start("mail").await;
    let gw = Gateway::builder()
        .app("mail", "mail.gw.test", &[mail.url()])
        .start()
        .await;

    // Through a file change.
    gw.replace_file(
        "apps.toml",
        "[[app]]\nname = \"mail\"\nhosts = [\"mail.gw.test\"]\nupstream = []\n",
    );
    assert!(
        eventually(Duration::from_secs(10), async || gw.metric(ERRORS).await
            >= Some(1.0))
        .await,
        "{}",
        gw.log()
    );
    assert_eq!(
        gw.get("mail.gw.test", "/").await.status,
        200,
        "routing stays as it was"
    );
    assert!(
        gw.log().contains("apps.toml:4:1"),
        "the error names file and line:\n{}",
        gw.log()
    );

    // Through the admin endpoint: the answer carries the reasons.
    let reply = plain(gw.admin, "POST", "/reload", &[]).await;
    assert_eq!(reply.status, 422);
    assert!(
        reply.text().contains("apps.toml:4:1") && reply.text().contains("upstream"),
        "{}",
        reply.text()
    );
    assert!(gw.metric(ERRORS).await >= Some(2.0));

    // Through SIGHUP, with a bad value in gateway.toml itself.
    let config = std::fs::read_to_string(gw.path("gateway.toml")).unwrap();
    gw.replace_file(
        "gateway.toml",
        config.replace("[limits]\n", "[limits]\nidle_timeout = \"soon\"\n"),
    );
    gw.signal("HUP");
    assert!(
        eventually(Duration::from_secs(10), async || gw.metric(ERRORS).await
            >= Some(3.0))
        .await,
        "{}",
        gw.log()
    );
    assert!(gw.log().contains("limits.idle_timeout"), "{}", gw.log());
    assert_eq!(gw.get("mail.gw.test", "/").await.status, 200);

    // Fixing the files applies them again.
    gw.replace_file("gateway.toml", config);
    gw.replace_file(
        "apps.toml",
        app_toml("mail", "mail.gw.test", "/", &[mail.url()], ""),
    );
    assert_eq!(plain(gw.admin, "POST", "/reload", &[]).await.status, 200);
}

#[tokio::test]
async fn admin_endpoints_and_reload_authorisation() {
    let gw = Gateway::builder()
        .admin_token("t0ken-of-the-admins")
        .start()
        .await;
    assert_eq!(plain(gw.admin, "GET", "/healthz", &[]).await.status, 200);
    assert_eq!(plain(gw.admin, "GET", "/readyz", &[]).await.status, 200);
    assert_eq!(plain(gw.admin, "GET", "/nothing", &[]).await.status, 404);
    assert_eq!(plain(gw.admin, "GET", "/reload", &[]).await.status, 405);
    assert_eq!(plain(gw.admin, "POST", "/reload", &[]).await.status, 401);
    let wrong = [("authorization", "Bearer t0ken-of-the-admin")];
    assert_eq!(plain(gw.admin, "POST", "/reload", &wrong).await.status, 401);
    let right = [("authorization", "Bearer t0ken-of-the-admins")];
    assert_eq!(plain(gw.admin, "POST", "/reload", &right).await.status, 200);
    assert!(
        !gw.log().contains("t0ken-of-the-admins"),
        "the token must never be logged"
    );

    let open = Gateway::builder().start().await;
    assert_eq!(
        plain(open.admin, "POST", "/reload", &[]).await.status,
        200,
        "no token: loopback may reload"
    );
}

/// The `policy_impact` audit events so far.
fn impact_events(gw: &Gateway) -> Vec<serde_json::Value> {
    gw.audit()
        .into_iter()
        .filter(|e| e["event"] == "policy_impact")
        .collect()
}

/// The one `policy_impact` event the gateway's reload wrote, once it is there.
async fn the_impact_event(gw: &Gateway) -> serde_json::Value {
    assert!(
        eventually(Duration::from_secs(10), async || impact_events(gw).len()
            == 1)
        .await,
        "{}",
        gw.log()
    );
    impact_events(gw).remove(0)
}

/// Apps for a gateway whose policy the LDAP tests change (nothing is requested of them).
pub(super) fn three_apps() -> String {
    ["mail", "docs", "video"]
        .iter()
        .map(|app| {
            app_toml(
                app,
                &format!("{app}.gw.test"),
                "/",
                &["http://127.0.0.1:9".to_owned()],
                "",
            )
        })
        .collect()
}

/// Staff use mail and docs, partners video.
pub(super) const STAFF_AND_PARTNERS: &str = "[[rule]]\napps = [\"mail\", \"docs\"]\nallow = [\"group:staff\"]\n\n\
                                  [[rule]]\napps = [\"video\"]\nallow = [\"group:partners\"]\n";

#[tokio::test]
async fn a_policy_reload_audits_who_gains_and_loses_which_app() {
    let gw = Gateway::builder()
        .ldap(&[pforte_e2e::env("PFORTE_TEST_LDAP_URL")])
        .audit_log()
        .apps(three_apps())
        .policy(STAFF_AND_PARTNERS)
        .start()
        .await;
    // Partners lose video; admins gain it.
    gw.replace_file(
        "policy.toml",
        STAFF_AND_PARTNERS.replace("group:partners", "group:admins"),
    );
    assert_eq!(plain(gw.admin, "POST", "/reload", &[]).await.status, 200);
    let event = &the_impact_event(&gw).await;
    assert_eq!(event["changed"], "policy", "{event}");
    assert_eq!(event["directory"], "read", "{event}");
    assert_eq!(event["people_not_checked"], 0, "{event}");
    assert!(event["people_checked"].as_u64().unwrap() >= 4, "{event}");
    assert_eq!(
        (event["gains"].clone(), event["losses"].clone()),
        (1.into(), 1.into())
    );
    let apps: serde_json::Value = serde_json::from_str(event["apps"].as_str().unwrap()).unwrap();
    assert_eq!(
        apps.as_array().unwrap().len(),
        1,
        "only video, and once: {apps}"
    );
    let video = &apps[0];
    assert_eq!(video["name"], "video");
    assert_eq!(video["from"], "10.0.0.1");
    assert_eq!(video["gained"]["listed"], serde_json::json!(["alice"]));
    assert_eq!(video["lost"]["listed"], serde_json::json!(["bob"]));
    let rule = video["gained"]["rules"][0].as_str().unwrap();
    assert!(
        rule.starts_with("allow ") && rule.ends_with("policy.toml:5"),
        "{rule}"
    );
    let rule = video["lost"]["rules"][0].as_str().unwrap();
    assert!(rule.starts_with("no longer allowed by "), "{rule}");
    assert_eq!(event["clients"], "[]");

    // A comment moves the rules but changes no decision: no impact is audited.
    let commented = format!(
        "# video moved to the admins\n{}",
        STAFF_AND_PARTNERS.replace("group:partners", "group:admins")
    );
    gw.replace_file("policy.toml", commented);
    assert_eq!(plain(gw.admin, "POST", "/reload", &[]).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(impact_events(&gw).len(), 1, "{:?}", impact_events(&gw));
}

#[tokio::test]
async fn an_unreachable_directory_neither_holds_up_the_reload_nor_hides_the_change() {
    let closed = format!("ldap://127.0.0.1:{}", pforte_e2e::free_port());
    let gw = Gateway::builder()
        .ldap(&[closed])
        .audit_log()
        .apps(three_apps())
        .policy(STAFF_AND_PARTNERS)
        .start()
        .await;
    gw.replace_file("policy.toml", STAFF_AND_PARTNERS.replace(", \"docs\"", ""));
    let asked = std::time::Instant::now();
    assert_eq!(plain(gw.admin, "POST", "/reload", &[]).await.status, 200);
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "the reload does not wait for the directory: {:?}",
        asked.elapsed()
    );
    let event = &the_impact_event(&gw).await;
    let said = event["directory"].as_str().unwrap();
    assert!(said.starts_with("unavailable: "), "{event}");
    assert_eq!(event["people_checked"], 0, "{event}");
}

/// A public client of `app`.
fn meet_client(app: &str) -> String {
    format!(
        "[[client]]\nid = \"meet\"\napp = \"{app}\"\npublic = true\n\
         redirect_uris = [\"https://meet.gw.test/callback\"]\nscopes = [\"openid\"]\n"
    )
}

#[tokio::test]
async fn a_client_moved_to_another_app_audits_who_gains_and_loses_its_tokens() {
    let gw = Gateway::builder()
        .ldap(&[pforte_e2e::env("PFORTE_TEST_LDAP_URL")])
        .audit_log()
        .apps(three_apps())
        .policy(STAFF_AND_PARTNERS)
        .oidc(&meet_client("video"))
        .start()
        .await;
    gw.replace_file("clients.toml", meet_client("docs"));
    assert_eq!(plain(gw.admin, "POST", "/reload", &[]).await.status, 200);
    let event = &the_impact_event(&gw).await;
    assert_eq!(event["changed"], "clients", "{event}");
    assert_eq!(event["apps"], "[]", "no app changed for anyone: {event}");
    let clients: serde_json::Value =
        serde_json::from_str(event["clients"].as_str().unwrap()).unwrap();
    assert_eq!(clients.as_array().unwrap().len(), 1, "{clients}");
    let meet = &clients[0];
    assert_eq!(
        (&meet["name"], &meet["app_before"], &meet["app_after"]),
        (&"meet".into(), &"video".into(), &"docs".into())
    );
    // Docs is for staff (alice; carol through finance; erin through it), video for partners.
    assert_eq!(
        meet["gained"]["listed"],
        serde_json::json!(["alice", "carol", "erin"])
    );
    assert_eq!(meet["lost"]["listed"], serde_json::json!(["bob"]));
}
