//! Caddy in front of a site of its own, asking Pforte with `forward_auth`: Debian's real `caddy`
//! runs the Caddyfile of docs/deployment.md, read from that file, with only the names and
//! addresses replaced by the test's. Caddy starts on free loopback ports from a temporary folder
//! with its own home and data folders, no admin API and no certificate automation, so it never
//! touches the machine's state; it is stopped when the test ends.

use std::net::SocketAddr;
use std::time::Duration;

use pforte_e2e::browser::Browser;
use pforte_e2e::gateway::{Gateway, app_toml};
use pforte_e2e::upstream::Upstream;

/// The deployment guide, whose Caddyfile this test runs.
const DEPLOYMENT: &str = include_str!("../../docs/deployment.md");

const POLICY: &str = r#"[[rule]]
apps = ["wiki"]
allow = ["group:staff"]

[[rule]]
apps = ["wiki"]
paths = ["/public/"]
allow = ["everyone"]

[[rule]]
apps = ["wiki"]
paths = ["/office/"]
allow = ["everyone"]
from = ["10.0.0.0/8"]
"#;

/// The identity headers a client sends of its own, hoping the site believes them.
const FORGED: [(&str, &str); 4] = [
    ("x-forwarded-user", "admin"),
    ("x-forwarded-groups", "admins"),
    ("x-forwarded-email", "admin@example.org"),
    ("x-forwarded-name", "Administrator"),
];

/// The one Caddyfile block of docs/deployment.md.
fn documented_caddyfile() -> &'static str {
    let start = DEPLOYMENT
        .find("```caddyfile\n")
        .expect("docs/deployment.md has a caddyfile block")
        + "```caddyfile\n".len();
    let len = DEPLOYMENT[start..].find("```").unwrap();
    &DEPLOYMENT[start..start + len]
}

/// Caddy, stopped (SIGTERM, then waited for) when dropped, together with its folder.
struct Caddy {
    child: std::process::Child,
    dir: tempfile::TempDir,
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Caddy {
    /// What Caddy logged, for failure messages.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("caddy.log")).unwrap_or_default()
    }
}

/// Starts Caddy with `site_block` (the documented Caddyfile) for `wiki.gw.test`, the gateway as
/// `pforte.internal` (trusted through the test CA) and `site` as the wiki's backend.
async fn caddy_in_front(gw: &Gateway, site: &Upstream, site_block: &str) -> (Caddy, SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let leaf = gw.ca.leaf(d, "wiki", &["wiki.gw.test"]);
    gw.ca.write_pem(&d.join("ca.pem"));
    let port = pforte_e2e::free_port();
    let http_port = pforte_e2e::free_port();
    let site_block = substitute(
        site_block,
        &[
            (
                "wiki.example.org {",
                &format!(
                    "https://wiki.gw.test:{port} {{\n\tbind 127.0.0.1\n\ttls {} {}",
                    leaf.cert.display(),
                    leaf.key.display()
                ),
            ),
            ("pforte.internal", &gw.https.to_string()),
            ("login.example.org", "login.gw.test"),
            ("http://wiki-backend:8080", &site.url()),
        ],
    );
    // No admin API, no certificate automation, no port 80, no HTTP/3 (UDP on every address),
    // nothing saved outside the folder.
    let global = format!(
        "{{\n\tadmin off\n\tauto_https disable_redirects\n\
         \tskip_install_trust\n\thttp_port {http_port}\n\thttps_port {port}\n\
         \tservers {{\n\t\tprotocols h1 h2\n\t}}\n\
         \tstorage file_system {}\n}}\n\n",
        d.join("data").display()
    );
    std::fs::write(d.join("Caddyfile"), global + &site_block).unwrap();
    let log = std::fs::File::create(d.join("caddy.log")).unwrap();
    let child = std::process::Command::new("/usr/bin/caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(d.join("Caddyfile"))
        .env("HOME", d)
        .env("XDG_DATA_HOME", d.join("data"))
        .env("XDG_CONFIG_HOME", d.join("config"))
        // Go reads its trusted roots from here: the gateway's certificate is the test CA's.
        .env("SSL_CERT_FILE", d.join("ca.pem"))
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("caddy (run ./tests/run, which installs it)");
    let mut caddy = Caddy { child, dir };
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let child = &mut caddy.child;
    assert!(
        pforte_e2e::eventually(Duration::from_secs(10), async || {
            matches!(child.try_wait(), Ok(Some(_)))
                || tokio::net::TcpStream::connect(addr).await.is_ok()
        })
        .await
            && matches!(caddy.child.try_wait(), Ok(None)),
        "caddy did not start:\n{}",
        caddy.log()
    );
    (caddy, addr)
}

/// `text` with each `(from, to)` replaced; every `from` must be there, so that a changed guide
/// cannot quietly leave a production name in the test's Caddyfile.
fn substitute(text: &str, pairs: &[(&str, &str)]) -> String {
    pairs.iter().fold(text.to_string(), |text, (from, to)| {
        assert!(
            text.contains(from),
            "{from:?} not in the documented Caddyfile"
        );
        text.replace(from, to)
    })
}

/// Sends the client's own identity headers on every request of `browser`.
fn forged(browser: &mut Browser) {
    browser.extra_headers.extend(
        FORGED
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string())),
    );
}

