//! The Kubernetes files of `deploy/kubernetes/` checked by the tools a platform uses: the
//! kustomization rendered by `kubectl kustomize` and every object validated against the Kubernetes
//! schemas (PyPI's kubernetes-validate, offline, strict), the Deployment's image, autoscaler and
//! mounts checked against the config, and the Redis ConfigMap run on a real `redis-server`.

use std::path::Path;
use std::process::{Command, Stdio};

use super::{deploy_dir, run, text};

/// The Kubernetes versions the manifests are validated against: the oldest they support (the
/// preStop `sleep` action needs 1.30) and the newest kubernetes-validate knows.
const KUBERNETES_VERSIONS: [&str; 2] = ["1.30.0", "1.37.0"];

#[test]
fn the_kustomization_renders_and_every_object_is_valid_kubernetes() {
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary folder: {e}"));
    let rendered = render_kustomization();
    // The Secrets to create by hand are validated with the rest.
    let secrets_file = deploy_dir().join("kubernetes/secrets.example.yaml");
    let secrets = std::fs::read_to_string(&secrets_file)
        .unwrap_or_else(|e| panic!("{}: {e}", secrets_file.display()));
    let file = work.path().join("rendered.yaml");
    std::fs::write(&file, format!("{rendered}---\n{secrets}"))
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let documents: Vec<&str> = rendered.split("\n---\n").collect();
    let objects = documents.len() + secrets.split("\n---\n").count();
    let kinds: Vec<&str> = documents
        .iter()
        .filter_map(|d| top_level(d, "kind"))
        .collect();
    for kind in [
        "Namespace",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "StatefulSet",
        "ConfigMap",
        "NetworkPolicy",
    ] {
        assert!(
            kinds.contains(&kind),
            "no {kind} in the rendered kustomization: {kinds:?}"
        );
    }

    let validate =
        Path::new(&pforte_e2e::env("PFORTE_DEPLOY_VENV")).join("bin/kubernetes-validate");
    for version in KUBERNETES_VERSIONS {
        let out = run(Command::new(&validate)
            .args(["--strict", "--kubernetes-version", version])
            .arg(&file));
        let report = format!("{}{}", text(&out.stdout), text(&out.stderr));
        // An unknown kind or version is only a warning to kubernetes-validate: refuse it too,
        // and require one `passed` line per object.
        let passed = report
            .lines()
            .filter(|l| l.contains(" passed for resource "))
            .count();
        assert!(
            out.status.success()
                && passed == objects
                && !report.contains("WARN")
                && !report.contains("ERROR"),
            "kubernetes-validate --strict for Kubernetes {version} ({passed} of {objects} objects passed):\n{report}"
        );
    }

    // The Deployment runs deploy/container/'s image, untagged in deployment.yaml, at the version
    // kustomization.yaml's `images:` sets (this workspace's), and an overlay can move it.
    let deployment = deploy_dir().join("kubernetes/deployment.yaml");
    let raw = std::fs::read_to_string(&deployment)
        .unwrap_or_else(|e| panic!("{}: {e}", deployment.display()));
    let image = raw
        .lines()
        .find_map(|l| l.trim().strip_prefix("image: "))
        .unwrap_or_else(|| panic!("{} names no image", deployment.display()));
    assert!(
        !image.contains(':'),
        "{}: set the tag in kustomization.yaml, not on {image}",
        deployment.display()
    );
    let (name, tag) = kustomize_image(image);
    assert_eq!(
        tag,
        env!("CARGO_PKG_VERSION"),
        "kustomization.yaml's tag of {image}"
    );
    let rendered_deployment = documents
        .iter()
        .find(|d| top_level(d, "kind") == Some("Deployment"))
        .unwrap_or_else(|| panic!("no Deployment rendered"));
    assert!(
        rendered_deployment.contains(&format!("image: {name}:{tag}\n")),
        "the rendered Deployment does not run {name}:{tag}:\n{rendered_deployment}"
    );
    let moved = render_overlay(
        work.path(),
        &format!(
            "images:\n  - name: {image}\n    newName: registry.test/ops/pforte\n    newTag: \"9.9.9\"\n"
        ),
    );
    assert!(
        moved.contains("image: registry.test/ops/pforte:9.9.9\n"),
        "an overlay's images: did not set the gateway's image:\n{moved}"
    );
    // The autoscaler scales that Deployment, which leaves the replica count to it.
    let hpa = documents
        .iter()
        .find(|d| top_level(d, "kind") == Some("HorizontalPodAutoscaler"))
        .unwrap_or_else(|| panic!("no HorizontalPodAutoscaler rendered"));
    assert!(
        hpa.contains("apiVersion: autoscaling/v2\n")
            && hpa.contains("kind: Deployment\n")
            && hpa.contains("name: pforte\n"),
        "the autoscaler does not scale the Deployment pforte:\n{hpa}"
    );
    assert!(
        !rendered_deployment.contains("\n  replicas:"),
        "the Deployment sets replicas: a re-apply would undo the autoscaler"
    );
    // gateway.toml of the ConfigMap passes `pforte check` but for the files the pod mounts, and
    // every file it names lies in one of the Deployment's mounts.
    let mounts: Vec<&str> = raw
        .lines()
        .filter_map(|l| l.split("mountPath: ").nth(1)?.split([',', ' ', '}']).next())
        .collect();
    let in_a_mount = |path: &str| {
        mounts
            .iter()
            .any(|m| path == *m || path.starts_with(&format!("{m}/")))
    };
    let gateway_toml = configmap_file(&rendered, "gateway.toml");
    let config = work.path().join("gateway.toml");
    std::fs::write(&config, &gateway_toml).unwrap_or_else(|e| panic!("{}: {e}", config.display()));
    let check = run(Command::new(pforte_e2e::gateway::pforte_bin())
        .arg("check")
        .arg("--config")
        .arg(&config));
    let problems = text(&check.stderr);
    assert!(
        !problems.trim().is_empty(),
        "pforte check found the pod's files on this machine?\n{check:?}"
    );
    for problem in problems.lines() {
        let missing = problem
            .split_once(" not found")
            .and_then(|(before, _)| before.rsplit(' ').next())
            .unwrap_or_else(|| panic!("configmap.yaml's gateway.toml: {problem}"));
        assert!(
            in_a_mount(missing),
            "{missing} is in none of the Deployment's mounts {mounts:?}: {problem}"
        );
    }
    for path in gateway_toml.split('"').filter(|p| p.starts_with('/')) {
        assert!(
            in_a_mount(path),
            "gateway.toml names {path}, in none of the Deployment's mounts {mounts:?}"
        );
    }
    let arg_config = "\"/etc/pforte/config/gateway.toml\"";
    assert!(
        raw.contains(arg_config) && in_a_mount(arg_config.trim_matches('"')),
        "the Deployment must start pforte with --config {arg_config}, in its config mount"
    );
    // The gateway asks the StatefulSet's sentinels, by the names the headless Service gives.
    for pod in 0..3 {
        let sentinel = format!("rediss://redis-{pod}.redis.pforte.svc.cluster.local:26379");
        assert!(
            rendered.contains(&sentinel),
            "gateway.toml does not list {sentinel}"
        );
    }
}

