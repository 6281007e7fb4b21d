//! The login flow in a real browser: `pforte demo` on free ports, driven by headless Chromium
//! through `tests/browser/login.mjs` (playwright-core), with every page a person reads checked by
//! axe-core. The script prints one line per step; they are shown when the test fails, and with
//! `--nocapture`. Screenshots land in `<target>/tmp/browser-screenshots/`.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use pforte_e2e::demo::{Demo, apps_on_free_ports};

const SETUP: &str =
    "run ./tests/run (it installs Debian's chromium and runs npm ci --prefix tests/browser)";

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

#[tokio::test]
async fn login_flow_in_a_real_browser_is_accessible() {
    let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    let chromium = prerequisites(&browser_dir);
    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots");
    let _ = std::fs::remove_dir_all(&screenshots);

    // The demo's apps on free ports: the built-in ones would collide with `demo.rs`.
    let apps_dir = tempfile::tempdir().unwrap();
    let apps = apps_on_free_ports(apps_dir.path());
    let demo = Demo::start(&["--apps".as_ref(), apps.as_os_str()]).await;

    let script = tokio::process::Command::new("node")
        .arg(browser_dir.join("login.mjs"))
        .current_dir(&browser_dir)
        .env("PFORTE_DEMO_PORT", demo.https.port().to_string())
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
        demo.output()
    );
    println!("{stdout}{stderr}");
}
