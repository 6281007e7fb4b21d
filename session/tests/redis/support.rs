//! Test helpers: the shared Redis from the harness, unique prefixes, and a private
//! redis-server for the tests that must count its commands, stop it, or speak TLS to it.

use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pforte_policy::LoginStrength;
use pforte_session::{
    AuthMethod, Backend, Clock, NewSession, RedisSettings, SessionId, SessionSettings,
    SessionStore, StoreSettings, ThrottleSettings, Timestamp,
};

const HOW: &str = "run under ./tests/run (or source deploy/dev/services.sh env)";

/// The harness's Redis URL; a missing variable fails the test, never skips it.
pub fn shared_url() -> String {
    std::env::var("PFORTE_TEST_REDIS_URL")
        .unwrap_or_else(|_| panic!("PFORTE_TEST_REDIS_URL is not set: {HOW}"))
}

/// The harness's directory of TLS material (ca.crt, server.crt, server.key).
pub fn tls_dir() -> PathBuf {
    let dir = std::env::var("PFORTE_TEST_SERVICES_DIR")
        .unwrap_or_else(|_| panic!("PFORTE_TEST_SERVICES_DIR is not set: {HOW}"));
    Path::new(&dir).join("tls")
}

/// A key prefix no other test (or run) uses.
pub fn unique_prefix() -> String {
    let id = SessionId::generate().unwrap().key().sid();
    format!("pforte-test:{id}:")
}

/// Redis settings for `url` under `prefix`.
pub fn redis_settings(url: &str, prefix: &str) -> RedisSettings {
    let mut settings = RedisSettings::new(url).unwrap();
    settings.key_prefix = prefix.to_owned();
    settings
}

/// One replica: its own connection, subscriber and cache, on the system clock (Redis counts
/// its TTLs on its own, real clock).
pub async fn replica(settings: &RedisSettings) -> SessionStore {
    let settings = StoreSettings {
        backend: Backend::Redis(Box::new(settings.clone())),
        sessions: SessionSettings::default(),
        throttle: ThrottleSettings::default(),
    };
    SessionStore::open(&settings, Clock::system())
        .await
        .unwrap()
}

/// Two replicas of one deployment on the shared Redis, under a fresh prefix.
pub async fn two_replicas() -> (SessionStore, SessionStore) {
    let settings = redis_settings(&shared_url(), &unique_prefix());
    (replica(&settings).await, replica(&settings).await)
}

/// A login of one of the demo directory's people.
pub fn login(subject: &str) -> NewSession {
    NewSession {
        subject: subject.to_owned(),
        username: "alice".to_owned(),
        display_name: "Alice Liddell".to_owned(),
        email: Some("alice@example.org".to_owned()),
        groups: vec![
            "staff".to_owned(),
            "engineering".to_owned(),
            "vpn-users".to_owned(),
        ],
        login: LoginStrength::Password,
        methods: vec![AuthMethod::Password],
        auth_time: Timestamp::now(),
        source: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
        device: Some("Firefox on Linux".to_owned()),
        federated: None,
    }
}

/// A subject no other test uses.
pub fn unique_subject() -> String {
    format!("subject-{}", SessionId::generate().unwrap().key().sid())
}