#[tokio::test]
async fn the_redis_sentinel_config_runs_on_real_redis_over_tls() {
    // The ConfigMap's redis.conf and sentinel.conf as they are, their paths moved into a
    // temporary folder and ports freed; the lines init.sh adds (the password, the primary to
    // watch, by host name) appended as it writes them.
    let manifest = deploy_dir().join("kubernetes/redis-sentinel.yaml");
    let yaml = std::fs::read_to_string(&manifest)
        .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary folder: {e}"));
    let dir = work.path();
    let tls = dir.join("tls");
    std::fs::create_dir(&tls).unwrap_or_else(|e| panic!("{}: {e}", tls.display()));
    let ca = pforte_e2e::pki::TestCa::new();
    let leaf = ca.leaf(&tls, "tls", &["localhost"]);
    assert!(leaf.cert.ends_with("tls.crt") && leaf.key.ends_with("tls.key"));
    ca.write_pem(&tls.join("ca.crt"));
    let moved = |text: String, data: &str| {
        text.replace("/tls/", &format!("{}/", tls.display()))
            .replace("dir /data", &format!("dir {}", dir.join(data).display()))
    };
    let init = configmap_file(&yaml, "init.sh");
    let syntax = run(Command::new("sh").arg("-n").arg("-c").arg(&init));
    assert!(syntax.status.success(), "init.sh: {syntax:?}");
    assert!(
        init.contains("sentinel monitor pforte ${primary} 6379 2"),
        "init.sh no longer watches the master `pforte` that gateway.toml names"
    );

    let (redis_port, sentinel_port) = (pforte_e2e::free_port(), pforte_e2e::free_port());
    std::fs::create_dir(dir.join("data")).unwrap_or_else(|e| panic!("data folder: {e}"));
    let redis_conf = format!(
        "{}\ntls-port {redis_port}\nrequirepass \"pw\"\nmasterauth \"pw\"\n",
        moved(configmap_file(&yaml, "redis.conf"), "data")
    );
    let sentinel_conf = format!(
        "{}\ntls-port {sentinel_port}\nsentinel monitor pforte localhost {redis_port} 1\n\
         sentinel auth-pass pforte \"pw\"\n",
        moved(configmap_file(&yaml, "sentinel.conf"), "data")
    );
    let _redis = RedisProcess::start(dir, "redis.conf", &redis_conf, &[]);
    let _sentinel = RedisProcess::start(dir, "sentinel.conf", &sentinel_conf, &["--sentinel"]);
    let cli = |port: u16, args: &[&str]| {
        let out = run(Command::new("redis-cli")
            .args(["--tls", "--cacert"])
            .arg(tls.join("ca.crt"))
            .args(["-p", &port.to_string(), "--no-auth-warning"])
            .args(args));
        text(&out.stdout)
    };
    // Over TLS, with the password, without a client certificate (tls-auth-clients no); the
    // sentinel reaches the primary by its name, over TLS, with the password.
    let answered = pforte_e2e::eventually(std::time::Duration::from_secs(10), async || {
        cli(redis_port, &["-a", "pw", "ping"]).trim() == "PONG"
            && cli(sentinel_port, &["sentinel", "master", "pforte"])
                .lines()
                .collect::<Vec<_>>()
                .windows(2)
                .any(|w| w[0] == "flags" && w[1] == "master")
    })
    .await;
    assert!(
        answered,
        "Redis or its sentinel with the ConfigMap's settings did not come up:\nredis: {}\nsentinel: {}\n{}",
        cli(redis_port, &["-a", "pw", "ping"]),
        cli(sentinel_port, &["sentinel", "master", "pforte"]),
        std::fs::read_to_string(dir.join("redis.conf.log")).unwrap_or_default()
            + &std::fs::read_to_string(dir.join("sentinel.conf.log")).unwrap_or_default()
    );
    let master = cli(
        sentinel_port,
        &["sentinel", "get-master-addr-by-name", "pforte"],
    );
    assert_eq!(
        master.split_whitespace().collect::<Vec<_>>(),
        ["localhost", &redis_port.to_string()],
        "the sentinel must name the primary by its host name (announce-hostnames)"
    );
}

