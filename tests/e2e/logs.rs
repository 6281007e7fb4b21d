//! Logs an operator can read: the real binary's standard error written to a file, as systemd,
//! a container runtime or `pforte demo > demo.log` write it. No terminal colour codes in a file;
//! JSON lines that carry the request id, the app and the subject by name, on the access line and
//! on what is logged while the request is handled; no password, cookie or ticket anywhere.

use pforte_e2e::browser::Browser;
use pforte_e2e::demo::{Demo, apps_on_free_ports};
use pforte_e2e::gateway::{Gateway, app_toml};
use pforte_e2e::upstream::Upstream;
use serde_json::Value;

/// alice's subject in the demo people file.
const ALICE: &str = "d3db2d2a-ab3e-4c29-aa09-ec8911d9b629";

/// What log lines must never hold: the password typed, the browser's cookies (session,
/// hand-over, CSRF) and hand-over tickets.
fn assert_nothing_secret(log: &str, browser: &Browser, password: &str, tickets: &[String]) {
    assert!(!log.contains(password), "the password in the log:\n{log}");
    for (host, jar) in &browser.cookies {
        for (name, value) in jar {
            assert!(
                value.len() < 8 || !log.contains(value.as_str()),
                "cookie {name} of {host} in the log:\n{log}"
            );
        }
    }
    for ticket in tickets {
        assert!(
            !log.contains(ticket.as_str()),
            "a ticket in the log:\n{log}"
        );
    }
}

/// The hand-over tickets a login's hops carried in their URLs.
fn tickets(hops: &[pforte_e2e::browser::Hop]) -> Vec<String> {
    hops.iter()
        .filter_map(|hop| hop.url.split_once("ticket=").map(|(_, rest)| rest))
        .map(|rest| rest.split('&').next().unwrap_or(rest).to_string())
        .collect()
}

