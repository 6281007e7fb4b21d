//! Sessions beyond one gateway and one server: two gateways on one Redis (log in through one,
//! use the other; log out through one, refused on the other within the 1 s bound), LDAP failover
//! mid-test, forward auth for sites behind their own proxy, and an admin lifting a lock.

use std::time::{Duration, Instant};

use pforte_e2e::browser::Browser;
use pforte_e2e::client::plain;
use pforte_e2e::gateway::{Gateway, app_toml};
use pforte_e2e::upstream::Upstream;

const POLICY: &str = r#"[[rule]]
apps = ["mail", "wiki"]
allow = ["group:staff"]
"#;

const LOGIN: &str = "https://login.gw.test";
const MAIL: &str = "https://mail.gw.test";

fn apps(mail: &Upstream) -> String {
    app_toml("mail", "mail.gw.test", "/", &[mail.url()], "")
        + &app_toml(
            "wiki",
            "wiki.gw.test",
            "/",
            &[mail.url()],
            "[app.identity_headers]\nuser = \"Remote-User\"",
        )
}

#[tokio::test]
async fn two_gateways_on_one_redis_share_logins_and_logouts() {
    let mail = Upstream::start("mail").await;
    let prefix = pforte_e2e::unique_prefix("sessions");
    let start = || {
        Gateway::builder()
            .apps(apps(&mail))
            .policy(POLICY)
            .demo_people()
            .redis(&prefix, "")
    };
    let a = start().start().await;
    let b = start().start().await;

    let mut at_a = Browser::new(a.https, a.root());
    let hops = at_a.login(&format!("{MAIL}/"), "alice", "alicepw").await;
    assert_eq!(hops[0].reply.status, 200, "{}", hops[0].reply.text());

    // The same browser, now reaching the other replica: no login needed.
    let mut at_b = at_a.at(b.https, b.root());
    let reply = at_b.get(&format!("{MAIL}/inbox")).await;
    assert_eq!(reply.status, 200, "replica B does not know the session");
    assert_eq!(
        reply.json()["headers"]["x-forwarded-user"],
        serde_json::json!(["alice"])
    );

    // Log out through A; B refuses the session within the bound.
    let portal = at_a.get(&format!("{LOGIN}/")).await.text();
    let token = pforte_e2e::browser::hidden_value(&portal, "csrf").unwrap();
    let out = at_a
        .post(&format!("{LOGIN}/logout"), &[("csrf", token.as_str())])
        .await;
    assert_eq!(out.status, 200);
    let logged_out = Instant::now();
    let mut refused_after = None;
    while logged_out.elapsed() < Duration::from_secs(3) {
        if at_b.get(&format!("{MAIL}/inbox")).await.status == 302 {
            refused_after = Some(logged_out.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused_after = refused_after.expect("replica B still accepts the session after 3 s");
    assert!(
        refused_after <= Duration::from_millis(1000),
        "revocation took {refused_after:?}, beyond the 1 s bound"
    );
}

#[tokio::test]
async fn logins_go_on_when_the_first_ldap_server_dies() {
    let mail = Upstream::start("mail").await;
    let services = pforte_e2e::env("PFORTE_TEST_SERVICES_SCRIPT");
    let dir = pforte_e2e::env("PFORTE_TEST_SERVICES_DIR");
    let gw = Gateway::builder()
        .apps(apps(&mail))
        .policy(POLICY)
        .ldap(&[
            pforte_e2e::env("PFORTE_TEST_LDAP2_URL"),
            pforte_e2e::env("PFORTE_TEST_LDAP_URL"),
        ])
        .start()
        .await;
    let mut b = Browser::new(gw.https, gw.root());
    assert_eq!(
        b.login(&format!("{MAIL}/"), "alice", "alicepw").await[0]
            .reply
            .status,
        200
    );

    /// Starts ldap2 again whatever happens, so later suites find it.
    struct Restart(String, String);
    impl Drop for Restart {
        fn drop(&mut self) {
            let _ = std::process::Command::new(&self.0)
                .args(["start-ldap", &self.1, "ldap2"])
                .output();
        }
    }
    let _restart = Restart(services.clone(), dir.clone());
    let stopped = std::process::Command::new(&services)
        .args(["stop-ldap", &dir, "ldap2"])
        .output()
        .unwrap();
    assert!(stopped.status.success(), "{stopped:?}");

    let mut carol = Browser::new(gw.https, gw.root());
    let hops = carol.login(&format!("{MAIL}/"), "carol", "carolpw").await;
    assert_eq!(hops[0].reply.status, 200, "{}", hops[0].reply.text());
    assert_eq!(
        hops[0].reply.json()["headers"]["x-forwarded-groups"],
        serde_json::json!(["finance,staff"])
    );
}

#[tokio::test]
async fn forward_auth_answers_for_sites_behind_their_own_proxy() {
    let mail = Upstream::start("mail").await;
    let gw = Gateway::builder()
        .apps(apps(&mail))
        .policy(POLICY)
        .demo_people()
        .trusted_proxies(&["127.0.0.1/32"])
        .start()
        .await;
    let mut b = Browser::new(gw.https, gw.root());
    b.login(&format!("{LOGIN}/login"), "alice", "alicepw").await;
    let session = b
        .cookie("login.gw.test", "__Host-pforte")
        .unwrap()
        .to_string();

    let verify = |cookie: Option<String>| {
        let gw = &gw;
        async move {
            let mut h1 = gw.h1("login.gw.test").await;
            let mut req = h1
                .request("GET", "/auth/verify")
                .header("x-original-url", "https://wiki.gw.test/page?x=1")
                .header("x-original-method", "GET")
                .header("accept-language", "de");
            if let Some(cookie) = cookie {
                req = req.header("cookie", format!("__Host-pforte={cookie}"));
            }
            h1.send(req.body(Default::default()).unwrap()).await
        }
    };
    let allowed = verify(Some(session.clone())).await;
    assert_eq!(allowed.status, 200);
    assert_eq!(allowed.header("remote-user"), Some("alice"));
    assert_eq!(allowed.header("x-forwarded-groups"), Some("admins,staff"));

    let anonymous = verify(None).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.header("location"),
        Some("https://wiki.gw.test/.pforte/login?return_to=%2Fpage%3Fx%3D1"),
        "through the site's own /.pforte/login, which binds the hand-over to the browser"
    );

    let mut bob = Browser::new(gw.https, gw.root());
    bob.login(&format!("{LOGIN}/login"), "bob", "bobpw").await;
    let bob_session = bob
        .cookie("login.gw.test", "__Host-pforte")
        .unwrap()
        .to_string();
    let refused = verify(Some(bob_session)).await;
    assert_eq!(refused.status, 403);
    // Caddy and Traefik show this body to the browser: the refusal page in its language.
    assert!(
        refused.text().contains("<html lang=\"de\">"),
        "{}",
        refused.text()
    );
    assert!(
        refused.text().contains("Zugriff verweigert"),
        "{}",
        refused.text()
    );
}

#[tokio::test]
async fn an_admin_lifts_a_lock() {
    let mail = Upstream::start("mail").await;
    let gw = Gateway::builder()
        .apps(apps(&mail))
        .policy(POLICY)
        .demo_people()
        .audit_log()
        .sessions("[sessions.throttle]\nfree_failures = 0\nfirst_delay = \"1s\"\nlock_after = 1\nlock_for = \"1h\"")
        .start()
        .await;
    let mut b = Browser::new(gw.https, gw.root());
    b.login(&format!("{LOGIN}/login"), "erin", "wrong").await;
    let mut b = Browser::new(gw.https, gw.root());
    let hops = b.login(&format!("{LOGIN}/login"), "erin", "erinpw").await;
    assert_eq!(hops[0].reply.status, 429, "locked for an hour");

    assert_eq!(plain(gw.admin, "POST", "/unlock", &[]).await.status, 400);
    for target in ["account=Erin", "address=127.0.0.1"] {
        let reply = plain(gw.admin, "POST", &format!("/unlock?{target}"), &[]).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    let mut b = Browser::new(gw.https, gw.root());
    let hops = b.login(&format!("{LOGIN}/login"), "erin", "erinpw").await;
    assert_eq!(hops[0].url, format!("{LOGIN}/"), "{}", hops[0].reply.text());
    let unlocks: Vec<_> = gw
        .audit()
        .into_iter()
        .filter(|e| e["event"] == "unlock")
        .collect();
    assert_eq!(unlocks.len(), 2);
}

#[tokio::test]
async fn an_admin_revocation_reaches_every_replica() {
    let mail = Upstream::start("mail").await;
    let prefix = pforte_e2e::unique_prefix("sessions");
    let start = || {
        Gateway::builder()
            .apps(apps(&mail))
            .policy(POLICY)
            .demo_people()
            .audit_log()
            .redis(&prefix, "")
    };
    let a = start().start().await;
    let b = start().start().await;
    let mut alice = Browser::new(a.https, a.root());
    assert_eq!(
        alice.login(&format!("{MAIL}/"), "alice", "alicepw").await[0]
            .reply
            .status,
        200
    );
    let mut carol = Browser::new(a.https, a.root());
    assert_eq!(
        carol.login(&format!("{MAIL}/"), "carol", "carolpw").await[0]
            .reply
            .status,
        200
    );

    assert_eq!(
        plain(b.admin, "POST", "/sessions/revoke?sid=xyz", &[])
            .await
            .status,
        400
    );
    let reply = plain(
        b.admin,
        "POST",
        "/sessions/revoke?subject=d3db2d2a-ab3e-4c29-aa09-ec8911d9b629",
        &[],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let revoked = reply.json()["revoked"].as_array().unwrap().clone();
    assert_eq!(revoked.len(), 1, "{}", reply.text());
    assert_eq!(revoked[0]["user"], "alice", "the answer names what ended");
    let refused = pforte_e2e::eventually(Duration::from_secs(2), async || {
        alice.get(&format!("{MAIL}/")).await.status == 302
    })
    .await;
    assert!(refused, "replica A still accepts alice's revoked session");
    assert_eq!(
        carol.get(&format!("{MAIL}/")).await.status,
        200,
        "carol keeps hers"
    );
    let revoked: Vec<_> = b
        .audit()
        .into_iter()
        .filter(|e| e["event"] == "session_revoked")
        .collect();
    assert_eq!(revoked.len(), 1);
    assert_eq!(
        revoked[0]["subject"],
        "d3db2d2a-ab3e-4c29-aa09-ec8911d9b629"
    );
}

/// nginx in front of a site of its own, asking Pforte with `auth_request` (the configuration of
/// docs/deployment.md), stopped when dropped (with its worker: SIGTERM to the master) together
/// with its folder.
struct Nginx {
    master: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .arg(self.master.id().to_string())
            .status();
        let _ = self.master.wait();
    }
}

fn nginx_in_front(gw: &Gateway, site: &Upstream) -> (Nginx, std::net::SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let leaf = gw.ca.leaf(dir.path(), "wiki", &["wiki.gw.test"]);
    gw.ca.write_pem(&dir.path().join("ca.pem"));
    let port = pforte_e2e::free_port();
    let d = dir.path().display();
    let conf = format!(
        r#"worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};
  server {{
    listen 127.0.0.1:{port} ssl;
    server_name wiki.gw.test;
    ssl_certificate {cert}; ssl_certificate_key {key};
    location = /_pforte_verify {{
      internal;
      proxy_pass https://{pforte}/auth/verify;
      proxy_ssl_server_name on;
      proxy_ssl_name login.gw.test;
      proxy_ssl_verify on;
      proxy_ssl_trusted_certificate {d}/ca.pem;
      proxy_set_header Host login.gw.test;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Real-IP $remote_addr;
    }}
    location /.pforte/ {{
      proxy_pass https://{pforte};
      proxy_ssl_server_name on;
      proxy_ssl_name wiki.gw.test;
      proxy_ssl_verify on;
      proxy_ssl_trusted_certificate {d}/ca.pem;
      proxy_set_header Host $http_host;
    }}
    location / {{
      auth_request /_pforte_verify;
      auth_request_set $pforte_user $upstream_http_remote_user;
      auth_request_set $pforte_login $upstream_http_location;
      error_page 401 = @login;
      proxy_set_header X-Forwarded-User $pforte_user;
      proxy_pass {site};
    }}
    location @login {{ return 302 $pforte_login; }}
  }}
}}
"#,
        cert = leaf.cert.display(),
        key = leaf.key.display(),
        pforte = gw.https,
        site = site.url(),
    );
    std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
    let child = std::process::Command::new("/usr/sbin/nginx")
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nginx (run ./tests/run, which installs it)");
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    (
        Nginx {
            master: child,
            _dir: dir,
        },
        addr,
    )
}

#[tokio::test]
async fn nginx_auth_request_guards_a_site_with_pforte_logins() {
    let mail = Upstream::start("mail").await;
    let site = Upstream::start("wiki-behind-nginx").await;
    let gw = Gateway::builder()
        .apps(apps(&mail))
        .policy(POLICY)
        .demo_people()
        .trusted_proxies(&["127.0.0.1/32"])
        .start()
        .await;
    let (_nginx, nginx) = nginx_in_front(&gw, &site);
    assert!(
        pforte_e2e::eventually(Duration::from_secs(10), async || {
            tokio::net::TcpStream::connect(nginx).await.is_ok()
        })
        .await,
        "nginx did not start"
    );
    let mut b = Browser::new(gw.https, gw.root());
    b.elsewhere.insert("wiki.gw.test".into(), nginx);
    // The client's own identity header never reaches the site: nginx replaces it with Pforte's.
    b.extra_headers
        .push(("X-Forwarded-User".into(), "mallory".into()));

    // Not logged in: nginx sends the browser through the site's /.pforte/login (which binds the
    // hand-over to this browser) to Pforte's login page, and back after it.
    let first = b.get("https://wiki.gw.test/page").await;
    assert_eq!(first.status, 302, "{}", first.text());
    assert_eq!(
        first.header("location"),
        Some("https://wiki.gw.test/.pforte/login?return_to=%2Fpage")
    );
    assert_eq!(site.count(), 0);
    let hops = b
        .login("https://wiki.gw.test/page", "alice", "alicepw")
        .await;
    assert_eq!(hops[0].url, "https://wiki.gw.test/page");
    assert_eq!(hops[0].reply.status, 200, "{}", hops[0].reply.text());
    let seen = hops[0].reply.json();
    assert_eq!(seen["upstream"], "wiki-behind-nginx");
    assert_eq!(
        seen["headers"]["x-forwarded-user"],
        serde_json::json!(["alice"])
    );

    // bob may not: nginx answers 403 from Pforte's verdict.
    let mut bob = Browser::new(gw.https, gw.root());
    bob.elsewhere.insert("wiki.gw.test".into(), nginx);
    bob.login(&format!("{LOGIN}/login"), "bob", "bobpw").await;
    let refused = bob.follow("https://wiki.gw.test/page").await;
    assert_eq!(refused[0].reply.status, 403);
}
