//! `pforte keys list|generate|rotate|retire`: the signing keys in the directory every replica
//! shares (`[keys] dir` in gateway.toml, or `--dir`). Replicas pick a change up by watching the
//! folder. Rotation order that never breaks a client: `generate` (a `next` key is published),
//! wait longer than clients cache the JWKS, then `rotate` (it signs; the old key is retired but
//! stays published for `retire_after`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand, ValueEnum};
use pforte::config::Config;
use pforte_keys::{KeyDir, KeyInfo, KeySpec};

/// `pforte keys ...`
#[derive(Subcommand)]
pub enum KeysCommand {
    /// The keys with their algorithm, state and dates.
    List {
        #[command(flatten)]
        dir: DirArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make a new key: the next one (published, not yet signing), or the active one when there
    /// is none. The folder is created if missing.
    #[command(after_help = "Example:\n  pforte keys generate --dir /etc/pforte/keys --alg es256")]
    Generate {
        #[command(flatten)]
        dir: DirArg,
        /// The algorithm.
        #[arg(long, value_enum, default_value_t = AlgArg::Es256)]
        alg: AlgArg,
    },
    /// The next key starts signing, the active one is retired (still published), and a new next
    /// key is made.
    Rotate {
        #[command(flatten)]
        dir: DirArg,
    },
    /// Stop publishing a key early (never the only active one).
    Retire {
        /// The key id.
        kid: String,
        #[command(flatten)]
        dir: DirArg,
    },
}

/// Where the keys are: `--dir`, else `[keys] dir` of the config file.
#[derive(Args)]
pub struct DirArg {
    /// The key directory.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The gateway config whose `[keys] dir` to use.
    #[arg(
        long,
        short,
        env = "PFORTE_CONFIG",
        default_value = "/etc/pforte/gateway.toml"
    )]
    config: PathBuf,
}

/// Key kinds on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum AlgArg {
    /// ECDSA P-256 (the default: small and fast).
    Es256,
    /// RSA 2048 bits.
    Rs256,
    /// RSA 3072 bits.
    Rs256_3072,
    /// Ed25519.
    Eddsa,
}

impl AlgArg {
    fn spec(self) -> KeySpec {
        match self {
            Self::Es256 => KeySpec::Es256,
            Self::Rs256 => KeySpec::Rs256Bits2048,
            Self::Rs256_3072 => KeySpec::Rs256Bits3072,
            Self::Eddsa => KeySpec::Ed25519,
        }
    }
}

/// Runs one keys command.
pub fn run(command: KeysCommand) -> ExitCode {
    match execute(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("pforte keys: {message}");
            ExitCode::FAILURE
        }
    }
}

fn execute(command: KeysCommand) -> Result<(), String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    match command {
        KeysCommand::List { dir, json } => {
            let keys = key_dir(&dir)?.list().map_err(|e| e.to_string())?;
            if json {
                let rows: Vec<serde_json::Value> = keys.iter().map(json_row).collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                println!(
                    "{:<24} {:<6} {:<8} {:>12} {:>12} {:>12}",
                    "KID", "ALG", "STATE", "CREATED", "ACTIVATED", "RETIRED"
                );
                for key in &keys {
                    println!(
                        "{:<24} {:<6} {:<8} {:>12} {:>12} {:>12}",
                        key.kid,
                        key.alg.as_str(),
                        format!("{:?}", key.state).to_lowercase(),
                        key.created,
                        key.activated.map_or("-".into(), |t| t.to_string()),
                        key.retired.map_or("-".into(), |t| t.to_string()),
                    );
                }
            }
        }
        KeysCommand::Generate { dir, alg } => {
            let path = dir_path(&dir)?;
            create_private_dir(&path)?;
            let kid = KeyDir::new(&path)
                .generate(alg.spec(), now)
                .map_err(|e| e.to_string())?;
            println!("{kid}");
        }
        KeysCommand::Rotate { dir } => {
            let rotation = key_dir(&dir)?.rotate(now).map_err(|e| e.to_string())?;
            println!(
                "signing now: {}; retired (still published): {}; next: {}",
                rotation.activated, rotation.retired, rotation.next
            );
        }
        KeysCommand::Retire { kid, dir } => {
            key_dir(&dir)?
                .retire(&kid, now)
                .map_err(|e| e.to_string())?;
            println!("retired {kid}");
        }
    }
    Ok(())
}

fn json_row(key: &KeyInfo) -> serde_json::Value {
    serde_json::json!({
        "kid": key.kid,
        "alg": key.alg.as_str(),
        "state": format!("{:?}", key.state).to_lowercase(),
        "created": key.created,
        "activated": key.activated,
        "retired": key.retired,
    })
}

fn dir_path(arg: &DirArg) -> Result<PathBuf, String> {
    if let Some(dir) = &arg.dir {
        return Ok(dir.clone());
    }
    let config = Config::load(&arg.config).map_err(|e| e.to_string())?;
    config
        .keys
        .map(|keys| keys.dir)
        .ok_or_else(|| format!("{} has no [keys] dir; give --dir", arg.config.display()))
}

fn key_dir(arg: &DirArg) -> Result<KeyDir, String> {
    let path = dir_path(arg)?;
    if !path.is_dir() {
        return Err(format!("{} is not a folder", path.display()));
    }
    Ok(KeyDir::new(path))
}

/// Makes the key folder readable by its owner only.
fn create_private_dir(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    if path.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))
}