#[tokio::test]
async fn the_demo_writes_no_colour_codes_to_a_file() {
    let apps_dir = tempfile::tempdir().unwrap();
    let apps = apps_on_free_ports(apps_dir.path());
    let demo = Demo::start(&["--apps".as_ref(), apps.as_os_str()]).await;
    let base = |host: &str| format!("https://{host}.localhost:{}", demo.https.port());
    let mut browser = Browser::new(demo.https, demo.certificate());
    let hops = browser
        .login(&format!("{}/", base("mail")), "alice", "alicepw")
        .await;
    assert_eq!(hops[0].reply.status, 200, "{}", hops[0].reply.text());
    let output = demo.output();
    assert!(
        !output.contains('\x1b'),
        "terminal escape codes in a file:\n{output}"
    );
    // The log lines, not the banner (which prints the demo's passwords on purpose).
    let log: String = output
        .lines()
        .filter(|line| line.contains("pforte::"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        log.contains("pforte::access") && log.contains("app=mail"),
        "the access line of the app request:\n{log}"
    );
    assert!(
        log.contains(&format!("subject={ALICE}")),
        "the subject on the access line:\n{log}"
    );
    assert_nothing_secret(&log, &browser, "alicepw", &tickets(&hops));
}

#[tokio::test]
async fn json_lines_carry_request_id_app_and_subject() {
    let mail = Upstream::start("mail").await;
    // An app whose upstream is down: the gateway's warning about it is logged inside the request.
    let gone = format!("http://127.0.0.1:{}", pforte_e2e::free_port());
    let gw = Gateway::builder()
        .apps(
            app_toml("mail", "mail.gw.test", "/", &[mail.url()], "")
                + &app_toml("files", "files.gw.test", "/", &[gone], ""),
        )
        .policy("[[rule]]\napps = [\"mail\", \"files\"]\nallow = [\"group:staff\"]\n")
        .demo_people()
        .start()
        .await;
    let mut b = Browser::new(gw.https, gw.root());
    let hops = b
        .login("https://mail.gw.test/inbox", "alice", "alicepw")
        .await;
    assert_eq!(hops[0].reply.status, 200, "{}", hops[0].reply.text());
    let inbox_id = hops[0].reply.header("x-request-id").unwrap().to_string();
    let down = b.follow("https://files.gw.test/report").await;
    assert_eq!(down[0].reply.status, 502, "{}", down[0].reply.text());
    let down_id = down[0].reply.header("x-request-id").unwrap().to_string();

    let log = gw.log();
    assert!(!log.contains('\x1b'), "terminal escape codes:\n{log}");
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let access = |id: &str| {
        lines
            .iter()
            .find(|l| l["target"] == "pforte::access" && l["request_id"] == id)
            .unwrap_or_else(|| panic!("no access line for {id}:\n{log}"))
    };
    let inbox = access(&inbox_id);
    assert_eq!(inbox["app"], "mail");
    assert_eq!(inbox["subject"], ALICE);
    assert_eq!(inbox["path"], "/inbox");
    // The form post that logged alice in names her too, on the login host.
    let login = lines
        .iter()
        .find(|l| l["target"] == "pforte::access" && l["method"] == "POST")
        .unwrap_or_else(|| panic!("no access line for the login:\n{log}"));
    assert_eq!(login["app"], "portal");
    assert_eq!(login["subject"], ALICE);
    // Before the login nobody is named.
    let first = lines
        .iter()
        .find(|l| l["target"] == "pforte::access")
        .unwrap();
    assert!(first.get("subject").is_none(), "{first}");

    // A warning logged while the request was handled, by a module that names none of these
    // itself: the request's fields come from its span, by name, at the top level.
    let warning = lines
        .iter()
        .find(|l| l["message"] == "upstream error")
        .unwrap_or_else(|| panic!("no upstream warning:\n{log}"));
    assert_eq!(warning["level"], "WARN");
    assert_eq!(warning["request_id"], down_id.as_str());
    assert_eq!(warning["app"], "files");
    assert_eq!(warning["subject"], ALICE);
    assert_eq!(warning["decision"], "allow");
    assert_eq!(access(&down_id)["subject"], ALICE);

    let mut all_tickets = tickets(&hops);
    all_tickets.extend(tickets(&down));
    assert_nothing_secret(&log, &b, "alicepw", &all_tickets);
}

/// The gateway's first log line as a terminal shows it: `pforte run` with text logs under
/// `script`, which gives it a pseudo-terminal and copies what it shows; `no_color` is the
/// `NO_COLOR` variable's value, if set.
async fn on_a_terminal(no_color: Option<&str>) -> String {
    let gw = Gateway::builder();
    let ca = pforte_e2e::pki::TestCa::new();
    let folder = gw.write_folder(&ca);
    let config = std::fs::read_to_string(&folder.config_path)
        .unwrap()
        .replace("format = \"json\"", "format = \"text\"");
    std::fs::write(&folder.config_path, config).unwrap();
    let shown = folder.dir.path().join("terminal.out");
    let command = format!(
        "exec {} run --config {}",
        pforte_e2e::gateway::pforte_bin().display(),
        folder.config_path.display()
    );
    let mut script = std::process::Command::new("script");
    script
        .args([
            "--quiet",
            "--flush",
            "--return",
            "--command",
            &command,
            "/dev/null",
        ])
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&shown).unwrap())
        .stderr(std::process::Stdio::null());
    if let Some(value) = no_color {
        script.env("NO_COLOR", value);
    }
    let mut script = script.spawn().unwrap();
    let read = || std::fs::read_to_string(&shown).unwrap_or_default();
    let serving = pforte_e2e::eventually(std::time::Duration::from_secs(20), async || {
        read().contains("pforte is serving")
    })
    .await;
    // The gateway is `script`'s one child: stop it, and `script` ends with it.
    let children = format!("/proc/{0}/task/{0}/children", script.id());
    let gateway = std::fs::read_to_string(children).unwrap_or_default();
    for pid in gateway.split_whitespace() {
        let _ = std::process::Command::new("kill").arg(pid).status();
    }
    let _ = script.wait();
    assert!(serving, "the gateway did not start:\n{}", read());
    read()
}

#[tokio::test]
async fn colour_on_a_terminal_unless_no_color() {
    let coloured = on_a_terminal(None).await;
    assert!(
        coloured.contains('\x1b'),
        "no colour on a terminal:\n{coloured}"
    );
    let plain = on_a_terminal(Some("1")).await;
    assert!(
        !plain.contains('\x1b'),
        "colour on a terminal with NO_COLOR=1:\n{plain}"
    );
}
