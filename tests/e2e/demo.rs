//! `pforte demo`, the README's first command: with nothing prepared it serves the login host and
//! every demo app over TLS with its own certificate, under the demo policy, with the demo people:
//! log in once, open every app you may use; the admin tool line it prints works as printed.

use pforte_e2e::browser::Browser;
use pforte_e2e::demo::Demo;
use pforte_e2e::gateway::pforte_admin_bin;

#[tokio::test]
async fn demo_logs_in_once_and_serves_each_app() {
    let demo = Demo::start(&[]).await;
    let https = demo.https;
    let printed = demo.output();
    assert!(
        printed.contains(&format!("https://login.localhost:{}/", https.port())),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("https://mail.localhost:{}/", https.port())),
        "{printed}"
    );

    // A client that trusts only the demo's own certificate, as the README says.
    let cert = demo.certificate();
    // Not logged in: the portal sends to the login page; public paths pass.
    let base = |host: &str| format!("https://{host}.localhost:{}", https.port());
    let mut browser = Browser::new(https, cert.clone());
    let first = browser.get(&format!("{}/", base("login"))).await;
    assert_eq!(first.status, 303);
    let public = browser
        .get(&format!("{}/.well-known/security.txt", base("mail")))
        .await;
    assert_eq!(public.status, 200, "{}", public.text());
    assert!(public.text().contains("this page is public"));
    // The OpenID Connect provider, with the example clients of policies/clients.toml.
    assert!(printed.contains("openid-configuration"), "{printed}");
    let discovery = browser
        .get(&format!(
            "{}/.well-known/openid-configuration",
            base("login")
        ))
        .await;
    assert_eq!(discovery.status, 200, "{}", discovery.text());
    assert_eq!(discovery.json()["issuer"], base("login"));

    // Log in once as alice (README: alice / alicepw); the portal shows her apps.
    let hops = browser
        .login(&format!("{}/", base("login")), "alice", "alicepw")
        .await;
    assert_eq!(hops[0].reply.status, 200, "{}", hops[0].reply.text());
    let portal = hops[0].reply.text();
    for app in ["mail", "docs", "video"] {
        assert!(
            portal.contains(&format!("{}/", base(app))),
            "{app} tile missing: {portal}"
        );
    }
    // Each app opens without another password and shows who it sees.
    for (app, name) in [
        ("mail", "Mail"),
        ("docs", "Documents"),
        ("video", "Video conferences"),
    ] {
        let hops = browser.follow(&format!("{}/", base(app))).await;
        let page = &hops[0].reply;
        assert_eq!(page.status, 200, "{app}: {}", page.text());
        assert!(
            page.text().contains(&format!("<h1>{name}</h1>")),
            "{}",
            page.text()
        );
        assert!(page.text().contains("Alice Liddell"), "{}", page.text());
    }
    // bob, a partner, gets video but a 403 for mail.
    let mut bob = Browser::new(https, cert);
    bob.login(&format!("{}/", base("login")), "bob", "bobpw")
        .await;
    let video = bob.follow(&format!("{}/", base("video"))).await;
    assert_eq!(video[0].reply.status, 200);
    let mail = bob.follow(&format!("{}/", base("mail"))).await;
    assert_eq!(mail[0].reply.status, 403);
    assert!(mail[0].reply.text().contains("Mail"));

    // The admin tool line works as printed: the demo policy lets bob (partners) into video.
    let hint = printed
        .lines()
        .find_map(|line| line.trim().strip_prefix("admin tool"))
        .unwrap_or_else(|| panic!("no admin tool line: {printed}"));
    let mut words = hint.split_whitespace();
    assert_eq!(words.next(), Some("pforte-admin"), "{hint}");
    let out = std::process::Command::new(pforte_admin_bin())
        .args(words)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{hint}: {out:?}");
    let answer = String::from_utf8_lossy(&out.stdout);
    assert!(answer.contains("decision: allow"), "{answer}");

    // The chained audit log is where the demo says, and its verify line works as printed once
    // the demo has stopped (the shutdown signs a checkpoint): alice's login and bob's refusal.
    let mut demo = demo;
    demo.terminate().await;
    let printed = demo.output();
    let verify = printed
        .lines()
        .skip_while(|line| !line.trim().starts_with("audit log"))
        .find_map(|line| line.trim().strip_prefix("pforte-admin"))
        .unwrap_or_else(|| panic!("no audit verify line: {printed}"));
    let out = std::process::Command::new(pforte_admin_bin())
        .args(verify.split_whitespace())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{verify}: {report}{out:?}");
    assert!(report.contains("intact"), "{report}");
    let log = std::fs::read_to_string(demo.state.path().join("audit.jsonl")).unwrap();
    for needle in [
        "\"login_success\"",
        "\"access_denied\"",
        "\"audit_checkpoint\"",
    ] {
        assert!(log.contains(needle), "{needle} missing: {log}");
    }
}
