//! A Sentinel-managed Redis of a test's own, as production runs it: a primary, one replica and
//! three sentinels (quorum 2) on free loopback ports, each a real `redis-server` (sentinels as
//! `redis-server --sentinel`) with its files in a temporary folder. Killed when dropped.
//!
//! Sentinel marks the primary down after [`DOWN_AFTER`] without an answer; with the primary
//! killed, the sentinels agree, elect a leader and promote the replica, which takes a few
//! seconds in all.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The master's name in the sentinels' configuration.
pub const MASTER: &str = "pforte";

/// How long the primary may stay silent before a sentinel thinks it down. One second: quick to
/// fail over, yet not fooled by a loaded machine's pauses (Redis's default is 30 s).
pub const DOWN_AFTER: Duration = Duration::from_secs(1);

/// One `redis-server` process.
pub struct Node {
    child: Child,
    pub port: u16,
}

impl Node {
    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILL, as a crash would; the process is reaped.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A primary, a replica and three sentinels.
pub struct SentinelSet {
    pub primary: Node,
    pub replica: Node,
    pub sentinels: Vec<Node>,
    dir: TempDir,
}

impl SentinelSet {
    /// Starts them and waits until the replica is in sync and every sentinel knows the replica
    /// and the two other sentinels (so a failover can be agreed on at once).
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let primary = server(dir.path(), "primary", &[]);
        let replica = server(
            dir.path(),
            "replica",
            &["--replicaof", "127.0.0.1", &primary.port.to_string()],
        );
        // The replica first: a sentinel that sees it in its first look at the primary knows it
        // at once, instead of at its next look ten seconds later.
        let synced = poll(Duration::from_secs(20), async || {
            ask::<u32>(&primary.url(), redis::cmd("WAIT").arg(1).arg(100))
                .await
                .is_ok_and(|n| n == 1)
        })
        .await;
        assert!(synced, "the replica did not sync with the primary");
        let sentinels = (0..3)
            .map(|i| sentinel(dir.path(), i, primary.port))
            .collect();
        let set = Self {
            primary,
            replica,
            sentinels,
            dir,
        };
        let ready = poll(Duration::from_secs(30), async || set.agreed().await).await;
        assert!(
            ready,
            "the sentinels did not find each other and the replica"
        );
        set
    }

    /// Every sentinel knows the master, its replica and the two other sentinels.
    async fn agreed(&self) -> bool {
        for sentinel in &self.sentinels {
            let Ok(info) = ask::<Vec<(String, String)>>(
                &sentinel.url(),
                redis::cmd("SENTINEL").arg("MASTER").arg(MASTER),
            )
            .await
            else {
                return false;
            };
            let field = |name: &str| {
                info.iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
            };
            if field("num-slaves") != Some("1") || field("num-other-sentinels") != Some("2") {
                return false;
            }
        }
        true
    }

    /// `redis://` URLs of the sentinels.
    pub fn sentinel_urls(&self) -> Vec<String> {
        self.sentinels.iter().map(Node::url).collect()
    }

    /// The `[sessions]` table of a gateway on this Redis: keys under `prefix`, writes a
    /// browser is told about confirmed by `acknowledge_replicas` replicas.
    pub fn sessions_toml(&self, prefix: &str, acknowledge_replicas: u32) -> String {
        format!(
            "store = \"redis\"\n[sessions.redis]\nsentinels = {sentinels:?}\nmaster = \"{MASTER}\"\n\
             key_prefix = {prefix:?}\nacknowledge_replicas = {acknowledge_replicas}\n\
             acknowledge_timeout = \"1s\"\n",
            sentinels = self.sentinel_urls(),
        )
    }

    /// The port of the master the sentinels name now (the first that answers).
    pub async fn master_port(&self) -> Option<u16> {
        for sentinel in &self.sentinels {
            if let Ok((_, port)) = ask::<(String, u16)>(
                &sentinel.url(),
                redis::cmd("SENTINEL")
                    .arg("GET-MASTER-ADDR-BY-NAME")
                    .arg(MASTER),
            )
            .await
            {
                return Some(port);
            }
        }
        None
    }

    /// The sentinels' failover events, from their logs, in order: what a failover that took
    /// long spent its time on.
    pub fn failover_log(&self) -> String {
        let mut events: Vec<String> = (0..self.sentinels.len())
            .flat_map(|i| {
                let log = std::fs::read_to_string(
                    self.dir.path().join(format!("sentinel{i}/sentinel.log")),
                )
                .unwrap_or_default();
                log.lines()
                    .filter(|l| {
                        [
                            "+sdown",
                            "+odown",
                            "+elected-leader",
                            "+promoted-slave",
                            "+switch-master",
                        ]
                        .iter()
                        .any(|e| l.contains(e))
                    })
                    .map(|l| {
                        format!(
                            "sentinel{i} {}",
                            l.split_once(' ').map_or(l, |(_, rest)| rest)
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        events.sort_by(|a, b| {
            a.split_once(' ')
                .map(|x| x.1)
                .cmp(&b.split_once(' ').map(|x| x.1))
        });
        events.join("\n")
    }
}

/// Runs one command on the server at `url`, on a connection of its own.
pub async fn ask<T: redis::FromRedisValue>(
    url: &str,
    command: &redis::Cmd,
) -> redis::RedisResult<T> {
    let client = redis::Client::open(url)?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(Duration::from_secs(2)));
    let mut connection = client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    command.query_async(&mut connection).await
}

/// Polls `check` every 50 ms until it holds (true) or `within` has passed (false).
async fn poll(within: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A data server (nothing saved to disk) named `name`, with `extra` arguments.
fn server(dir: &Path, name: &str, extra: &[&str]) -> Node {
    let port = crate::free_port();
    let folder = dir.join(name);
    std::fs::create_dir(&folder).unwrap();
    let mut args: Vec<String> = [
        "--bind",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        &folder.display().to_string(),
        "--logfile",
        &folder.join("redis.log").display().to_string(),
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|a| a.to_string()));
    spawn(&args, port)
}

/// Sentinel `i`, watching the primary on `primary` with quorum 2.
fn sentinel(dir: &Path, i: usize, primary: u16) -> Node {
    let port = crate::free_port();
    let folder = dir.join(format!("sentinel{i}"));
    std::fs::create_dir(&folder).unwrap();
    let config = folder.join("sentinel.conf");
    std::fs::write(
        &config,
        format!(
            "port {port}\nbind 127.0.0.1\ndir {dir}\nlogfile {dir}/sentinel.log\n\
             sentinel monitor {MASTER} 127.0.0.1 {primary} 2\n\
             sentinel down-after-milliseconds {MASTER} {down}\n\
             sentinel failover-timeout {MASTER} 10000\n",
            dir = folder.display(),
            down = DOWN_AFTER.as_millis(),
        ),
    )
    .unwrap();
    spawn(&[config.display().to_string(), "--sentinel".into()], port)
}

fn spawn(args: &[String], port: u16) -> Node {
    let child = Command::new("redis-server")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server (apt-get install redis-server, or run under ./tests/run)");
    let node = Node { child, port };
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "redis-server on {port} did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    node
}
