//! `keys list|generate|rotate|retire` over the key folder every replica watches: `--dir`, else the
//! config's `[keys] dir`. Every change is audited (in the config's audit log, when a config is
//! read: with `--dir` and no config named there is none), and rotate and retire ask first. Safe
//! rotation order: `generate` (a next key is published), wait longer than clients cache the
//! JWKS, then `rotate`. `--dir` needs no config, so the first key can be made before there is a
//! config that loads (one naming a key folder that does not exist yet is refused).

use std::path::PathBuf;

use pforte_keys::{KeyDir, KeyInfo, KeySpec};
use serde::Serialize;

use super::Ctx;
use crate::audit::{self, KeyChange};
use crate::confirm::confirm;
use crate::error::{CmdError, Exit};
use crate::opt::{AlgArg, KeysArgs, KeysCommand};
use crate::output::{self, Table};

/// Runs one keys command.
pub fn run(ctx: &Ctx, args: KeysArgs) -> Result<Exit, CmdError> {
    let dir = key_dir(ctx, args.dir)?;
    let now = ctx.now().unix_secs();
    match args.command {
        KeysCommand::List { json } => list(&dir, json.json)?,
        KeysCommand::Generate { alg } => {
            let kid = dir.generate(spec(alg), now)?;
            audit::key_change(KeyChange::Generated, &kid, &ctx.by);
            println!("{kid}");
        }
        KeysCommand::Rotate => {
            confirm(
                "rotate the signing key (the next key signs; the active one is retired)?",
                ctx.yes,
            )?;
            let rotation = dir.rotate(now)?;
            audit::key_change(KeyChange::Rotated, &rotation.activated, &ctx.by);
            println!(
                "signing now: {}; retired (still published): {}; next: {}",
                rotation.activated, rotation.retired, rotation.next
            );
        }
        KeysCommand::Retire { kid } => {
            confirm(&format!("stop publishing key {kid}?"), ctx.yes)?;
            dir.retire(&kid, now)?;
            audit::key_change(KeyChange::Retired, &kid, &ctx.by);
            println!("retired {kid}");
        }
    }
    Ok(Exit::OK)
}

/// The key folder: `--dir`, else the config's `[keys] dir`.
fn key_dir(ctx: &Ctx, dir: Option<PathBuf>) -> Result<KeyDir, CmdError> {
    if let Some(dir) = dir {
        return Ok(KeyDir::new(dir));
    }
    let config = ctx.config()?;
    let keys = config
        .keys
        .as_ref()
        .ok_or_else(|| CmdError::NoKeys(config.source.display().to_string()))?;
    Ok(KeyDir::new(&keys.dir).with_retire_after(keys.retire_after))
}

fn spec(alg: AlgArg) -> KeySpec {
    match alg {
        AlgArg::Es256 => KeySpec::Es256,
        AlgArg::Rs256 => KeySpec::Rs256Bits2048,
        AlgArg::Rs256_3072 => KeySpec::Rs256Bits3072,
        AlgArg::Eddsa => KeySpec::Ed25519,
    }
}

/// One key as listed.
#[derive(Serialize)]
struct Row {
    kid: String,
    alg: &'static str,
    state: String,
    created: u64,
    activated: Option<u64>,
    retired: Option<u64>,
}

impl From<&KeyInfo> for Row {
    fn from(key: &KeyInfo) -> Self {
        Self {
            kid: key.kid.clone(),
            alg: key.alg.as_str(),
            state: format!("{:?}", key.state).to_lowercase(),
            created: key.created,
            activated: key.activated,
            retired: key.retired,
        }
    }
}

fn list(dir: &KeyDir, json: bool) -> Result<(), CmdError> {
    let rows: Vec<Row> = dir.list()?.iter().map(Row::from).collect();
    let mut table = Table::new(&["KID", "ALG", "STATE", "CREATED", "ACTIVATED", "RETIRED"]);
    let time = |t: Option<u64>| t.map_or_else(|| "-".to_string(), output::time);
    for row in &rows {
        table.row(vec![
            row.kid.clone(),
            row.alg.to_string(),
            row.state.clone(),
            output::time(row.created),
            time(row.activated),
            time(row.retired),
        ]);
    }
    output::show(json, &rows, &table)
}
