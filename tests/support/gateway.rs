//! Starts the real `pforte` binary with a generated `gateway.toml` in a temporary folder, waits
//! until its admin listener says ready, and stops it when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::client::{self, H1, H2, Reply};
use crate::pki::{LeafFiles, TestCa};

/// The binary under test: `$PFORTE_BIN`, else the workspace's debug build.
pub fn pforte_bin() -> PathBuf {
    binary("PFORTE_BIN", "pforte")
}

/// The admin tool under test: `$PFORTE_ADMIN_BIN`, else the workspace's debug build.
pub fn pforte_admin_bin() -> PathBuf {
    binary("PFORTE_ADMIN_BIN", "pforte-admin")
}

fn binary(variable: &str, name: &str) -> PathBuf {
    if let Some(bin) = std::env::var_os(variable) {
        return PathBuf::from(bin);
    }
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../target/debug/{name}"));
    assert!(
        bin.is_file(),
        "{} not found: run `cargo build --bin {name}` or ./tests/run",
        bin.display()
    );
    bin
}

/// `[limits]` content for a load from one address (the scenarios' virtual users, all on
/// 127.0.0.1): the per-address rate limits off, so that only what a test exercises refuses.
pub const UNLIMITED_RATES: &str = "[limits.rate.login]\nper_minute = 0\n\
    [limits.rate.second_factor]\nper_minute = 0\n\
    [limits.rate.token]\nper_minute = 0\n\
    [limits.rate.introspect]\nper_minute = 0\n";

pub struct GatewayBuilder {
    apps: String,
    policy: String,
    limits: String,
    trusted_proxies: Vec<String>,
    certificates: Vec<(String, Vec<String>)>,
    http_redirect: bool,
    admin_token: Option<String>,
    audit_log: bool,
    audit: Option<String>,
    directory: Option<String>,
    sessions: Option<String>,
    portal: String,
    keys: bool,
    shared_keys: Option<PathBuf>,
    oidc: Option<String>,
    federation: Option<String>,
    mfa: Option<String>,
    extra_files: Vec<(String, String)>,
    tls: String,
}

pub struct Gateway {
    pub dir: TempDir,
    pub ca: TestCa,
    pub https: SocketAddr,
    pub http: Option<SocketAddr>,
    pub admin: SocketAddr,
    pub config_path: PathBuf,
    pub log_path: PathBuf,
    pub certs: Vec<LeafFiles>,
    child: Child,
    stopped_on_purpose: std::sync::atomic::AtomicBool,
}

impl Default for GatewayBuilder {
    fn default() -> Self {
        Self {
            apps: String::new(),
            policy: OPEN_POLICY.into(),
            limits: "header_read_timeout = \"3s\"\nshutdown_grace = \"10s\"\n".into(),
            trusted_proxies: Vec::new(),
            certificates: vec![("default".into(), vec!["*.gw.test".into()])],
            http_redirect: false,
            admin_token: None,
            audit_log: false,
            audit: None,
            directory: None,
            sessions: None,
            portal: String::new(),
            keys: false,
            shared_keys: None,
            oidc: None,
            federation: None,
            mfa: None,
            extra_files: Vec::new(),
            tls: String::new(),
        }
    }
}

impl GatewayBuilder {
    /// The apps file's content.
    pub fn apps(mut self, toml: impl Into<String>) -> Self {
        self.apps = toml.into();
        self
    }

    /// The policy file's content (`policy.toml`); the default lets everyone use every app.
    pub fn policy(mut self, toml: impl Into<String>) -> Self {
        self.policy = toml.into();
        self
    }

    /// Adds `[[app]]` named `name` on `host` (path prefix `/`) proxying to `upstreams`.
    pub fn app(mut self, name: &str, host: &str, upstreams: &[String]) -> Self {
        self.apps
            .push_str(&app_toml(name, host, "/", upstreams, ""));
        self
    }