/// A `redis-server` on a config file of its own, stopped when dropped.
struct RedisProcess(std::process::Child);

impl RedisProcess {
    fn start(dir: &Path, name: &str, config: &str, args: &[&str]) -> Self {
        let file = dir.join(name);
        std::fs::write(&file, config).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let child = Command::new("redis-server")
            .arg(&file)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start redis-server (tests/run installs it): {e}"));
        Self(child)
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A file of a ConfigMap in `yaml` (`  NAME: |` and its lines, four spaces in).
fn configmap_file(yaml: &str, name: &str) -> String {
    let start = format!("  {name}: |\n");
    let rest = yaml
        .split_once(&start)
        .unwrap_or_else(|| panic!("no {name} in the ConfigMap"))
        .1;
    rest.lines()
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `kubectl kustomize deploy/kubernetes` (`$PFORTE_KUBECTL` names another kubectl, e.g. Debian's
/// 1.20 with its old kustomize, which the kustomization must also suit).
fn render_kustomization() -> String {
    render(&deploy_dir().join("kubernetes"))
}

/// An overlay of a copy of deploy/kubernetes with `extra` in its kustomization, rendered.
/// (`bases:`, not `resources:`, for a folder: kustomize 2.0.3 knows only that one.)
fn render_overlay(work: &Path, extra: &str) -> String {
    let base = work.join("base");
    let copied = run(Command::new("cp")
        .arg("-r")
        .arg(deploy_dir().join("kubernetes"))
        .arg(&base));
    assert!(
        copied.status.success(),
        "copying deploy/kubernetes: {copied:?}"
    );
    let overlay = work.join("overlay");
    std::fs::create_dir(&overlay).unwrap_or_else(|e| panic!("{}: {e}", overlay.display()));
    let file = overlay.join("kustomization.yaml");
    std::fs::write(&file, format!("bases:\n  - ../base\n{extra}"))
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    render(&overlay)
}

/// `kubectl kustomize DIR`: the rendered objects, or the test fails with kubectl's errors.
fn render(dir: &Path) -> String {
    let kubectl = std::env::var_os("PFORTE_KUBECTL").unwrap_or_else(|| "kubectl".into());
    let out = run(Command::new(&kubectl).arg("kustomize").arg(dir));
    assert!(
        out.status.success(),
        "{} kustomize {} failed:\n{}",
        kubectl.to_string_lossy(),
        dir.display(),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// `newName` and `newTag` of the image `name` in kustomization.yaml's `images:`.
fn kustomize_image(name: &str) -> (String, String) {
    let file = deploy_dir().join("kubernetes/kustomization.yaml");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let entry = text
        .split("- name: ")
        .find_map(|e| e.strip_prefix(&format!("{name}\n")))
        .unwrap_or_else(|| panic!("{} has no images: entry for {name}", file.display()));
    let field = |key: &str| {
        entry
            .lines()
            .take_while(|l| !l.trim_start().starts_with('-'))
            .find_map(|l| l.trim().strip_prefix(key))
            .map(|v| v.trim().trim_matches('"').to_string())
            .unwrap_or_else(|| panic!("{}: the {name} image has no {key}", file.display()))
    };
    (field("newName:"), field("newTag:"))
}

/// A top-level field of a rendered YAML document (kustomize writes them unindented).
fn top_level<'a>(document: &'a str, key: &str) -> Option<&'a str> {
    document
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(": "))
        .map(str::trim)
}
