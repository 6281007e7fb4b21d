//! The gateway's own error pages from a running gateway: in the language the browser asks for,
//! in the organisation's theme (name, colour, logo), on an app host and on the login host.

use pforte_e2e::client::{H1, Reply};
use pforte_e2e::gateway::{Gateway, app_toml};
use pforte_e2e::upstream::Upstream;

/// The wiki's drafts are closed to everyone: a 403 for anybody who asks.
const POLICY: &str = r#"[[rule]]
apps = ["wiki"]
paths = ["/drafts/"]
deny = ["everyone"]

[[rule]]
apps = ["wiki"]
paths = ["/"]
allow = ["everyone"]
"#;

const THEME: &str = r##"default_language = "en"
[portal.theme]
product_name = "Stadtverwaltung Nord"
primary_color = "#5b2a86"
logo = "logo.svg"
"##;

const LOGO: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>"#;

async fn get(gw: &Gateway, host: &str, path: &str, accept_language: Option<&str>) -> Reply {
    let mut client = H1::connect(gw.https, host, &gw.root()).await;
    let mut request = client.request("GET", path);
    if let Some(value) = accept_language {
        request = request.header("accept-language", value);
    }
    client.send(request.body(Default::default()).unwrap()).await
}

/// The page is in `lang`, in the theme, and names its status and request id.
fn assert_themed(reply: &Reply, lang: &str, status_line: &str) {
    let text = reply.text();
    assert!(text.contains(&format!("<html lang=\"{lang}\">")), "{text}");
    assert!(text.contains(status_line), "{status_line}: {text}");
    assert!(text.contains("Stadtverwaltung Nord"), "theme name: {text}");
    assert!(text.contains("#5b2a86"), "theme colour: {text}");
    assert!(
        text.contains("<img src=\"https://login.gw.test/assets/logo\""),
        "logo from the login host: {text}"
    );
    let id = reply.header("x-request-id").expect("a request id");
    assert!(text.contains(id), "the page shows the request id {id}");
    let csp = reply.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("img-src https://login.gw.test;"), "{csp}");
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "never framed: {csp}"
    );
}

#[tokio::test]
async fn error_pages_speak_the_browsers_language_in_the_configured_theme() {
    let wiki = Upstream::start("wiki").await;
    let gw = Gateway::builder()
        .apps(app_toml(
            "wiki",
            "wiki.gw.test",
            "/",
            &[wiki.url()],
            "display_name = \"Wissensdatenbank\"",
        ))
        .policy(POLICY)
        .file("logo.svg", LOGO)
        .portal(THEME)
        .start()
        .await;
    let german = Some("de-DE,de;q=0.9,en;q=0.5");

    let refused = get(&gw, "wiki.gw.test", "/drafts/plan", german).await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert_themed(&refused, "de", "Fehler 403");
    assert!(refused.text().contains("Zugriff verweigert"));
    assert!(
        refused
            .text()
            .contains("keinen Zugriff auf Wissensdatenbank")
    );

    let unknown = get(&gw, "nowhere.gw.test", "/", german).await;
    assert_eq!(unknown.status, 404);
    assert_themed(&unknown, "de", "Fehler 404");
    assert!(
        unknown
            .text()
            .contains("Keine Anwendung unter dieser Adresse")
    );

    let missing = get(&gw, "login.gw.test", "/no-such-page", german).await;
    assert_eq!(missing.status, 404);
    assert_themed(&missing, "de", "Fehler 404");
    assert!(missing.text().contains("Nicht gefunden"));

    // The same pages in English: for a browser that asks for it, and by the configured default.
    let english = get(&gw, "wiki.gw.test", "/drafts/plan", Some("en-GB")).await;
    assert_themed(&english, "en", "Error 403");
    assert!(english.text().contains("Access denied"));
    let default = get(&gw, "login.gw.test", "/no-such-page", None).await;
    assert_themed(&default, "en", "Error 404");
    // The login host's language switch (`?lang=`) wins over the browser, as on the login page.
    let chosen = get(&gw, "login.gw.test", "/no-such-page?lang=de", Some("en")).await;
    assert_themed(&chosen, "de", "Fehler 404");

    // The logo the pages name is served by the login host.
    let logo = get(&gw, "login.gw.test", "/assets/logo", None).await;
    assert_eq!(logo.status, 200);
    assert_eq!(logo.header("content-type"), Some("image/svg+xml"));
    assert_eq!(wiki.count(), 0, "nothing refused reached the app");
}
