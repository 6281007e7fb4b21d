//! The container image of `deploy/container/`: built FROM scratch from the suite's debug binaries
//! (`tests/deploy/image.sh`: stripped copies, a podman storage of its own, removed afterwards), it
//! holds only the two binaries, the libraries they load, CA certificates and the user 65532, and
//! carries its OCI labels and annotations. No container can be started on the test machines, so
//! its exported root file system runs in a chroot as that user, with the image's environment:
//! the demo serves the login page over TLS and logs alice in, `pforte check` passes its config,
//! and `pforte-admin` answers.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use pforte_e2e::browser::Browser;
use pforte_e2e::client::plain;
use pforte_e2e::demo::apps_on_free_ports;
use pforte_e2e::gateway::{pforte_admin_bin, pforte_bin};
use pforte_e2e::{eventually, free_port};
use serde_json::Value;

use super::repo;

/// The user and group the image runs as (deploy/container/Containerfile).
const USER: u32 = 65_532;

#[tokio::test]
async fn the_image_holds_only_the_gateway_and_runs_it_as_a_non_root_user() {
    pforte_e2e::init_crypto();
    assert_eq!(
        std::fs::metadata("/proc/self").map(|m| m.uid()).ok(),
        Some(0),
        "unpacking the image with its owners and chroot need root: the suite runs as root (tests/run)"
    );
    let work = workdir();
    let image = build_image(work.path());
    check_labels(&image);
    let rootfs = unpack(work.path());
    check_contents(&rootfs);

    let demo = ChrootDemo::start(&rootfs, &image, work.path()).await;
    demo.check_runs_as_user();
    // A client that trusts only the certificate the demo made inside the image.
    let cert_file = rootfs.join("var/lib/pforte/demo/tls/demo.crt");
    let pem = std::fs::read(&cert_file)
        .unwrap_or_else(|e| panic!("the demo wrote no {}: {e}", cert_file.display()));
    let cert =
        <rustls_pki_types::CertificateDer as rustls_pki_types::pem::PemObject>::from_pem_slice(
            &pem,
        )
        .unwrap_or_else(|e| panic!("{} is no PEM certificate: {e}", cert_file.display()));
    let login = format!("https://login.localhost:{}/", demo.https.port());
    let mut browser = Browser::new(demo.https, cert);
    let first = browser.get(&login).await;
    assert_eq!(first.status, 303, "{}\n{}", first.text(), demo.output());
    let hops = browser.login(&login, "alice", "alicepw").await;
    let portal = &hops[0].reply;
    assert_eq!(portal.status, 200, "{}\n{}", portal.text(), demo.output());
    assert!(
        portal
            .text()
            .contains(&format!("https://mail.localhost:{}/", demo.https.port())),
        "alice's portal has no mail tile: {}",
        portal.text()
    );

    // `pforte check` on the config the demo wrote, and the admin tool, from the image's files.
    let config = "/var/lib/pforte/demo/gateway.toml";
    let check = in_chroot(
        &rootfs,
        &image,
        &["/usr/local/bin/pforte", "check", "--config", config],
    );
    assert!(
        check.status.success() && String::from_utf8_lossy(&check.stdout).contains("OK"),
        "pforte check in the image failed: {check:?}"
    );
    let explain = in_chroot(
        &rootfs,
        &image,
        &[
            "/usr/local/bin/pforte-admin",
            "--config",
            config,
            "policy",
            "explain",
            "--user",
            "bob",
            "https://video.localhost/",
        ],
    );
    assert!(
        explain.status.success()
            && String::from_utf8_lossy(&explain.stdout).contains("decision: allow"),
        "pforte-admin in the image failed: {explain:?}"
    );
}

/// A folder for the image's files under the target folder (the build machine's big disk, next to
/// the binaries), removed at the end of the test.
fn workdir() -> tempfile::TempDir {
    let target = target_dir();
    tempfile::Builder::new()
        .prefix("deploy-image.")
        .tempdir_in(&target)
        .unwrap_or_else(|e| panic!("cannot make a folder in {}: {e}", target.display()))
}

/// The target folder the binaries under test were built in.
fn target_dir() -> PathBuf {
    let bin = pforte_bin();
    bin.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| panic!("{} is not in a target folder", bin.display()))
}

