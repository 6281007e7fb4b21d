//! Load driver for `tests/bench/oidc.sh` and `tests/bench/federation.sh`: one OAuth grant
//! against any OpenID provider found by discovery, or one kind of login at Pforte's login host,
//! over and over, on N keep-alive HTTPS connections for a fixed time.
//!
//! ```text
//! --grant G:  discovery ─▶ N workers (one connection each; refresh: each its own token chain;
//!                          exchange: each its own access token to trade)
//! --login L:  (federated: the stub provider starts on a thread of its own, provider.rs)
//!             ─▶ N workers (one connection and one person each; logins.rs)
//!          ─▶ warm-up ─▶ measured window (ops, latencies, CPU of the given processes) ─▶ report
//! ```
//!
//! The report is `key=value` lines on standard output: `ops_per_second`, `errors`, `p50_ms`,
//! `p99_ms`, `driver_cpu_share`, and for every `--pid NAME=PID` `cpu_share_NAME` (CPU seconds
//! per second of the window), `ops_per_cpu_second_NAME` (operations per CPU second: the
//! per-core figure) and `cpu_us_per_op_NAME`, and with several `ops_per_cpu_second_all` (their
//! CPU added up). Federated logins add the stub provider's figures: `stub_cpu_share` (its
//! thread, part of `driver_cpu_share`), `provider_connections` (connections Pforte opened to it
//! in the window, each a TLS handshake), `provider_connections_total` (since it started),
//! `provider_tokens` (codes it exchanged in the window) and `provider_refused`.

mod conn;
mod cpu;
mod grants;
mod logins;
mod provider;
mod worker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{ArgGroup, Parser, ValueEnum};
use http::Uri;

use crate::conn::Target;
use crate::grants::Client;
use crate::logins::Login;
use crate::worker::{Shared, Work, Worker};

/// Which grant to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Grant {
    /// `grant_type=client_credentials` with Basic authentication.
    ClientCredentials,
    /// `grant_type=refresh_token`, each connection rotating its own chain.
    Refresh,
    /// authorization request with the session cookie, then the code for tokens (PKCE).
    Code,
    /// token exchange (RFC 8693): each connection trades one access token, got by a code
    /// exchange during warm-up, again and again for one to `--audience`.
    Exchange,
}

/// Which login to measure (at Pforte's login host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LoginKind {
    /// Through the stub partner provider: start, the provider's code, callback.
    Federated,
    /// The login form with the directory's password.
    Directory,
}