    /// The `[limits]` table's content.
    pub fn limits(mut self, toml: impl Into<String>) -> Self {
        self.limits = toml.into();
        self
    }

    pub fn trusted_proxies(mut self, nets: &[&str]) -> Self {
        self.trusted_proxies = nets.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Certificates as (file stem, names); replaces the default `*.gw.test` one.
    pub fn certificates(mut self, certs: &[(&str, &[&str])]) -> Self {
        self.certificates = certs
            .iter()
            .map(|(s, n)| (s.to_string(), n.iter().map(|x| x.to_string()).collect()))
            .collect();
        self
    }

    /// Keys of `[tls]` besides the certificates (`profile = "modern"`, `hsts.max_age = 60`).
    pub fn tls(mut self, toml: &str) -> Self {
        self.tls = toml.into();
        self
    }

    pub fn http_redirect(mut self) -> Self {
        self.http_redirect = true;
        self
    }

    pub fn admin_token(mut self, token: &str) -> Self {
        self.admin_token = Some(token.into());
        self
    }

    /// Audit events go to `audit.jsonl` in the gateway's folder (read with [`Gateway::audit`]).
    pub fn audit_log(mut self) -> Self {
        self.audit_log = true;
        self
    }

    /// An `[audit]` table with these keys (`replica = "gw-a"`, `checkpoint_interval = ...`);
    /// implies [`Self::audit_log`].
    pub fn audit(mut self, toml: &str) -> Self {
        self.audit_log = true;
        self.audit = Some(format!("[audit]\n{toml}\n"));
        self
    }

    /// A key directory `keys/` with one ES256 key, made by `pforte-admin keys generate`.
    pub fn keys(mut self) -> Self {
        self.keys = true;
        self
    }

    /// The key directory at `dir` (another replica's `keys/`) instead of one of its own, so
    /// replicas sign and verify with the same keys, as in production.
    pub fn shared_keys(mut self, dir: &Path) -> Self {
        self.keys = true;
        self.shared_keys = Some(dir.to_path_buf());
        self
    }

    /// The OpenID Connect provider with this `clients.toml` (implies `keys`); back-channel
    /// logout calls trust the test CA.
    pub fn oidc(mut self, clients_toml: &str) -> Self {
        self.keys = true;
        self.oidc = Some(clients_toml.to_string());
        self
    }

    /// Logins at upstream OpenID providers: `idps.toml` with this content, and the test CA
    /// trusted for the providers' HTTPS (their servers present its leaves). Secret files the
    /// providers name are added with [`Self::file`].
    pub fn federation(mut self, idps_toml: &str) -> Self {
        self.federation = Some(idps_toml.to_string());
        self
    }

    /// Second factors, sealed with `key` (64 hex digits; replicas of one test share it), plus
    /// further `[mfa]` keys.
    pub fn mfa(mut self, key: &str, extra: &str) -> Self {
        self.extra_files
            .push(("mfa.key".into(), format!("{key}\n")));
        self.mfa = Some(format!("[mfa]\nkey = {{ file = \"mfa.key\" }}\n{extra}\n"));
        self
    }

    /// Further `[portal]` keys.
    pub fn portal(mut self, toml: &str) -> Self {
        self.portal = toml.to_string();
        self
    }

    /// People from the demo's people file (alice, bob, carol, dave (disabled), erin).
    pub fn demo_people(mut self) -> Self {
        self.extra_files
            .push(("people.toml".into(), DEMO_PEOPLE.into()));
        self.directory = Some("[directory]\nbackend = \"file\"\nfile = \"people.toml\"\n".into());
        self
    }

    /// The test slapd (or the LDAP servers at `urls`, in order) with the demo directory.
    pub fn ldap(mut self, urls: &[String]) -> Self {
        let base = crate::env("PFORTE_TEST_LDAP_BASE_DN");
        self.directory = Some(format!(
            "[directory]\nbackend = \"ldap\"\n[directory.ldap]\nurls = {urls:?}\nbind_dn = {bind:?}\n\
             bind_password = {{ file = {pw:?} }}\nbase_dn = {base:?}\nuser_base = \"ou=people,{base}\"\n\
             group_base = \"ou=groups,{base}\"\ndisabled_filter = \"(employeeType=disabled)\"\n\
             retry_interval = \"2s\"\nconnect_timeout = \"1s\"\noperation_timeout = \"2s\"\n",
            bind = crate::env("PFORTE_TEST_LDAP_BIND_DN"),
            pw = crate::env("PFORTE_TEST_LDAP_BIND_PW_FILE"),
        ));
        self
    }

    /// A `[directory]` section of the test's own (another LDAP server, other settings).
    pub fn directory(mut self, toml: impl Into<String>) -> Self {
        self.directory = Some(toml.into());
        self
    }

    /// Sessions in the test Redis under a key prefix of their own (so tests do not meet), plus
    /// further `[sessions]` keys.
    pub fn redis(mut self, prefix: &str, extra: &str) -> Self {
        self.sessions = Some(format!(
            "[sessions]\nstore = \"redis\"\n{extra}\n[sessions.redis]\nurl = {url:?}\nkey_prefix = {prefix:?}\n",
            url = crate::env("PFORTE_TEST_REDIS_URL"),
        ));
        self
    }

    /// `[sessions]` keys for the memory store (timeouts, `[sessions.throttle]`).
    pub fn sessions(mut self, toml: &str) -> Self {
        self.sessions = Some(format!("[sessions]\n{toml}\n"));
        self
    }

    /// A further file in the gateway's folder (CA files for upstreams, ...).
    pub fn file(mut self, name: &str, content: impl Into<String>) -> Self {
        self.extra_files.push((name.into(), content.into()));
        self
    }

    pub async fn start(self) -> Gateway {
        self.start_with_ca(TestCa::new()).await
    }

    pub async fn start_with_ca(self, ca: TestCa) -> Gateway {
        let folder = self.write_folder(&ca);
        let log_path = folder.dir.path().join("pforte.log");
        let child = spawn(&folder.config_path, folder.dir.path(), &log_path);
        let mut gateway = Gateway {
            dir: folder.dir,
            ca,
            https: folder.https,
            http: folder.http,
            admin: folder.admin,
            config_path: folder.config_path,
            log_path,
            certs: folder.certs,
            child,
            stopped_on_purpose: Default::default(),
        };
        gateway.wait_ready().await;
        gateway
    }

    /// Writes the gateway's folder (config, apps, policy, certificates signed by `ca`, keys,
    /// clients) without starting anything: for the binary, or for a gateway in this process.
    pub fn write_folder(&self, ca: &TestCa) -> Folder {
        crate::init_crypto();
        let dir = tempfile::tempdir().unwrap();
        let certs: Vec<LeafFiles> = self
            .certificates
            .iter()
            .map(|(stem, names)| {
                ca.leaf(
                    dir.path(),
                    stem,
                    &names.iter().map(String::as_str).collect::<Vec<_>>(),
                )
            })
            .collect();
        for (name, content) in &self.extra_files {
            std::fs::write(dir.path().join(name), content).unwrap();
        }
        std::fs::write(dir.path().join("apps.toml"), &self.apps).unwrap();
        std::fs::write(dir.path().join("policy.toml"), &self.policy).unwrap();
        let https: SocketAddr = format!("127.0.0.1:{}", crate::free_port()).parse().unwrap();
        let admin: SocketAddr = format!("127.0.0.1:{}", crate::free_port()).parse().unwrap();
        let http: Option<SocketAddr> = self
            .http_redirect
            .then(|| format!("127.0.0.1:{}", crate::free_port()).parse().unwrap());
        let mut config = format!(
            "[server]\nlisten = [\"{https}\"]\npublic_https_port = 443\ntrusted_proxies = {trusted:?}\n",
            trusted = self.trusted_proxies
        );
        if let Some(http) = http {
            config.push_str(&format!("http_redirect = [\"{http}\"]\n"));
        }
        config.push_str(&format!("\n[admin]\nlisten = \"{admin}\"\n"));
        if let Some(token) = &self.admin_token {
            std::fs::write(dir.path().join("admin-token"), format!("{token}\n")).unwrap();
            config.push_str("token = { file = \"admin-token\" }\n");
        }
        config.push_str(&format!("\n[limits]\n{}\n", self.limits));
        config.push_str(&format!("[tls]\n{}\n", self.tls));
        for (stem, _) in &self.certificates {
            config.push_str(&format!(
                "[[tls.certificates]]\ncert = \"{stem}.crt\"\nkey = \"{stem}.key\"\n\n"
            ));
        }
        config.push_str(&format!(
            "[portal]\nhost = \"login.gw.test\"\n{}\n",
            self.portal
        ));
        config.push_str("[apps]\nfile = \"apps.toml\"\n\n[policy]\nfile = \"policy.toml\"\n\n[log]\nformat = \"json\"\nlevel = \"info\"\n");
        if self.audit_log {
            config.push_str("audit_file = \"audit.jsonl\"\n");
        }
        if let Some(shared) = &self.shared_keys {
            config.push_str(&format!("\n[keys]\ndir = {shared:?}\n"));
        } else if self.keys {
            let made = Command::new(pforte_admin_bin())
                .args(["keys", "generate", "--dir"])
                .arg(dir.path().join("keys"))
                .env_remove("PFORTE_CONFIG")
                .output()
                .unwrap();
            assert!(
                made.status.success(),
                "pforte-admin keys generate: {made:?}"
            );
            config.push_str("\n[keys]\ndir = \"keys\"\n");
        }
        if let Some(clients) = &self.oidc {
            std::fs::write(dir.path().join("clients.toml"), clients).unwrap();
            ca.write_pem(&dir.path().join("test-ca.pem"));
            config.push_str(
                "\n[oidc]\nclients = \"clients.toml\"\nbackchannel_ca_file = \"test-ca.pem\"\n",
            );
        }
        if let Some(idps) = &self.federation {
            std::fs::write(dir.path().join("idps.toml"), idps).unwrap();
            ca.write_pem(&dir.path().join("test-ca.pem"));
            config
                .push_str("\n[federation]\nproviders = \"idps.toml\"\nca_file = \"test-ca.pem\"\n");
        }
        for section in [&self.directory, &self.sessions, &self.mfa, &self.audit]
            .into_iter()
            .flatten()
        {
            config.push('\n');
            config.push_str(section);
        }
        let config_path = dir.path().join("gateway.toml");
        std::fs::write(&config_path, config).unwrap();
        Folder {
            dir,
            https,
            http,
            admin,
            config_path,
            certs,
        }
    }
}

/// A gateway's folder as [`GatewayBuilder::write_folder`] wrote it, and the addresses its
/// config names.
pub struct Folder {
    pub dir: tempfile::TempDir,
    pub https: SocketAddr,
    pub http: Option<SocketAddr>,
    pub admin: SocketAddr,
    pub config_path: PathBuf,
    pub certs: Vec<LeafFiles>,
}

/// The demo's people file (passwords: the user name followed by `pw`).
pub const DEMO_PEOPLE: &str = include_str!("../../directory/demo-people.toml");

/// The policy of suites that test the proxy, not access: everyone may use every app.
pub const OPEN_POLICY: &str = "[[rule]]\napps = [\"*\"]\npaths = [\"/\"]\nallow = [\"everyone\"]\n";

/// One `[[app]]` table.
pub fn app_toml(name: &str, host: &str, prefix: &str, upstreams: &[String], extra: &str) -> String {
    format!(
        "[[app]]\nname = \"{name}\"\nhosts = [\"{host}\"]\npath_prefix = \"{prefix}\"\nupstreams = {upstreams:?}\n{extra}\n"
    )
}

/// Starts `pforte run --config CONFIG`, its output appended to `stdout.log` in `dir` and to
/// `log_path` (appended, so a restarted gateway's log follows the first run's).
fn spawn(config: &Path, dir: &Path, log_path: &Path) -> Child {
    let append = |path: &Path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap()
    };
    Command::new(pforte_bin())
        .args(["run", "--config"])
        .arg(config)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(append(&dir.join("stdout.log")))
        .stderr(append(log_path))
        .spawn()
        .unwrap()
}

