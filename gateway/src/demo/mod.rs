//! `pforte demo`: the whole gateway on one machine with nothing to prepare. It makes a state
//! folder with a self-signed certificate for `localhost` and `*.localhost`, the demo apps file,
//! the demo policy and a `gateway.toml`, starts a small demo app on each app's loopback upstream address, and then
//! runs the real server on those files, so the demo exercises exactly the production code path.

pub mod cert;
pub mod mfa;
pub mod upstream;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::config::apps;
use crate::server::{self, ServerError};

/// The demo's apps file, compiled in so the demo needs no checkout.
pub const DEMO_APPS: &str = include_str!("../../../policies/apps.toml");

/// The demo's OpenID Connect clients (for its own apps file only: they name its apps).
pub const DEMO_CLIENTS: &str = include_str!("../../../policies/clients.toml");

/// The demo's policy files (entry file first), compiled in like the apps, as (path, text).
pub const DEMO_POLICY: [(&str, &str); 5] = [
    ("policy.toml", include_str!("../../../policies/policy.toml")),
    (
        "policy.d/admin.toml",
        include_str!("../../../policies/policy.d/admin.toml"),
    ),
    (
        "policy.d/partners.toml",
        include_str!("../../../policies/policy.d/partners.toml"),
    ),
    (
        "policy.d/projects.toml",
        include_str!("../../../policies/policy.d/projects.toml"),
    ),
    (
        "policy.d/wiki.toml",
        include_str!("../../../policies/policy.d/wiki.toml"),
    ),
];

/// The demo's login host.
pub const PORTAL_HOST: &str = "login.localhost";

