//! `policy check|explain|diff|who-can`: the gateway's own policy tools
//! (`pforte::policy::tools`), with the config's policy and apps file as defaults and the live
//! directory as the people to ask about, so the answers are the gateway's decisions. Given a
//! policy folder, `--groups` or a users file instead, they read those files only: the config is
//! asked only for what the command line leaves open.

use std::path::Path;

use pforte::policy::engine::{Decision, DiffOptions, ExplainQuery, UserGroups};
use pforte::policy::tools::{self, PolicySource};
use serde::Serialize;

use super::Ctx;
use crate::error::{CmdError, Exit};
use crate::opt::{Assumed, PolicyCommand};
use crate::output::{self, Table};

/// Runs one policy command.
pub async fn run(ctx: &Ctx, command: PolicyCommand) -> Result<Exit, CmdError> {
    match command {
        PolicyCommand::Check {
            policy,
            apps,
            strict,
            json,
        } => {
            let source = locate(ctx, policy.as_deref(), apps.apps.as_deref())?;
            let report = tools::check(&source).map_err(|e| CmdError::Policy(e.into()))?;
            output::report(json.json, &report)?;
            Ok(Exit(report.exit_code(strict)))
        }
        PolicyCommand::Explain {
            url,
            policy,
            apps,
            user,
            groups,
            auth,
            from,
            method,
            json,
        } => {
            let source = locate(ctx, policy.as_deref(), apps.apps.as_deref())?;
            let groups = match (groups, &user) {
                // `--groups ''` is none at all, and asks no directory.
                (Some(groups), _) => groups.into_iter().filter(|g| !g.is_empty()).collect(),
                (None, Some(name)) => directory_groups(ctx, name).await?,
                (None, None) => Vec::new(),
            };
            let query = ExplainQuery {
                user,
                groups,
                login: auth,
                source: from,
                url,
                method: method.to_ascii_uppercase(),
            };
            let explanation = tools::explain(&source, &query)?;
            output::report(json.json, &explanation)?;
            let allowed = matches!(explanation.decision, Decision::Allow { .. });
            Ok(if allowed { Exit::OK } else { Exit::NO })
        }
        PolicyCommand::Diff {
            old,
            new,
            apps,
            users,
            assumed,
            json,
        } => {
            let old = locate(ctx, old.as_deref(), None)?;
            let new = locate(ctx, Some(&new), apps.as_deref())?;
            let options = DiffOptions {
                source: assumed.from,
                login: assumed.auth,
            };
            let report = match users {
                Some(file) => tools::diff(&old, &new, &file, &options)?,
                None => tools::diff_users(&old, &new, &live_people(ctx).await?, &options)?,
            };
            output::report(json.json, &report)?;
            Ok(if report.changed.is_empty() {
                Exit::OK
            } else {
                Exit::NO
            })
        }
        PolicyCommand::WhoCan { app, assumed, json } => {
            who_can(ctx, &app, assumed, json.json).await
        }
    }
}

/// The policy and apps file a command reads: `policy` (with its apps.toml when it has one) or
/// the config's policy file; `apps` wins; else the config's apps file. The config is read only
/// when the files given leave something open, so a folder with both files needs none.
fn locate(ctx: &Ctx, policy: Option<&Path>, apps: Option<&Path>) -> Result<PolicySource, CmdError> {
    let Some(policy) = policy else {
        let config = ctx.config()?;
        return Ok(PolicySource {
            entry: config.policy_file.clone(),
            apps_file: apps.unwrap_or(&config.apps_file).to_path_buf(),
        });
    };
    let found = PolicySource::locate(policy, apps);
    if apps.is_none() && !found.apps_file.is_file() {
        return Ok(PolicySource::locate(policy, Some(&ctx.config()?.apps_file)));
    }
    Ok(found)
}