#[derive(Debug, Parser)]
#[command(about = "OAuth grants or Pforte logins per second")]
#[command(group(ArgGroup::new("what").required(true).args(["grant", "login"])))]
struct Args {
    /// The grant to measure.
    #[arg(long, value_enum)]
    grant: Option<Grant>,
    /// The login to measure.
    #[arg(long, value_enum)]
    login: Option<LoginKind>,
    /// The server's URL: the provider's issuer for grants (discovery is fetched from it),
    /// Pforte's login origin for logins. Its host is used for SNI, the certificate check and
    /// `Host`.
    #[arg(long)]
    issuer: Uri,
    /// Where to connect (the issuer's name need not resolve).
    #[arg(long)]
    connect: SocketAddr,
    /// PEM file of the CA that signed the server's certificate.
    #[arg(long)]
    ca: PathBuf,
    /// The client's id (grants).
    #[arg(long, required_unless_present = "login")]
    client_id: Option<String>,
    /// The client's secret (grants; client_secret_basic).
    #[arg(long, required_unless_present = "login")]
    client_secret: Option<String>,
    /// The client's registered redirect URI; authorization responses must come back to it
    /// (grants).
    #[arg(long, required_unless_present = "login")]
    redirect_uri: Option<String>,
    /// Scopes asked for at the authorization endpoint.
    #[arg(long, default_value = "openid profile email")]
    scope: String,
    /// Scope asked for with client_credentials.
    #[arg(long)]
    service_scope: Option<String>,
    /// The client id a token exchange asks a token for (the exchange grant).
    #[arg(long)]
    audience: Option<String>,
    /// File with one `Cookie` header value per line, each an SSO session (code and refresh
    /// grants); worker i uses line i modulo their number, as people with their own sessions.
    #[arg(long)]
    cookies: Option<PathBuf>,
    /// The user name of directory logins.
    #[arg(long, required_if_eq("login", "directory"))]
    username: Option<String>,
    /// Their password.
    #[arg(long, required_if_eq("login", "directory"))]
    password: Option<String>,
    /// Federated logins: Pforte's id of the partner provider (`/federation/{id}/…`).
    #[arg(long, required_if_eq("login", "federated"))]
    provider_id: Option<String>,
    /// Federated logins: the stub provider's issuer, `https://IP:PORT`, where it listens.
    #[arg(long, required_if_eq("login", "federated"))]
    provider_issuer: Option<Uri>,
    /// The stub provider's TLS certificate chain (PEM; Pforte trusts its CA via ca_file).
    #[arg(long, required_if_eq("login", "federated"))]
    provider_cert: Option<PathBuf>,
    /// The key of that certificate (PEM).
    #[arg(long, required_if_eq("login", "federated"))]
    provider_key: Option<PathBuf>,
    /// The stub provider's ID token signing key (PEM, PKCS#8, P-256: ES256).
    #[arg(long, required_if_eq("login", "federated"))]
    provider_signing_key: Option<PathBuf>,
    /// Pforte's client id at the stub provider.
    #[arg(long, default_value = "pforte")]
    provider_client_id: String,
    /// Pforte's client secret at the stub provider.
    #[arg(long, required_if_eq("login", "federated"))]
    provider_client_secret: Option<String>,
    /// Keep-alive connections, one worker each.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds of warm-up before measuring (refresh chains start here).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// `NAME=PID` of a process whose CPU use to report (repeatable).
    #[arg(long = "pid")]
    pids: Vec<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pids = args
        .pids
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(n, p)| (n.to_owned(), p.to_owned()))
                .with_context(|| format!("--pid {p}: write NAME=PID"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let target = Arc::new(Target::new(args.connect, &args.issuer, &args.ca)?);
    let (work, cookies, stub) = match (args.grant, args.login) {
        (_, Some(kind)) => {
            let (login, stub) = login(&args, kind)?;
            (Work::Login(Arc::new(login)), Vec::new(), stub)
        }
        (Some(grant), None) => {
            let (client, cookies) = grant_client(&args, grant, &target).await?;
            (Work::Grant(grant, Arc::new(client)), cookies, None)
        }
        (None, None) => bail!("say --grant or --login"),
    };

    let shared = Arc::new(Shared::default());
    let workers = (0..args.connections)
        .map(|i| {
            let cookie = cookies
                .get(i % cookies.len().max(1))
                .cloned()
                .unwrap_or_default();
            let worker = Worker::new(target.clone(), work.clone(), shared.clone(), cookie, i);
            tokio::spawn(worker.run())
        })
        .collect::<Vec<_>>();

    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    let cpu_before = cpu_seconds(&pids)?;
    let self_before = cpu::seconds("self")?;
    let stub_before = stub.as_ref().map(StubMark::take).transpose()?;
    // A benchmark's window is wall-clock time (the repository's clippy.toml asks for its Clock).
    #[allow(clippy::disallowed_methods)]
    let started = Instant::now();
    shared.measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs_f64(args.duration)).await;
    shared.measuring.store(false, Ordering::Relaxed);
    let window = started.elapsed().as_secs_f64();
    let cpu_after = cpu_seconds(&pids)?;
    let self_used = cpu::seconds("self")? - self_before;
    let stub_after = stub.as_ref().map(StubMark::take).transpose()?;
    shared.stop.store(true, Ordering::Relaxed);

    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await?);
    }
    latencies.sort_unstable();
    let ops = latencies.len();
    let percentile = |p: f64| -> f64 {
        let i = ((ops as f64 * p) as usize).min(ops.saturating_sub(1));
        latencies.get(i).map_or(0.0, |us| f64::from(*us) / 1000.0)
    };
    println!("ops_per_second={:.0}", ops as f64 / window);
    println!("errors={}", shared.errors.load(Ordering::Relaxed));
    println!("p50_ms={:.2}", percentile(0.5));
    println!("p99_ms={:.2}", percentile(0.99));
    println!("driver_cpu_share={:.2}", self_used / window);
    let per_cpu = |used: f64| if used > 0.0 { ops as f64 / used } else { 0.0 };
    let mut used_by_all = 0.0;
    for ((name, _), (before, after)) in pids.iter().zip(cpu_before.iter().zip(&cpu_after)) {
        let used = after - before;
        used_by_all += used;
        println!("cpu_share_{name}={:.2}", used / window);
        println!("ops_per_cpu_second_{name}={:.0}", per_cpu(used));
        println!("cpu_us_per_op_{name}={:.1}", used * 1e6 / ops.max(1) as f64);
    }
    if pids.len() > 1 {
        println!("ops_per_cpu_second_all={:.0}", per_cpu(used_by_all));
    }
    if let (Some(before), Some(after), Some(stub)) = (stub_before, stub_after, &stub) {
        println!("stub_cpu_share={:.2}", (after.cpu - before.cpu) / window);
        println!(
            "provider_connections={}",
            after.connections - before.connections
        );
        println!("provider_connections_total={}", after.connections);
        println!("provider_tokens={}", after.tokens - before.tokens);
        println!(
            "provider_refused={}",
            stub.counts.refused.load(Ordering::Relaxed)
        );
    }
    if ops == 0 {
        bail!("nothing completed");
    }
    Ok(())
}