/// Polls `probe` every 10 ms until it is true or `limit` has passed; returns the time taken.
pub async fn within<F, Fut>(limit: Duration, mut probe: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() <= limit {
        if probe().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

/// A throwaway server: loopback only, nothing saved to disk.
fn server_args(mut args: Vec<String>) -> Vec<String> {
    args.extend(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"].map(String::from));
    args
}

/// TLS only on `port`, with the harness's certificate for localhost and 127.0.0.1.
fn tls_args(port: u16) -> Vec<String> {
    let tls = tls_dir();
    vec![
        "--port".into(),
        "0".into(),
        "--tls-port".into(),
        port.to_string(),
        "--tls-cert-file".into(),
        tls.join("server.crt").display().to_string(),
        "--tls-key-file".into(),
        tls.join("server.key").display().to_string(),
        "--tls-ca-cert-file".into(),
        tls.join("ca.crt").display().to_string(),
        "--tls-auth-clients".into(),
        "no".into(),
        "--tls-replication".into(),
        "yes".into(),
    ]
}

/// A redis-server of this test's own, killed when dropped.
pub struct PrivateRedis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl PrivateRedis {
    /// Plain TCP on a free loopback port.
    pub fn start() -> Self {
        Self::spawn(|port, _| server_args(vec!["--port".into(), port.to_string()]))
    }

    /// A replica of the server on `master`.
    pub fn start_replica_of(master: u16) -> Self {
        Self::spawn(|port, _| {
            server_args(vec![
                "--port".into(),
                port.to_string(),
                "--replicaof".into(),
                "127.0.0.1".into(),
                master.to_string(),
            ])
        })
    }

    /// A sentinel watching the server on `master` under the name `pforte`, quick to fail over.
    pub fn start_sentinel(master: u16) -> Self {
        Self::spawn(|port, dir| {
            let config = dir.join("sentinel.conf");
            let text = format!(
                "port {port}\nbind 127.0.0.1\ndir {}\n\
                 sentinel monitor pforte 127.0.0.1 {master} 1\n\
                 sentinel down-after-milliseconds pforte 1000\n\
                 sentinel failover-timeout pforte 5000\n",
                dir.display()
            );
            std::fs::write(&config, text).unwrap();
            vec![config.display().to_string(), "--sentinel".into()]
        })
    }

    /// TLS only, with the harness's certificate for localhost.
    pub fn start_tls() -> Self {
        Self::spawn(|port, _| server_args(tls_args(port)))
    }

    /// TLS only, a replica (over TLS) of the TLS server on `master`.
    pub fn start_tls_replica_of(master: u16) -> Self {
        Self::spawn(|port, _| {
            let mut args = tls_args(port);
            args.extend(["--replicaof".into(), "127.0.0.1".into(), master.to_string()]);
            server_args(args)
        })
    }

    /// A sentinel as [`PrivateRedis::start_sentinel`], TLS only, speaking TLS to the master
    /// and its replicas too.
    pub fn start_tls_sentinel(master: u16) -> Self {
        let tls = tls_dir();
        Self::spawn(|port, dir| {
            let config = dir.join("sentinel.conf");
            let text = format!(
                "port 0\ntls-port {port}\nbind 127.0.0.1\ndir {dir}\n\
                 tls-cert-file {tls}/server.crt\ntls-key-file {tls}/server.key\n\
                 tls-ca-cert-file {tls}/ca.crt\ntls-replication yes\ntls-auth-clients no\n\
                 sentinel monitor pforte 127.0.0.1 {master} 1\n\
                 sentinel down-after-milliseconds pforte 1000\n\
                 sentinel failover-timeout pforte 5000\n",
                dir = dir.display(),
                tls = tls.display(),
            );
            std::fs::write(&config, text).unwrap();
            vec![config.display().to_string(), "--sentinel".into()]
        })
    }

    fn spawn(args: impl Fn(u16, &Path) -> Vec<String>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(args(port, dir.path()))
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start redis-server ({e}): {HOW}"));
        let server = Self {
            child,
            port,
            _dir: dir,
        };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://` URL of this server.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `rediss://` URL of this server (for the TLS ones).
    pub fn tls_url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.port)
    }

    /// Stops (SIGSTOP) or resumes (SIGCONT) it: a server that keeps its connections but answers
    /// nothing, as one that hangs.
    pub fn freeze(&self, frozen: bool) {
        let signal = if frozen { "-STOP" } else { "-CONT" };
        let status = Command::new("kill")
            .arg(signal)
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} failed");
    }

    /// Kills it, as a crash or a network cut would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}
