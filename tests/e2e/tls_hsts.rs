//! HSTS: the gateway's Strict-Transport-Security header on every HTTPS answer (the login host,
//! error pages, the apps' answers, replacing an app's own), none for an app that turned it off
//! and none on the plain-HTTP redirect listener.

use http::header::STRICT_TRANSPORT_SECURITY;
use pforte_e2e::client::{Reply, plain};
use pforte_e2e::gateway::{Gateway, app_toml};
use pforte_e2e::upstream::Upstream;

fn hsts(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .get_all(STRICT_TRANSPORT_SECURITY)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn every_https_answer_carries_the_gateways_hsts_unless_the_app_turned_it_off() {
    let mail = Upstream::start("mail").await;
    let legacy = Upstream::start("legacy").await;
    let gw = Gateway::builder()
        .apps(
            app_toml("mail", "mail.gw.test", "/", &[mail.url()], "")
                + &app_toml(
                    "legacy",
                    "legacy.gw.test",
                    "/",
                    &[legacy.url()],
                    "hsts = false",
                ),
        )
        .tls("hsts.max_age = 600\nhsts.include_subdomains = true")
        .http_redirect()
        .start()
        .await;
    let ours = vec!["max-age=600; includeSubDomains".to_string()];

    let login = gw.get("login.gw.test", "/login").await;
    assert_eq!(login.status, 200);
    assert_eq!(hsts(&login), ours, "login page");
    let unknown = gw.get("nowhere.gw.test", "/").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(hsts(&unknown), ours, "error page");
    let app = gw.get("mail.gw.test", "/").await;
    assert_eq!(app.status, 200, "{}", app.text());
    assert_eq!(hsts(&app), ours, "app answer");
    // The app's own header is replaced: the gateway owns the host's TLS.
    assert_eq!(hsts(&gw.get("mail.gw.test", "/hsts").await), ours);

    // `hsts = false`: the app's own header passes, and none is added.
    let off = gw.get("legacy.gw.test", "/").await;
    assert_eq!(off.status, 200);
    assert!(hsts(&off).is_empty(), "{:?}", off.headers);
    assert_eq!(
        hsts(&gw.get("legacy.gw.test", "/hsts").await),
        vec!["max-age=60".to_string()]
    );

    // Plain HTTP never carries it (RFC 6797 §7.2).
    let redirect = plain(gw.http.unwrap(), "GET", "/", &[("host", "mail.gw.test")]).await;
    assert!(redirect.status >= 300 && redirect.status < 400);
    assert!(hsts(&redirect).is_empty(), "{:?}", redirect.headers);
}

#[tokio::test]
async fn the_default_is_one_year_and_preload_needs_subdomains() {
    let gw = Gateway::builder().start().await;
    let login = gw.get("login.gw.test", "/login").await;
    assert_eq!(hsts(&login), vec!["max-age=31536000".to_string()]);

    let refused = Gateway::builder()
        .tls("hsts.preload = true")
        .write_folder(&pforte_e2e::pki::TestCa::new());
    let check = std::process::Command::new(pforte_e2e::gateway::pforte_bin())
        .args(["check", "--config"])
        .arg(&refused.config_path)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&check.stderr).to_string()
        + &String::from_utf8_lossy(&check.stdout);
    assert!(!check.status.success(), "{said}");
    assert!(said.contains("tls.hsts.preload"), "{said}");
    assert!(said.contains("gateway.toml"), "{said}");
}
