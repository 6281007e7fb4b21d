//! Servers a fault-injection test kills and starts again on the same port: nginx as the apps'
//! upstream (it echoes the identity header the load generator checks) and a redis-server of the
//! test's own (the harness's Redis is shared by every suite and must not die).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::eventually;

/// The nginx configuration of an upstream on `port` in `dir`: every path answers 200 with the
/// identity the gateway forwarded, as JSON in the shape of the harness's echo upstream. One
/// process (no master), so a kill of the process it started is a kill of the server.
pub fn nginx_conf(dir: &Path, port: u16) -> String {
    let dir = dir.display();
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      default_type application/json;
      add_header x-upstream nginx;
      return 200 '{{"upstream":"nginx","headers":{{"x-forwarded-user":["$http_x_forwarded_user"]}}}}';
    }}
  }}
}}
"#
    )
}

/// An nginx upstream on a fixed port, stopped when dropped.
pub struct Nginx {
    pub addr: SocketAddr,
    conf: PathBuf,
    child: Option<Child>,
}

impl Nginx {
    /// Writes its configuration into `dir` and starts it on a free port.
    pub async fn start(dir: &Path) -> Self {
        let port = crate::free_port();
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, nginx_conf(dir, port)).unwrap();
        let mut nginx = Self {
            addr: format!("127.0.0.1:{port}").parse().unwrap(),
            conf,
            child: None,
        };
        nginx.restart().await;
        nginx
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Kills it (SIGKILL: connections drop, nothing is drained).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and waits until it takes connections.
    pub async fn restart(&mut self) {
        self.kill();
        let child = Command::new(binary("nginx"))
            .arg("-c")
            .arg(&self.conf)
            .arg("-e")
            .arg(self.conf.with_file_name("nginx-error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let addr = self.addr;
        assert!(
            eventually(Duration::from_secs(10), async || {
                tokio::net::TcpStream::connect(addr).await.is_ok()
            })
            .await,
            "nginx did not start on {addr}"
        );
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A redis-server of the test's own with an append-only file written on every change
/// (`--appendonly yes --appendfsync always`), so a kill loses nothing acknowledged.
pub struct Redis {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Redis {
    pub async fn start(dir: &Path) -> Self {
        let mut redis = Self {
            port: crate::free_port(),
            dir: dir.to_path_buf(),
            child: None,
        };
        redis.restart().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: no shutdown, no final save; what the append-only file holds is what survives.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and folder and waits until it answers.
    pub async fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(self.dir.join("redis.log")).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let port = self.port;
        assert!(
            eventually(Duration::from_secs(10), async || {
                Command::new("redis-cli")
                    .args(["-p", &port.to_string(), "ping"])
                    .output()
                    .is_ok_and(|o| o.stdout.starts_with(b"PONG"))
            })
            .await,
            "redis-server did not start on {port}"
        );
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A program from /usr/sbin (not on every user's PATH).
fn binary(name: &str) -> PathBuf {
    let sbin = Path::new("/usr/sbin").join(name);
    if sbin.is_file() {
        sbin
    } else {
        PathBuf::from(name)
    }
}