/// A gateway with the wiki (upstream `site`, which it never proxies to here) and Caddy's
/// loopback address as a trusted proxy.
async fn gateway(site: &Upstream) -> Gateway {
    Gateway::builder()
        .apps(app_toml("wiki", "wiki.gw.test", "/", &[site.url()], ""))
        .policy(POLICY)
        .demo_people()
        .trusted_proxies(&["127.0.0.1/32"])
        .start()
        .await
}

/// What the site received: the echo of its request.
fn seen_header(reply: &pforte_e2e::client::Reply, name: &str) -> serde_json::Value {
    reply.json()["headers"][name].clone()
}

/// Each identity header the site received is Pforte's value: `expected`, or, for someone not
/// logged in, nothing (absent or empty), never the client's own copy nor Caddy's placeholder.
fn assert_identity(reply: &pforte_e2e::client::Reply, expected: Option<[&str; 4]>) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    for (i, (name, _)) in FORGED.iter().enumerate() {
        let seen = seen_header(reply, name);
        match expected {
            Some(values) => assert_eq!(seen, serde_json::json!([values[i]]), "{name}"),
            None => assert!(
                seen.is_null() || seen == serde_json::json!([""]),
                "{name} for someone not logged in: {seen}"
            ),
        }
    }
}

#[tokio::test]
async fn caddy_forward_auth_guards_a_site_with_pforte_logins() {
    let site = Upstream::start("wiki-behind-caddy").await;
    let gw = gateway(&site).await;
    let (caddy, addr) = caddy_in_front(&gw, &site, documented_caddyfile()).await;
    let wiki = |path: &str| format!("https://wiki.gw.test{path}");
    let mut b = Browser::new(gw.https, gw.root());
    b.elsewhere.insert("wiki.gw.test".into(), addr);
    forged(&mut b);

    // Not logged in: Caddy sends the browser through the site's /.pforte/login (which binds the
    // hand-over to this browser). Pforte answered the forward-auth call itself: with the site's
    // Host it would have proxied the call to the site.
    let first = b.get(&wiki("/page")).await;
    assert_eq!(first.status, 302, "{}\n{}", first.text(), caddy.log());
    assert_eq!(
        first.header("location"),
        Some("https://wiki.gw.test/.pforte/login?return_to=%2Fpage")
    );
    // A client's own address header does not make it internal: Caddy reports the real one.
    b.extra_headers
        .push(("x-real-ip".to_string(), "10.1.2.3".to_string()));
    let office = b.get(&wiki("/office/plan")).await;
    assert_eq!(office.status, 302, "{}", office.text());
    b.extra_headers.pop();
    assert_eq!(site.count(), 0, "the site saw nothing yet");

    // A public path, not logged in: the site gets no identity, not the client's.
    let public = b.get(&wiki("/public/notes")).await;
    assert_identity(&public, None);

    // alice logs in through the site and arrives with Pforte's identity, not the client's.
    let hops = b.login(&wiki("/page"), "alice", "alicepw").await;
    assert_eq!(hops[0].url, wiki("/page"));
    assert_identity(
        &hops[0].reply,
        Some([
            "alice",
            "admins,staff",
            "alice@example.org",
            "Alice Liddell",
        ]),
    );
    assert_eq!(site.count(), 2, "only the two requests let through");

    // bob, a partner, may not: Caddy answers Pforte's 403, also when the client names another
    // URL for Pforte to judge.
    let mut bob = Browser::new(gw.https, gw.root());
    bob.elsewhere.insert("wiki.gw.test".into(), addr);
    bob.login("https://login.gw.test/login", "bob", "bobpw")
        .await;
    let refused = bob.follow(&wiki("/page")).await;
    assert_eq!(refused[0].url, wiki("/page"));
    assert_eq!(refused[0].reply.status, 403, "{}", refused[0].reply.text());
    assert!(refused[0].reply.text().contains("Access denied"));
    bob.extra_headers.extend([
        ("x-original-url".to_string(), wiki("/public/notes")),
        ("x-forwarded-uri".to_string(), "/public/notes".to_string()),
    ]);
    let disguised = bob.get(&wiki("/page")).await;
    assert_eq!(disguised.status, 403, "{}", disguised.text());
    assert_eq!(site.count(), 2, "nothing of bob's reached the site");
}