impl Gateway {
    pub fn builder() -> GatewayBuilder {
        GatewayBuilder::default()
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "pforte exited with {status} before it was ready:\n{}",
                    self.log()
                );
            }
            if let Ok(Ok(tcp)) = tokio::time::timeout(
                Duration::from_millis(200),
                tokio::net::TcpStream::connect(self.admin),
            )
            .await
            {
                drop(tcp);
                if client::plain(self.admin, "GET", "/readyz", &[])
                    .await
                    .status
                    == 200
                {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "pforte not ready after 20 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn root(&self) -> rustls_pki_types::CertificateDer<'static> {
        self.ca.der()
    }

    pub async fn h1(&self, host: &str) -> H1 {
        H1::connect(self.https, host, &self.root()).await
    }

    pub async fn h2(&self, host: &str) -> H2 {
        H2::connect(self.https, host, &self.root()).await
    }

    /// GET over a new HTTP/1.1 connection.
    pub async fn get(&self, host: &str, path: &str) -> Reply {
        self.h1(host).await.get(path).await
    }

    pub async fn metrics(&self) -> String {
        client::plain(self.admin, "GET", "/metrics", &[])
            .await
            .text()
    }

    /// The value of one metric series (`name{labels}` exactly as exposed), if present.
    pub async fn metric(&self, series: &str) -> Option<f64> {
        self.metrics().await.lines().find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok()).flatten()
        })
    }

    /// The audit log's events, one JSON object each.
    pub fn audit(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.path().join("audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Waits until a log line contains `needle`.
    pub async fn wait_for_log(&self, needle: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.log().contains(needle) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, signal: &str) {
        if matches!(signal, "TERM" | "INT" | "KILL") {
            self.stopped_on_purpose
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Peak resident memory of the gateway process, in KiB (VmHWM).
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// Waits for the process to exit on its own.
    pub async fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Stops the gateway with SIGTERM and waits until it has exited (its graceful shutdown done).
    pub async fn stop(&mut self) -> ExitStatus {
        self.signal("TERM");
        self.wait_exit(Duration::from_secs(15))
            .await
            .unwrap_or_else(|| panic!("pforte did not stop within 15 s:\n{}", self.log()))
    }

    /// Starts the gateway again on the same folder, config and ports, after [`Self::stop`].
    pub async fn start_again(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_some(),
            "start_again needs a stopped gateway"
        );
        self.child = spawn(&self.config_path, self.dir.path(), &self.log_path);
        self.stopped_on_purpose
            .store(false, std::sync::atomic::Ordering::Relaxed);
        self.wait_ready().await;
    }

    /// Rewrites a file in the gateway's folder (atomically, as deploy tools do).
    pub fn replace_file(&self, name: &str, content: impl AsRef<[u8]>) {
        let tmp = self.dir.path().join(format!(".{name}.tmp"));
        std::fs::write(&tmp, content).unwrap();
        std::fs::rename(&tmp, self.dir.path().join(name)).unwrap();
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Gateway {
    /// Stops the gateway. One that had already stopped on its own during a test that did not
    /// stop it says so, with its log, on the test's output: a failure then shows the cause.
    fn drop(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait()
            && !self
                .stopped_on_purpose
                .load(std::sync::atomic::Ordering::Relaxed)
        {
            eprintln!(
                "the gateway on {} exited on its own ({status}); its log:\n{}",
                self.https,
                self.log()
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
