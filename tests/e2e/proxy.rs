//! Routing and proxying.

use pforte_e2e::gateway::{Gateway, app_toml};
use pforte_e2e::upstream::Upstream;

#[tokio::test]
async fn routes_by_host_and_path_prefix() {
    let mail = Upstream::start("mail").await;
    let docs = Upstream::start("docs").await;
    let files = Upstream::start("files").await;
    let gw = Gateway::builder()
        .apps(
            app_toml("mail", "mail.gw.test", "/", &[mail.url()], "")
                + &app_toml("files", "work.gw.test", "/", &[files.url()], "")
                + &app_toml("docs", "work.gw.test", "/docs", &[docs.url()], ""),
        )
        .start()
        .await;
    let r = gw.get("mail.gw.test", "/inbox?page=2").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["upstream"], "mail");
    assert_eq!(r.json()["path"], "/inbox");
    assert_eq!(r.json()["query"], "page=2");
    assert_eq!(
        gw.get("work.gw.test", "/docs/report.odt").await.json()["upstream"],
        "docs"
    );
    assert_eq!(
        gw.get("work.gw.test", "/docs").await.json()["upstream"],
        "docs"
    );
    assert_eq!(
        gw.get("work.gw.test", "/docsx").await.json()["upstream"],
        "files"
    );
    assert_eq!(
        gw.get("work.gw.test", "/").await.json()["upstream"],
        "files"
    );
    let unknown = gw.get("nowhere.gw.test", "/").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.text().contains("No app at this address"));
    assert_eq!(mail.count(), 1);
}
