//! `pforte demo`, the README's first command: with nothing prepared it serves the start page and
//! every demo app over TLS with its own certificate, under the demo policy: public paths pass,
//! everything else needs a login.

use std::process::{Command, Stdio};
use std::time::Duration;

use pforte_e2e::client::{H1, plain};
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
async fn demo_serves_the_start_page_and_each_app() {
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
    let start = H1::connect(https, "login.localhost", &cert)
        .await
        .get("/")
        .await;
    assert_eq!(start.status, 200);
    for (app, name) in [
        ("mail", "Mail"),
        ("docs", "Documents"),
        ("video", "Video conferences"),
    ] {
        assert!(
            start
                .text()
                .contains(&format!("https://{app}.localhost:{}/", https.port())),
            "{}",
            start.text()
        );
        let mut client = H1::connect(https, &format!("{app}.localhost"), &cert).await;
        let page = client.get("/").await;
        assert_eq!(page.status, 403, "{app} needs a login: {}", page.text());
        assert!(page.text().contains(name), "the 403 page names the app");
        let public = client.get("/.well-known/security.txt").await;
        assert_eq!(public.status, 200, "{app}: {}", public.text());
        assert!(
            public.text().contains("x-forwarded-for"),
            "the demo app shows the headers it received"
        );
    }
}
