//! `pforte demo`, the README's first command: with nothing prepared it serves the login host and
//! every demo app over TLS with its own certificate, under the demo policy, with the demo people:
//! log in once, open every app you may use.

use std::process::{Command, Stdio};
use std::time::Duration;

use pforte_e2e::browser::Browser;
use pforte_e2e::client::plain;
use pforte_e2e::eventually;
use pforte_e2e::gateway::pforte_bin;

struct Demo(std::process::Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn demo_logs_in_once_and_serves_each_app() {
    pforte_e2e::init_crypto();
    let state = tempfile::tempdir().unwrap();
    let https: std::net::SocketAddr = format!("127.0.0.1:{}", pforte_e2e::free_port())
        .parse()
        .unwrap();
    let admin: std::net::SocketAddr = format!("127.0.0.1:{}", pforte_e2e::free_port())
        .parse()
        .unwrap();
    let out = std::fs::File::create(state.path().join("demo.out")).unwrap();
    let child = Command::new(pforte_bin())
        .args(["demo", "--state-dir"])
        .arg(state.path())
        .args([
            "--listen",
            &https.to_string(),
            "--admin",
            &admin.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let _demo = Demo(child);
    let output = || std::fs::read_to_string(state.path().join("demo.out")).unwrap_or_default();
    let ready = eventually(Duration::from_secs(20), async || {
        tokio::net::TcpStream::connect(admin).await.is_ok()
            && plain(admin, "GET", "/readyz", &[]).await.status == 200
    })
    .await;
    assert!(ready, "the demo did not come up:\n{}", output());
    let printed = output();
    assert!(
        printed.contains(&format!("https://login.localhost:{}/", https.port())),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("https://mail.localhost:{}/", https.port())),
        "{printed}"
    );

    // A client that trusts only the demo's own certificate, as the README says.
    let pem = std::fs::read(state.path().join("tls/demo.crt")).unwrap();
    let cert =
        <rustls_pki_types::CertificateDer as rustls_pki_types::pem::PemObject>::from_pem_slice(
            &pem,
        )
        .unwrap();
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
}