/// Every enabled person of the directory with their groups, as the policy sees them.
async fn live_people(ctx: &Ctx) -> Result<Vec<UserGroups>, CmdError> {
    Ok(ctx
        .directory()?
        .users()
        .await?
        .into_iter()
        .map(|user| UserGroups {
            name: user.username,
            groups: user.groups,
        })
        .collect())
}

/// One person who may open the app.
#[derive(Serialize)]
struct Allowed {
    user: String,
    name: String,
    groups: Vec<String>,
}

/// `who-can APP`: the people the gateway would let open the app's entry path.
async fn who_can(ctx: &Ctx, app: &str, assumed: Assumed, json: bool) -> Result<Exit, CmdError> {
    let Assumed { from, auth } = assumed;
    let policy = locate(ctx, None, None)?.load()?;
    let index = policy
        .apps()
        .iter()
        .position(|summary| summary.name == app)
        .ok_or_else(|| CmdError::UnknownApp(app.to_string()))?;
    let users = ctx.directory()?.users().await?;
    let allowed: Vec<Allowed> = users
        .into_iter()
        .filter(|user| {
            let subject = policy.subject(&user.username, &user.groups, auth);
            policy.openable_apps(&subject, from).any(|i| i == index)
        })
        .map(|user| Allowed {
            user: user.username,
            name: user.display_name,
            groups: user.groups,
        })
        .collect();
    let mut table = Table::new(&["USER", "NAME", "GROUPS"]);
    for person in &allowed {
        table.row(vec![
            person.user.clone(),
            person.name.clone(),
            output::list(&person.groups),
        ]);
    }
    output::show(json, &allowed, &table)?;
    Ok(Exit::OK)
}

/// The groups the live directory gives `user`, as the gateway would resolve them at login:
/// `policy explain --user` without `--groups` answers for the person as they are.
async fn directory_groups(ctx: &Ctx, user: &str) -> Result<Vec<String>, CmdError> {
    match ctx.directory()?.lookup(user).await? {
        Some(record) => Ok(record.groups),
        None => Err(CmdError::UnknownUser(user.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pforte::cli::ConfigArg;
    use pforte::config::Config;
    use std::path::PathBuf;

    fn demo_policies() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")
    }

    fn config(dir: &Path) -> Config {
        for file in ["c.pem", "k.pem"] {
            std::fs::write(dir.join(file), "").unwrap();
        }
        let policies = demo_policies();
        let text = format!(
            "[server]\nlisten = [\"127.0.0.1:8443\"]\n[[tls.certificates]]\ncert = \"c.pem\"\n\
             key = \"k.pem\"\n[portal]\nhost = \"login.localhost\"\n[apps]\nfile = {:?}\n[policy]\nfile = {:?}\n",
            policies.join("apps.toml"),
            policies.join("policy.toml"),
        );
        Config::parse(&dir.join("gateway.toml"), &text).unwrap()
    }

    #[test]
    fn the_config_names_the_policy_unless_a_folder_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Ctx::with_config(config(dir.path()));
        let config = ctx.config().unwrap();
        assert_eq!(locate(&ctx, None, None).unwrap().entry, config.policy_file);
        let folder = demo_policies();
        assert!(
            locate(&ctx, Some(&folder), None)
                .unwrap()
                .entry
                .ends_with("policies/policy.toml")
        );
    }

    #[test]
    fn a_policy_without_apps_beside_it_uses_the_configs_apps() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Ctx::with_config(config(dir.path()));
        let located = locate(&ctx, Some(dir.path()), None).unwrap();
        assert_eq!(located.apps_file, ctx.config().unwrap().apps_file);
    }

    #[test]
    fn a_folder_with_its_apps_needs_no_config() {
        let ctx = Ctx::new(ConfigArg::default(), false, "test".into()).unwrap();
        let located = locate(&ctx, Some(&demo_policies()), None).unwrap();
        assert!(located.apps_file.ends_with("policies/apps.toml"));
        assert!(!ctx.config_read(), "the default config stays unread");
    }
}
