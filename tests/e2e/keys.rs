//! Signed identity assertions and the keys behind them: an app that asks for one receives a JWT
//! about the person, signed by the active key and verifiable against the published JWKS; a
//! rotation with `pforte-admin keys --dir` is picked up by the running gateway, new assertions
//! carry the new key, and those signed before still verify.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use pforte_e2e::browser::Browser;
use pforte_e2e::gateway::{Gateway, app_toml, pforte_admin_bin};
use pforte_e2e::upstream::Upstream;
use pforte_keys::{KeyDir, VerifyOptions};

const POLICY: &str = "[[rule]]\napps = [\"docs\"]\nallow = [\"group:staff\"]\n";
const DOCS: &str = "https://docs.gw.test";

#[derive(serde::Deserialize, Debug)]
struct Assertion {
    sub: String,
    aud: String,
    preferred_username: String,
    groups: Vec<String>,
    exp: u64,
    iat: u64,
}

/// Runs `pforte-admin keys ARGS --dir DIR --yes`, with no config, as a deployment script that
/// only has the shared key folder would.
fn keys(args: &[&str], dir: &Path) -> String {
    let out = Command::new(pforte_admin_bin())
        .arg("keys")
        .args(args)
        .arg("--dir")
        .arg(dir)
        .arg("--yes")
        .env_remove("PFORTE_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "pforte-admin keys {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn kid_of(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    value["kid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn apps_get_signed_assertions_that_survive_a_key_rotation() {
    let docs = Upstream::start("docs").await;
    let apps = app_toml(
        "docs",
        "docs.gw.test",
        "/",
        &[docs.url()],
        "identity_headers = { assertion = \"X-Pforte-Assertion\" }",
    );
    let gw = Gateway::builder()
        .apps(apps)
        .policy(POLICY)
        .demo_people()
        .keys()
        .start()
        .await;
    let key_dir = gw.path("keys");
    let mode = std::fs::metadata(&key_dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "the key folder is its owner's only");
    let listed = keys(&["list"], &key_dir);
    assert!(listed.contains("active"), "{listed}");

    let mut b = Browser::new(gw.https, gw.root());
    let hops = b.login(&format!("{DOCS}/"), "alice", "alicepw").await;
    let seen = hops[0].reply.json();
    let first = seen["headers"]["x-pforte-assertion"][0]
        .as_str()
        .unwrap()
        .to_string();

    let options =
        VerifyOptions::new("https://login.gw.test", vec!["docs".to_string()]).with_typ("JWT");
    let keyset = KeyDir::new(&key_dir).load(now()).unwrap();
    let claims: Assertion = keyset.verify(&first, &options, now()).unwrap();
    assert_eq!(claims.sub, "d3db2d2a-ab3e-4c29-aa09-ec8911d9b629");
    assert_eq!(claims.aud, "docs");
    assert_eq!(claims.preferred_username, "alice");
    assert_eq!(claims.groups, ["admins", "staff"]);
    assert!(
        claims.exp > claims.iat && claims.exp - claims.iat <= 300,
        "short-lived"
    );
    let wrong_audience = VerifyOptions::new("https://login.gw.test", vec!["mail".to_string()]);
    assert!(
        keyset
            .verify::<Assertion>(&first, &wrong_audience, now())
            .is_err()
    );

    // Reused, not signed again, on the next request.
    let again = b.get(&format!("{DOCS}/page")).await.json();
    assert_eq!(again["headers"]["x-pforte-assertion"][0], first.as_str());

    // The JWKS on the login host publishes the key.
    let jwks = b
        .get("https://login.gw.test/.well-known/jwks.json")
        .await
        .json();
    let old_kid = kid_of(&first);
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == old_kid.as_str())
    );

    // Rotate: generate the next key, then let it sign. The gateway sees the files change.
    keys(&["generate"], &key_dir);
    keys(&["rotate"], &key_dir);
    let rotated = pforte_e2e::eventually(Duration::from_secs(10), async || {
        let jwks = b
            .get("https://login.gw.test/.well-known/jwks.json")
            .await
            .json();
        jwks["keys"].as_array().unwrap().len() >= 3
    })
    .await;
    assert!(
        rotated,
        "the gateway did not reload the keys:\n{}",
        gw.log()
    );
    // A new session gets an assertion from the new key; the old assertion still verifies.
    let mut carol = Browser::new(gw.https, gw.root());
    let hops = carol.login(&format!("{DOCS}/"), "carol", "carolpw").await;
    let fresh = hops[0].reply.json()["headers"]["x-pforte-assertion"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(kid_of(&fresh), old_kid);
    let keyset = KeyDir::new(&key_dir).load(now()).unwrap();
    assert!(keyset.verify::<Assertion>(&fresh, &options, now()).is_ok());
    assert!(
        keyset.verify::<Assertion>(&first, &options, now()).is_ok(),
        "retired keys still verify"
    );
}

#[tokio::test]
async fn a_client_cannot_send_its_own_assertion() {
    let docs = Upstream::start("docs").await;
    let apps = app_toml(
        "docs",
        "docs.gw.test",
        "/",
        &[docs.url()],
        "identity_headers = { assertion = \"X-Pforte-Assertion\" }",
    );
    let policy = "[[rule]]\napps = [\"docs\"]\npaths = [\"/\"]\nallow = [\"everyone\"]\n";
    let gw = Gateway::builder()
        .apps(apps)
        .policy(policy)
        .keys()
        .start()
        .await;
    let mut h1 = gw.h1("docs.gw.test").await;
    let req = h1
        .request("GET", "/")
        .header("x-pforte-assertion", "eyJhbGciOiJub25lIn0.e30.")
        .body(Default::default())
        .unwrap();
    let seen = h1.send(req).await.json();
    assert!(
        seen["headers"].get("x-pforte-assertion").is_none(),
        "{seen}"
    );
}
