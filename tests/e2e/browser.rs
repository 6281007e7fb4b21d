//! The login flow, the second-factor pages and passkeys in a real browser: `pforte demo` on free
//! ports, driven by headless Chromium through `tests/browser/login.mjs`, `mfa.mjs` and
//! `passkey.mjs` (playwright-core; passkeys with the DevTools protocol's virtual
//! authenticator), with every page a person reads checked by axe-core. A script prints one line per step; they
//! are shown when the test fails, and with `--nocapture`. Screenshots land in
//! `<target>/tmp/browser-screenshots/` (`browser-screenshots-mfa/` for the second factor).

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
    let apps_dir = tempfile::tempdir().unwrap();
    let demo = demo_on_free_ports(apps_dir.path()).await;
    run_scenario(&demo, "login.mjs", "browser-screenshots", &[]).await;
}

/// Alice steps up with a TOTP code into the admin console; /mfa, /security/totp and /security
/// pass axe in both languages at both sizes and fit a phone (`tests/browser/mfa.mjs`).
#[tokio::test]
async fn second_factor_pages_in_a_real_browser_are_accessible() {
    let apps_dir = tempfile::tempdir().unwrap();
    let demo = demo_on_free_ports(apps_dir.path()).await;
    let secret = alice_totp_secret(&demo.output());
    run_scenario(
        &demo,
        "mfa.mjs",
        "browser-screenshots-mfa",
        &[("PFORTE_ALICE_TOTP_SECRET", &secret)],
    )
    .await;
}

/// carol adds a passkey on the security page, signs out, signs in with it alone (the virtual
/// authenticator of the DevTools protocol) and opens Mail; axe checks the security page with
/// the passkey listed. The admin console's step-up with a passkey is not driven here: its rule
/// admits only alice (group:admins), who already has an authenticator app, so adding a passkey
/// for her needs a TOTP step-up first; `e2e::passkey` covers the step-up with a passkey.
#[tokio::test]
async fn passkeys_in_a_real_browser_register_and_sign_in_alone() {
    let apps_dir = tempfile::tempdir().unwrap();
    let demo = demo_on_free_ports(apps_dir.path()).await;
    run_scenario(&demo, "passkey.mjs", "browser-screenshots-passkey", &[]).await;
}

/// The demo with its apps on free ports: the built-in ones would collide with `demo.rs`.
async fn demo_on_free_ports(apps_dir: &Path) -> Demo {
    let apps = apps_on_free_ports(apps_dir);
    Demo::start(&["--apps".as_ref(), apps.as_os_str()]).await
}

/// Alice's TOTP key as the demo prints it for `oathtool --totp -b KEY`.
fn alice_totp_secret(output: &str) -> String {
    output
        .split("oathtool --totp -b ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_alphanumeric()).next())
        .filter(|key| !key.is_empty())
        .unwrap_or_else(|| panic!("the demo printed no `oathtool --totp -b KEY`:\n{output}"))
        .to_string()
}

/// Runs `tests/browser/<script>` against the demo with `env` added; fails the test with the
/// script's step lines, the screenshots' folder and the demo's output when a step fails.
async fn run_scenario(demo: &Demo, script: &str, screenshots: &str, env: &[(&str, &str)]) {
    let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    let chromium = prerequisites(&browser_dir);
    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join(screenshots);
    let _ = std::fs::remove_dir_all(&screenshots);

    let mut command = tokio::process::Command::new("node");
    command
        .arg(browser_dir.join(script))
        .current_dir(&browser_dir)
        .env("PFORTE_DEMO_PORT", demo.https.port().to_string())
        .env("PFORTE_CHROMIUM", &chromium)
        .env("PFORTE_BROWSER_SCREENSHOTS", &screenshots)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    // The script bounds itself at 3 minutes; this only guards against a node that never exits.
    let Output {
        status,
        stdout,
        stderr,
    } = tokio::time::timeout(Duration::from_secs(240), command.output())
        .await
        .unwrap_or_else(|_| panic!("node tests/browser/{script} did not exit within 4 minutes"))
        .unwrap_or_else(|error| panic!("cannot run node ({error}): {SETUP}"));
    let stdout = String::from_utf8_lossy(&stdout);
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(
        status.success(),
        "the browser scenario {script} failed ({status}):\n{stdout}{stderr}\nscreenshots: {}\n\
         the demo's output:\n{}",
        screenshots.display(),
        demo.output()
    );
    println!("{stdout}{stderr}");
}
