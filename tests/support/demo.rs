//! `pforte demo` as a test starts it: on free ports, in a temporary state folder, stopped when
//! dropped, with its output kept for failure messages.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::client::plain;
use crate::eventually;
use crate::gateway::pforte_bin;

/// A running demo.
pub struct Demo {
    /// The state folder (`tls/demo.crt`, `gateway.toml`, ...).
    pub state: TempDir,
    /// The HTTPS listener.
    pub https: SocketAddr,
    /// The admin listener.
    pub admin: SocketAddr,
    child: Child,
}

impl Demo {
    /// Starts `pforte demo` with `args` added, and waits until it is ready.
    pub async fn start(args: &[&std::ffi::OsStr]) -> Self {
        crate::init_crypto();
        let state = tempfile::tempdir().unwrap();
        let https: SocketAddr = format!("127.0.0.1:{}", crate::free_port()).parse().unwrap();
        let admin: SocketAddr = format!("127.0.0.1:{}", crate::free_port()).parse().unwrap();
        let out = std::fs::File::create(state.path().join("demo.out")).unwrap();
        // The state folder is named relative to the demo's working folder, as someone typing
        // `pforte demo --state-dir state` names it.
        let (parent, name) = (
            state
                .path()
                .parent()
                .expect("a temporary folder has a parent"),
            state
                .path()
                .file_name()
                .expect("a temporary folder has a name"),
        );
        let child = Command::new(pforte_bin())
            .current_dir(parent)
            .args(["demo", "--state-dir"])
            .arg(name)
            .args([
                "--listen",
                &https.to_string(),
                "--admin",
                &admin.to_string(),
            ])
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let demo = Self {
            state,
            https,
            admin,
            child,
        };
        let ready = eventually(Duration::from_secs(20), async || {
            tokio::net::TcpStream::connect(admin).await.is_ok()
                && plain(admin, "GET", "/readyz", &[]).await.status == 200
        })
        .await;
        assert!(ready, "the demo did not come up:\n{}", demo.output());
        demo
    }

    /// Everything the demo printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.state.path().join("demo.out")).unwrap_or_default()
    }

    /// Stops the demo as an operator would (SIGTERM) and waits until it has exited.
    pub async fn terminate(&mut self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let exited = eventually(Duration::from_secs(20), async || {
            self.child.try_wait().unwrap().is_some()
        })
        .await;
        assert!(exited, "the demo did not stop:\n{}", self.output());
    }

    /// The demo's own certificate, as a client that trusts only it would load it.
    pub fn certificate(&self) -> rustls_pki_types::CertificateDer<'static> {
        let pem = std::fs::read(self.state.path().join("tls/demo.crt")).unwrap();
        <rustls_pki_types::CertificateDer as rustls_pki_types::pem::PemObject>::from_pem_slice(&pem)
            .unwrap()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A copy of the demo's apps file in `dir` with every upstream moved to a free port: the built-in
/// file's fixed ports (9101, ...) would collide with another demo running at the same time. The
/// demo starts its apps on whatever upstreams the file names.
pub fn apps_on_free_ports(dir: &Path) -> PathBuf {
    let demo_apps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/apps.toml");
    let text = std::fs::read_to_string(&demo_apps).unwrap();
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            if line.starts_with("upstreams = [\"http://127.0.0.1:") {
                format!("upstreams = [\"http://127.0.0.1:{}\"]", crate::free_port())
            } else {
                line.to_string()
            }
        })
        .collect();
    assert!(
        lines.iter().zip(text.lines()).any(|(a, b)| a != b),
        "no loopback upstream found in {}",
        demo_apps.display()
    );
    let path = dir.join("apps-free-ports.toml");
    std::fs::write(&path, lines.join("\n")).unwrap();
    path
}