/// Builds the image with tests/deploy/image.sh; returns what `podman image inspect` says of it.
fn build_image(work: &Path) -> Value {
    let script = repo().join("tests/deploy/image.sh");
    let out = Command::new(&script)
        .arg(work)
        .env("PFORTE_BIN", pforte_bin())
        .env("PFORTE_ADMIN_BIN", pforte_admin_bin())
        .env("CARGO_TARGET_DIR", target_dir())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed ({}):\n{}{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(work.join("image.json"))
        .unwrap_or_else(|e| panic!("image.sh wrote no image.json: {e}"));
    let inspect: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("podman image inspect gave no JSON ({e}): {text}"));
    inspect
        .get(0)
        .cloned()
        .unwrap_or_else(|| panic!("podman image inspect named no image: {text}"))
}

/// The user is numeric and not root; the OCI labels and annotations carry the workspace's
/// version, licence and source.
fn check_labels(image: &Value) {
    assert_eq!(
        image["Config"]["User"],
        format!("{USER}:{USER}"),
        "the image must run as {USER}, numeric (Kubernetes' runAsNonRoot checks it)"
    );
    let cargo_toml = std::fs::read_to_string(repo().join("Cargo.toml"))
        .unwrap_or_else(|e| panic!("cannot read Cargo.toml: {e}"));
    for place in ["Labels", "Annotations"] {
        let facts = if place == "Labels" {
            &image["Config"]["Labels"]
        } else {
            &image["Annotations"]
        };
        let fact = |key: &str| {
            facts[format!("org.opencontainers.image.{key}")]
                .as_str()
                .unwrap_or_else(|| panic!("no {key} in the image's {place}: {facts}"))
                .to_string()
        };
        assert_eq!(fact("title"), "pforte", "{place}");
        assert_eq!(fact("version"), env!("CARGO_PKG_VERSION"), "{place}");
        assert_eq!(fact("licenses"), env!("CARGO_PKG_LICENSE"), "{place}");
        let source = fact("source");
        assert!(
            cargo_toml.contains(&format!("repository = \"{source}\"")),
            "{place}: source {source} is not Cargo.toml's repository"
        );
        assert!(
            !fact("description").is_empty(),
            "{place}: empty description"
        );
    }
}

/// The exported root file system, unpacked with its owners.
fn unpack(work: &Path) -> PathBuf {
    let rootfs = work.join("rootfs");
    std::fs::create_dir(&rootfs).unwrap_or_else(|e| panic!("{}: {e}", rootfs.display()));
    let out = Command::new("tar")
        .args([
            "--extract",
            "--numeric-owner",
            "--same-permissions",
            "--file",
        ])
        .arg(work.join("rootfs.tar"))
        .arg("--directory")
        .arg(&rootfs)
        .output()
        .unwrap_or_else(|e| panic!("cannot run tar: {e}"));
    assert!(
        out.status.success(),
        "unpacking the exported image: {out:?}"
    );
    rootfs
}

/// Nothing but the binaries, shared libraries, CA certificates and the user's files: no shell,
/// no package manager; the state folder belongs to the user, everything else to root.
fn check_contents(rootfs: &Path) {
    let mut files = Vec::new();
    walk(rootfs, rootfs, &mut files);
    let expected: BTreeSet<&str> = [
        "usr/local/bin/pforte",
        "usr/local/bin/pforte-admin",
        "etc/passwd",
        "etc/group",
        "etc/nsswitch.conf",
        "etc/ssl/certs/ca-certificates.crt",
    ]
    .into();
    let (libraries, others): (Vec<&String>, Vec<&String>) = files
        .iter()
        .partition(|f| (f.starts_with("lib") || f.starts_with("usr/lib")) && f.contains(".so"));
    let others: BTreeSet<&str> = others.iter().map(|f| f.as_str()).collect();
    assert_eq!(others, expected, "the image holds other files than these");
    assert!(
        libraries.iter().any(|l| l.contains("ld-linux")),
        "no dynamic loader in the image: {libraries:?}"
    );
    assert!(
        libraries.len() <= 8,
        "more libraries than a Rust binary on glibc needs: {libraries:?}"
    );
    let passwd = std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap_or_default();
    assert!(
        passwd.contains(&format!("pforte:x:{USER}:{USER}:")),
        "no user {USER} in /etc/passwd: {passwd}"
    );
    let state = std::fs::metadata(rootfs.join("var/lib/pforte"))
        .unwrap_or_else(|e| panic!("no /var/lib/pforte in the image: {e}"));
    assert_eq!(
        (state.uid(), state.gid()),
        (USER, USER),
        "/var/lib/pforte's owner"
    );
    let binary = std::fs::metadata(rootfs.join("usr/local/bin/pforte"))
        .unwrap_or_else(|e| panic!("no pforte in the image: {e}"));
    assert_eq!(
        binary.uid(),
        0,
        "the binaries belong to root: the user cannot change them"
    );
}

