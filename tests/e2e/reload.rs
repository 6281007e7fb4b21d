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