/// The client of the OAuth grants, from the arguments and the provider's discovery document,
/// and the SSO sessions the grants that need one use.
async fn grant_client(
    args: &Args,
    grant: Grant,
    target: &Target,
) -> anyhow::Result<(Client, Vec<String>)> {
    let (authorize_path, token_path) = discover(target, &args.issuer).await?;
    let cookies: Vec<String> = match &args.cookies {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading {}", path.display()))?
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        None => Vec::new(),
    };
    if grant != Grant::ClientCredentials && cookies.is_empty() {
        bail!("the {grant:?} grant needs --cookies with at least one session");
    }
    let required = |value: &Option<String>, name: &str| {
        value
            .clone()
            .with_context(|| format!("grants need --{name}"))
    };
    let id = required(&args.client_id, "client-id")?;
    let secret = required(&args.client_secret, "client-secret")?;
    let client = Client {
        basic: Client::basic_auth(&id, &secret),
        id,
        redirect_uri: required(&args.redirect_uri, "redirect-uri")?,
        scope: args.scope.clone(),
        service_scope: args.service_scope.clone(),
        audience: args.audience.clone(),
        authorize_path,
        token_path,
    };
    Ok((client, cookies))
}

/// The login to make, and for federated logins the stub provider, started.
fn login(args: &Args, kind: LoginKind) -> anyhow::Result<(Login, Option<provider::Running>)> {
    let origin = args.issuer.to_string();
    let origin = origin.trim_end_matches('/');
    let required = |value: &Option<String>, name: &str| {
        value
            .clone()
            .with_context(|| format!("--login {kind:?} needs --{name}"))
    };
    let path = |value: &Option<PathBuf>, name: &str| {
        value
            .clone()
            .with_context(|| format!("--login {kind:?} needs --{name}"))
    };
    match kind {
        LoginKind::Directory => Ok((
            Login::Directory(logins::Directory::new(
                origin,
                &required(&args.username, "username")?,
                &required(&args.password, "password")?,
            )),
            None,
        )),
        LoginKind::Federated => {
            let id = required(&args.provider_id, "provider-id")?;
            let issuer = args
                .provider_issuer
                .clone()
                .context("--login federated needs --provider-issuer")?;
            let redirect_uri = format!("{origin}/federation/{id}/callback");
            let login = logins::Federated::new(
                &id,
                &issuer.to_string(),
                &args.provider_client_id,
                &redirect_uri,
            );
            let running = provider::start(provider::Settings {
                issuer,
                cert: path(&args.provider_cert, "provider-cert")?,
                key: path(&args.provider_key, "provider-key")?,
                signing_key: path(&args.provider_signing_key, "provider-signing-key")?,
                client_id: args.provider_client_id.clone(),
                client_secret: required(&args.provider_client_secret, "provider-client-secret")?,
                redirect_uri,
            })?;
            Ok((Login::Federated(login), Some(running)))
        }
    }
}

/// The stub provider's counters and CPU time at one moment.
struct StubMark {
    cpu: f64,
    connections: u64,
    tokens: u64,
}

impl StubMark {
    fn take(stub: &provider::Running) -> anyhow::Result<Self> {
        Ok(Self {
            cpu: cpu::seconds(&stub.thread)?,
            connections: stub.counts.connections.load(Ordering::Relaxed),
            tokens: stub.counts.tokens.load(Ordering::Relaxed),
        })
    }
}

/// The authorization and token endpoints' paths, from the provider's discovery document.
async fn discover(target: &Target, issuer: &Uri) -> anyhow::Result<(String, String)> {
    let mut conn = target.connect().await?;
    let base = issuer.path().trim_end_matches('/');
    let reply = conn
        .get(&format!("{base}/.well-known/openid-configuration"), None)
        .await?;
    if !reply.status.is_success() {
        bail!("discovery answered {}", reply.status);
    }
    let doc: serde_json::Value = serde_json::from_slice(&reply.body)?;
    let path_of = |member: &str| -> anyhow::Result<String> {
        let url: Uri = doc
            .get(member)
            .and_then(|v| v.as_str())
            .with_context(|| format!("discovery lacks {member}"))?
            .parse()?;
        if url.authority() != issuer.authority() {
            bail!("{member} is on another host: {url}");
        }
        Ok(url.path().to_owned())
    };
    Ok((
        path_of("authorization_endpoint")?,
        path_of("token_endpoint")?,
    ))
}

fn cpu_seconds(pids: &[(String, String)]) -> anyhow::Result<Vec<f64>> {
    pids.iter().map(|(_, pid)| cpu::seconds(pid)).collect()
}
