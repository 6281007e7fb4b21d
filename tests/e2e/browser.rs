//! The login flow in a real browser: `pforte demo` on free ports, driven by headless Chromium
//! through `tests/browser/login.mjs` (playwright-core), with every page a person reads checked by
//! axe-core. The script prints one line per step; they are shown when the test fails, and with
//! `--nocapture`. Screenshots land in `<target>/tmp/browser-screenshots/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use pforte_e2e::client::plain;
use pforte_e2e::eventually;
use pforte_e2e::gateway::pforte_bin;

const SETUP: &str =
    "run ./tests/run (it installs Debian's chromium and runs npm ci --prefix tests/browser)";

struct Demo(std::process::Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The browser, `node` and the npm packages the script needs; panics with the way to get them.
fn prerequisites(browser_dir: &Path) -> PathBuf {
    let chromium = std::env::var_os("PFORTE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        chromium.is_file(),
        "no browser at {}: {SETUP}",
        chromium.display()
    );
    for module in ["playwright-core/package.json", "axe-core/axe.min.js"] {
        let path = browser_dir.join("node_modules").join(module);
        assert!(path.is_file(), "{} is missing: {SETUP}", path.display());
    }
    chromium
}

/// The demo's apps file with every upstream moved to a free port: the built-in file's fixed
/// ports (9101, ...) would collide with another demo, such as the one in `demo.rs` running in
/// parallel. The demo starts its apps on whatever upstreams the file names.
fn apps_on_free_ports(dir: &Path) -> PathBuf {
    let demo_apps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/apps.toml");
    let text = std::fs::read_to_string(&demo_apps).unwrap();
    let mut moved = 0;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            if line.starts_with("upstreams = [\"http://127.0.0.1:") {
                moved += 1;
                format!(
                    "upstreams = [\"http://127.0.0.1:{}\"]",
                    pforte_e2e::free_port()
                )
            } else {
                line.to_string()
            }
        })
        .collect();
    assert!(
        moved > 0,
        "no loopback upstream found in {}",
        demo_apps.display()
    );
    let path = dir.join("apps-free-ports.toml");
    std::fs::write(&path, lines.join("\n")).unwrap();
    path
}

#[tokio::test]
async fn login_flow_in_a_real_browser_is_accessible() {
    let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    let chromium = prerequisites(&browser_dir);
    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots");
    let _ = std::fs::remove_dir_all(&screenshots);

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
        .arg("--apps")
        .arg(apps_on_free_ports(state.path()))
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
    let demo_output = || std::fs::read_to_string(state.path().join("demo.out")).unwrap_or_default();
    let ready = eventually(Duration::from_secs(20), async || {
        tokio::net::TcpStream::connect(admin).await.is_ok()
            && plain(admin, "GET", "/readyz", &[]).await.status == 200
    })
    .await;
    assert!(ready, "the demo did not come up:\n{}", demo_output());

    let script = tokio::process::Command::new("node")
        .arg(browser_dir.join("login.mjs"))
        .current_dir(&browser_dir)
        .env("PFORTE_DEMO_PORT", https.port().to_string())
        .env("PFORTE_CHROMIUM", &chromium)
        .env("PFORTE_BROWSER_SCREENSHOTS", &screenshots)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    // The script bounds itself at 3 minutes; this only guards against a node that never exits.
    let Output {
        status,
        stdout,
        stderr,
    } = tokio::time::timeout(Duration::from_secs(240), script)
        .await
        .expect("node tests/browser/login.mjs did not exit within 4 minutes")
        .unwrap_or_else(|error| panic!("cannot run node ({error}): {SETUP}"));
    let stdout = String::from_utf8_lossy(&stdout);
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(
        status.success(),
        "the browser scenario failed ({status}):\n{stdout}{stderr}\nscreenshots: {}\n\
         the demo's output:\n{}",
        screenshots.display(),
        demo_output()
    );
    println!("{stdout}{stderr}");
}