/// What the demo needs from the command line.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Where certificate and files are kept between runs.
    pub state_dir: PathBuf,
    /// HTTPS listen address.
    pub listen: SocketAddr,
    /// Admin listen address.
    pub admin: SocketAddr,
    /// An apps file to use instead of the embedded one.
    pub apps_file: Option<PathBuf>,
    /// A policy entry file to use instead of the embedded one.
    pub policy_file: Option<PathBuf>,
}

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The state folder could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The certificate could not be made.
    #[error("cannot make the demo certificate: {0}")]
    Cert(#[from] rcgen::Error),
    /// The apps file is invalid.
    #[error(transparent)]
    Apps(#[from] crate::config::ConfigErrors),
    /// A demo app could not listen on its upstream address.
    #[error("demo app {app} cannot listen on {addr}: {source} (is another demo still running?)")]
    Upstream {
        /// The app.
        app: String,
        /// Its address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The demo's signing key could not be made.
    #[error(transparent)]
    Keys(#[from] pforte_keys::KeyError),
    /// The demo's second factors could not be prepared.
    #[error("cannot prepare the demo's second factors: {0}")]
    Mfa(String),
    /// The gateway itself failed.
    #[error(transparent)]
    Server(#[from] ServerError),
}

/// The default state folder: `$XDG_STATE_HOME/pforte/demo`, else `~/.local/state/pforte/demo`.
pub fn default_state_dir() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("pforte").join("demo")
}

/// The demo's chained audit log: `audit.jsonl` in the state folder (made here, before logging
/// starts), signed with a key in `audit-keys` beside it, as its `gateway.toml` says too.
pub fn audit_settings(state_dir: &Path) -> Result<crate::config::Audit, DemoError> {
    create_dir(state_dir)?;
    Ok(crate::config::Audit::new(
        Some(state_dir.join(AUDIT_FILE)),
        crate::config::audit::host_name(),
        state_dir.join("audit-keys"),
    ))
}

/// The demo's audit log, in its state folder.
const AUDIT_FILE: &str = "audit.jsonl";

/// Prepares the state folder, starts the demo apps and runs the gateway until it is stopped.
pub async fn run(options: DemoOptions) -> Result<(), DemoError> {
    let dir = &options.state_dir;
    create_dir(dir)?;
    let apps_file = match &options.apps_file {
        Some(path) => path.clone(),
        None => {
            let path = dir.join("apps.toml");
            write(&path, DEMO_APPS)?;
            path
        }
    };
    let policy_file = match &options.policy_file {
        Some(path) => path.clone(),
        None => {
            create_dir(&dir.join("policy.d"))?;
            for (name, text) in DEMO_POLICY {
                write(&dir.join(name), text)?;
            }
            dir.join(DEMO_POLICY[0].0)
        }
    };
    let keys_dir = dir.join("keys");
    ensure_keys(&keys_dir)?;
    // The people file is kept between runs: the second factors people enrol live in it.
    let people_file = dir.join("people.toml");
    if !people_file.exists() {
        write(&people_file, pforte_directory::DEMO_PEOPLE)?;
    }
    let mfa_key = mfa::ensure_key(&dir.join("mfa.key"))?;
    let alice = mfa::ensure_alice(&people_file, &mfa_key, "Pforte").await?;
    let clients_file = options
        .apps_file
        .is_none()
        .then(|| dir.join("clients.toml"));
    if let Some(path) = &clients_file {
        write(path, DEMO_CLIENTS)?;
    }
    let apps = apps::load(&apps_file)?;
    let mut hosts = vec![PORTAL_HOST.to_string()];
    hosts.extend(apps.iter().flat_map(|app| app.hosts.iter().cloned()));
    let cert = cert::ensure(dir, &hosts)?;
    let config_path = dir.join("gateway.toml");
    write(
        &config_path,
        &gateway_toml(
            &options,
            &cert,
            &apps_file,
            &policy_file,
            clients_file.as_deref(),
        ),
    )?;
    let started = upstream::start_all(&apps).await?;

    let port = options.listen.port();
    println!(
        "\nPforte demo is starting. Open these in your browser (the certificate is self-signed:"
    );
    println!("accept it once, or trust {}):\n", cert.cert.display());
    println!("  start page      https://{PORTAL_HOST}:{port}/");
    for app in &apps {
        if let Some(host) = app.hosts.first() {
            println!("  {:<15} https://{host}:{port}/", app.name);
        }
    }
    println!(
        "\n  log in as alice / alicepw (staff, admins), bob / bobpw (partner: video and files),"
    );
    println!(
        "  carol / carolpw (staff); the people are in {}",
        people_file.display()
    );
    println!(
        "\n  the admin console asks for a second factor: alice's authenticator app is\n    {}\n  \
         scan it, or get a code with `oathtool --totp -b {}` (Debian: apt install oathtool);\n  \
         carol adds a passkey at https://{PORTAL_HOST}:{port}/security",
        alice.uri, alice.secret
    );
    if let Some(clients) = &clients_file {
        println!(
            "\n  OpenID Connect  https://{PORTAL_HOST}:{port}/.well-known/openid-configuration"
        );
        println!("                  clients in {}", clients.display());
    }
    println!("\n  metrics         http://{}/metrics", options.admin);
    println!("  files           {}", dir.display());
    println!("  demo apps       {} on loopback", started);
    println!(
        "  audit log       {}, hash-chained and signed; check it with\n                  pforte-admin --config {} audit verify {}",
        dir.join(AUDIT_FILE).display(),
        config_path.display(),
        dir.join(AUDIT_FILE).display()
    );
    println!(
        "  admin tool      pforte-admin --config {} policy explain --user bob https://video.localhost/\n",
        config_path.display()
    );
    server::run(&config_path).await?;
    Ok(())
}

fn gateway_toml(
    options: &DemoOptions,
    cert: &cert::DemoCert,
    apps_file: &Path,
    policy_file: &Path,
    clients_file: Option<&Path>,
) -> String {
    let oidc = clients_file.map_or_else(String::new, |path| {
        format!("[oidc]\nclients = {:?}\n\n", path.display().to_string())
    });
    format!(
        "# Written by `pforte demo` on every start; edit a copy and run it with `pforte run --config`.\n\
[server]\nlisten = [\"{listen}\"]\n\n[admin]\nlisten = \"{admin}\"\n\n\
[[tls.certificates]]\ncert = {cert:?}\nkey = {key:?}\n\n\
[portal]\nhost = \"{portal}\"\n\n[apps]\nfile = {apps:?}\n\n[policy]\nfile = {policy:?}\n\n\
[directory]\nbackend = \"file\"\nfile = \"people.toml\"\n\n[keys]\ndir = \"keys\"\n\n\
[mfa]\nkey = {{ file = \"mfa.key\" }}\n\n{oidc}[log]\nformat = \"text\"\nlevel = \"info\"\naudit_file = \"{AUDIT_FILE}\"\n\n\
[audit]\nkey_dir = \"audit-keys\"\n",
        listen = options.listen,
        portal = PORTAL_HOST,
        admin = options.admin,
        cert = cert.cert.display().to_string(),
        key = cert.key.display().to_string(),
        apps = apps_file.display().to_string(),
        policy = policy_file.display().to_string(),
    )
}

/// A signing key for the demo's identity assertions, made on the first start and kept.
fn ensure_keys(dir: &Path) -> Result<(), DemoError> {
    create_dir(dir)?;
    let keys = pforte_keys::KeyDir::new(dir);
    if keys.list()?.is_empty() {
        let now = pforte_session::Clock::system().now().unix_secs();
        keys.generate(pforte_keys::KeySpec::Es256, now)?;
    }
    Ok(())
}

fn create_dir(path: &Path) -> Result<(), DemoError> {
    std::fs::create_dir_all(path).map_err(|source| DemoError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn write(path: &Path, text: &str) -> Result<(), DemoError> {
    std::fs::write(path, text).map_err(|source| DemoError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_policy_loads_against_embedded_apps() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("policy.d")).unwrap();
        for (name, text) in DEMO_POLICY {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let apps = apps::parse(Path::new("policies/apps.toml"), DEMO_APPS).unwrap();
        let loaded = crate::policy::load(&dir.path().join("policy.toml"), &apps).unwrap();
        let on_disk =
            std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/policy.d"))
                .unwrap()
                .count();
        assert_eq!(
            loaded.policy.file_count(),
            1 + on_disk,
            "every policy.d file is embedded"
        );
    }

    #[test]
    fn embedded_apps_file_is_valid() {
        let apps = apps::parse(Path::new("policies/apps.toml"), DEMO_APPS).unwrap();
        let names: Vec<&str> = apps.iter().map(|a| a.name.as_str()).collect();
        for needed in ["mail", "docs", "video"] {
            assert!(names.contains(&needed), "{names:?}");
        }
    }
}