/// Every file and link under `dir`, relative to `root`; folders are walked, not listed.
fn walk(root: &Path, dir: &Path, into: &mut Vec<String>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let path = entry.path();
        let kind = entry
            .file_type()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if kind.is_dir() {
            walk(root, &path, into);
        } else {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            into.push(relative.to_string_lossy().into_owned());
        }
    }
}

/// The image's own environment (`ENV` lines: PATH, SSL_CERT_FILE), as a container would get it.
fn image_env(image: &Value) -> Vec<(String, String)> {
    image["Config"]["Env"]
        .as_array()
        .unwrap_or_else(|| panic!("the image has no Env: {}", image["Config"]))
        .iter()
        .filter_map(|v| v.as_str()?.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `args` run in the image's root file system as the image's user, with the image's environment
/// only.
fn chroot(rootfs: &Path, image: &Value, args: &[&str]) -> Command {
    let chroot = ["/usr/sbin/chroot", "/usr/bin/chroot"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .unwrap_or_else(|| panic!("no chroot (Debian: coreutils)"));
    let mut command = Command::new(chroot);
    command
        .arg(format!("--userspec={USER}:{USER}"))
        .arg(rootfs)
        .args(args)
        .env_clear()
        .envs(image_env(image))
        .stdin(Stdio::null());
    command
}

/// Runs `args` to the end in the image (see [`chroot`]).
fn in_chroot(rootfs: &Path, image: &Value, args: &[&str]) -> Output {
    chroot(rootfs, image, args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run chroot {args:?}: {e}"))
}

/// `pforte demo` from the image's files, on free ports, its state in the image's /var/lib/pforte.
struct ChrootDemo {
    https: SocketAddr,
    child: Child,
    log: PathBuf,
}

impl ChrootDemo {
    async fn start(rootfs: &Path, image: &Value, work: &Path) -> Self {
        // The built-in apps' fixed upstream ports would collide with other demos of the suite.
        let apps = apps_on_free_ports(&rootfs.join("etc/pforte"));
        let apps_in_image = Path::new("/").join(apps.strip_prefix(rootfs).unwrap_or(&apps));
        let https: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let admin: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let log = work.join("demo.out");
        let out = std::fs::File::create(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let (https_arg, admin_arg) = (https.to_string(), admin.to_string());
        let args = [
            "/usr/local/bin/pforte",
            "demo",
            "--state-dir",
            "/var/lib/pforte/demo",
            "--listen",
            &https_arg,
            "--admin",
            &admin_arg,
            "--apps",
            &apps_in_image.to_string_lossy(),
        ];
        let child = chroot(rootfs, image, &args)
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the demo in the chroot: {e}"));
        let demo = Self { https, child, log };
        let ready = eventually(Duration::from_secs(20), async || {
            tokio::net::TcpStream::connect(admin).await.is_ok()
                && plain(admin, "GET", "/readyz", &[]).await.status == 200
        })
        .await;
        assert!(
            ready,
            "the demo in the image did not come up:\n{}",
            demo.output()
        );
        demo
    }

    /// chroot has exec'd the gateway as the image's user: its process runs as 65532, not root.
    fn check_runs_as_user(&self) {
        let status_file = format!("/proc/{}/status", self.child.id());
        let status =
            std::fs::read_to_string(&status_file).unwrap_or_else(|e| panic!("{status_file}: {e}"));
        let uids = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .unwrap_or_else(|| panic!("no Uid line in {status_file}"));
        let name = status.lines().next().unwrap_or_default();
        assert!(name.contains("pforte"), "the demo's process is {name}");
        assert!(
            uids.split_whitespace().all(|uid| uid == USER.to_string()),
            "the gateway in the image runs as uids {uids}, not {USER}"
        );
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ChrootDemo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
