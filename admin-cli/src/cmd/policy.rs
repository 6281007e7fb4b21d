//! `policy check|explain|diff|who-can`: the gateway's own policy tools
//! (`pforte::policy::tools`), with the config's policy and apps file as defaults and the live
//! directory as the people to ask about, so the answers are the gateway's decisions.

use std::net::IpAddr;

use pforte::config::Config;
use pforte::policy::engine::{
    Decision, DiffOptions, ExplainQuery, LoginStrength, UserGroups, load_users_file,
};
use pforte::policy::tools::{self, PolicySource};
use serde::Serialize;

use super::Ctx;
use crate::error::{CmdError, Exit};
use crate::opt::{PolicyArgs, PolicyCommand};
use crate::output::{self, Table};

/// Runs one policy command.
pub async fn run(ctx: &Ctx, command: PolicyCommand) -> Result<Exit, CmdError> {
    match command {
        PolicyCommand::Check {
            source,
            strict,
            json,
        } => {
            let report = tools::check(&locate(&ctx.config, &source))
                .map_err(|e| CmdError::Policy(e.into()))?;
            output::report(json.json, &report)?;
            Ok(Exit(report.exit_code(strict)))
        }
        PolicyCommand::Explain {
            url,
            source,
            user,
            groups,
            auth,
            from,
            method,
            json,
        } => {
            let groups = match (&user, groups.is_empty()) {
                (Some(name), true) => directory_groups(ctx, name).await?,
                _ => groups,
            };
            let query = ExplainQuery {
                user,
                groups,
                login: auth,
                source: from,
                url,
                method: method.to_ascii_uppercase(),
            };
            let explanation = tools::explain(&locate(&ctx.config, &source), &query)?;
            output::report(json.json, &explanation)?;
            let allowed = matches!(explanation.decision, Decision::Allow { .. });
            Ok(if allowed { Exit::OK } else { Exit::NO })
        }
        PolicyCommand::Diff {
            new,
            old,
            apps,
            users,
            from,
            auth,
            json,
        } => {
            let old = locate(
                &ctx.config,
                &PolicyArgs {
                    policy: old,
                    apps: None,
                },
            );
            let new = locate(
                &ctx.config,
                &PolicyArgs {
                    policy: Some(new),
                    apps,
                },
            );
            let people = match users {
                Some(file) => load_users_file(&file).map_err(CmdError::UsersFile)?,
                None => live_people(ctx).await?,
            };
            let options = DiffOptions {
                source: from,
                login: auth,
            };
            let report = tools::diff_users(&old, &new, &people, &options)?;
            output::report(json.json, &report)?;
            Ok(if report.changed.is_empty() {
                Exit::OK
            } else {
                Exit::NO
            })
        }
        PolicyCommand::WhoCan {
            app,
            from,
            auth,
            json,
        } => who_can(ctx, &app, from, auth, json.json).await,
    }
}

/// The policy and apps file a command reads: `--policy` (its apps.toml when it has one) or the
/// config's policy file; `--apps` wins; else the config's apps file.
fn locate(config: &Config, args: &PolicyArgs) -> PolicySource {
    let Some(policy) = &args.policy else {
        return PolicySource {
            entry: config.policy_file.clone(),
            apps_file: args
                .apps
                .clone()
                .unwrap_or_else(|| config.apps_file.clone()),
        };
    };
    let found = PolicySource::locate(policy, args.apps.as_deref());
    if args.apps.is_none() && !found.apps_file.is_file() {
        return PolicySource::locate(policy, Some(&config.apps_file));
    }
    found
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
async fn who_can(
    ctx: &Ctx,
    app: &str,
    from: IpAddr,
    auth: LoginStrength,
    json: bool,
) -> Result<Exit, CmdError> {
    let source = locate(
        &ctx.config,
        &PolicyArgs {
            policy: None,
            apps: None,
        },
    );
    let policy = source.load()?;
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
    use std::path::Path;

    fn demo_policies() -> std::path::PathBuf {
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
        let config = config(dir.path());
        let none = PolicyArgs {
            policy: None,
            apps: None,
        };
        assert_eq!(locate(&config, &none).entry, config.policy_file);
        let folder = PolicyArgs {
            policy: Some(demo_policies()),
            apps: None,
        };
        assert!(
            locate(&config, &folder)
                .entry
                .ends_with("policies/policy.toml")
        );
    }

    #[test]
    fn a_policy_without_apps_beside_it_uses_the_configs_apps() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let lone = PolicyArgs {
            policy: Some(dir.path().to_path_buf()),
            apps: None,
        };
        assert_eq!(locate(&config, &lone).apps_file, config.apps_file);
    }
}
