//! `users list|show|unlock`: people as the gateway sees them in the live directory, their
//! second factors (counts), brute-force lock and sessions wherever the sessions are
//! ([`SessionsAt`]: Redis, or the running gateway for the memory store). The lock is kept under
//! the lower-cased user name, as the login page counts it. The commands that change the
//! directory are in [`change`]; second factors in [`mfa`]; reading passwords is [`password`]'s.

mod change;
mod mfa;
mod password;

use pforte::admin::api::{LockState, SessionView};
use pforte_directory::{FactorCounts, NewUser, UserRecord};
use serde::Serialize;

use super::Ctx;
use super::reach::SessionsAt;
use super::sessions;
use crate::error::{CmdError, Exit};
use crate::opt::{MfaCommand, UsersCommand};
use crate::output::{self, Table};

pub use change::{audited, open_admin};

/// Runs one users command.
pub async fn run(ctx: &Ctx, command: UsersCommand) -> Result<Exit, CmdError> {
    match command {
        UsersCommand::List {
            group,
            filter,
            json,
        } => {
            let mut users = ctx.directory()?.users().await?;
            users.retain(|u| matches(u, group.as_deref(), filter.as_deref()));
            list(&users, json.json)?;
        }
        UsersCommand::Show { user, json } => show(ctx, &user, json.json).await?,
        UsersCommand::Unlock { user } => unlock(ctx, &user).await?,
        UsersCommand::Add {
            user,
            name,
            mail,
            groups,
            password,
        } => {
            let password = password
                .password_stdin
                .then(|| password::from_stdin(&mut std::io::stdin().lock()))
                .transpose()?;
            let new = NewUser {
                username: user,
                display_name: name,
                email: mail,
                groups,
                password,
            };
            change::add(ctx, &new).await?;
        }
        UsersCommand::SetPassword { user, password } => {
            change::set_password(ctx, &user, password.password_stdin).await?;
        }
        UsersCommand::Disable { user } => change::set_disabled(ctx, &user, true).await?,
        UsersCommand::Enable { user } => change::set_disabled(ctx, &user, false).await?,
        UsersCommand::Delete { user } => change::delete(ctx, &user).await?,
        UsersCommand::Mfa(MfaCommand::List { all, json }) => mfa::list(ctx, all, json.json).await?,
        UsersCommand::Mfa(MfaCommand::Reset { user }) => mfa::reset(ctx, &user).await?,
    }
    Ok(Exit::OK)
}

/// Whether a person passes `--group` (exact, nested included) and `--filter` (any case, in the
/// user name, name or mail).
fn matches(user: &UserRecord, group: Option<&str>, filter: Option<&str>) -> bool {
    let in_group = group.is_none_or(|g| user.groups.iter().any(|ug| ug == g));
    let found = filter.is_none_or(|text| {
        let text = text.to_lowercase();
        [
            Some(user.username.as_str()),
            Some(user.display_name.as_str()),
            user.email.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(|field| field.to_lowercase().contains(&text))
    });
    in_group && found
}

fn list(users: &[UserRecord], json: bool) -> Result<(), CmdError> {
    let mut table = Table::new(&["USER", "NAME", "MAIL", "GROUPS"]);
    for user in users {
        table.row(vec![
            user.username.clone(),
            user.display_name.clone(),
            user.email.clone().unwrap_or_else(|| "-".into()),
            output::list(&user.groups),
        ]);
    }
    output::show(json, users, &table)
}

/// One person in full. Second factors are counted by kind, never shown.
#[derive(Serialize)]
struct Shown {
    #[serde(flatten)]
    user: UserRecord,
    factors: FactorCounts,
    lock: LockState,
    /// When the identity was last read from the directory for a live session: the newest
    /// `identity_refreshed` among them (Unix seconds), `None` without a session.
    identity_refreshed: Option<u64>,
    sessions: Vec<SessionView>,
}

async fn show(ctx: &Ctx, username: &str, json: bool) -> Result<(), CmdError> {
    let directory = ctx.directory()?;
    let user = directory
        .lookup(username)
        .await?
        .ok_or_else(|| CmdError::UnknownUser(username.to_string()))?;
    let factors = directory
        .factors(&user.username)
        .await?
        .ok_or_else(|| CmdError::UnknownUser(username.to_string()))?
        .counts();
    let at = SessionsAt::open(ctx).await?;
    let lock = at.lock(&user.username).await?;
    let sessions = at.list(Some(&user.subject)).await?;
    let shown = Shown {
        user,
        factors,
        lock,
        identity_refreshed: sessions.iter().map(|s| s.identity_refreshed).max(),
        sessions,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&shown)?);
    } else {
        print!("{}", render(&shown));
    }
    Ok(())
}

/// `users show` for people: one field a line, then the sessions table.
fn render(shown: &Shown) -> String {
    let user = &shown.user;
    let lock = match shown.lock {
        LockState::Open => "no".to_string(),
        LockState::Delayed { until } => format!("delayed until {}", output::time(until)),
        LockState::Locked { until } => format!("locked until {}", output::time(until)),
    };
    let mut fields = Table::new(&["", ""]);
    for (field, value) in [
        ("user", user.username.clone()),
        ("name", user.display_name.clone()),
        ("mail", user.email.clone().unwrap_or_else(|| "-".into())),
        ("subject", user.subject.clone()),
        ("groups", output::list(&user.groups)),
        ("factors", mfa::describe(shown.factors)),
        ("locked", lock),
        (
            "identity refreshed",
            shown.identity_refreshed.map_or_else(
                || "- (no live session)".to_string(),
                |at| format!("{} (newest of their sessions)", output::time(at)),
            ),
        ),
    ] {
        fields.row(vec![format!("{field}:"), value]);
    }
    let mut out = fields.render().trim_start().to_string();
    out.push_str(&format!("sessions: {}\n", shown.sessions.len()));
    if !shown.sessions.is_empty() {
        out.push_str(&sessions::table(&shown.sessions).render());
    }
    out
}

async fn unlock(ctx: &Ctx, username: &str) -> Result<(), CmdError> {
    let at = SessionsAt::open(ctx).await?;
    let counted = !matches!(at.lock(username).await?, LockState::Open);
    if !counted && ctx.directory()?.lookup(username).await?.is_none() {
        return Err(CmdError::UnknownUser(username.to_string()));
    }
    let account = at.unlock(username).await?;
    println!("unlocked {account}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn carol() -> UserRecord {
        UserRecord {
            subject: "uuid-carol".into(),
            username: "carol".into(),
            display_name: "Carol Finance".into(),
            email: Some("carol@example.org".into()),
            groups: vec!["finance".into(), "staff".into()],
        }
    }

    #[test]
    fn group_and_filter_both_narrow_the_list() {
        let carol = carol();
        assert!(matches(&carol, None, None));
        assert!(matches(&carol, Some("staff"), Some("FINANCE")));
        assert!(matches(&carol, None, Some("example.org")));
        assert!(!matches(&carol, Some("admins"), None));
        assert!(!matches(&carol, Some("staff"), Some("bob")));
    }

    #[test]
    fn show_puts_one_field_a_line() {
        let text = render(&Shown {
            user: carol(),
            factors: FactorCounts {
                totp: 1,
                passkeys: 0,
                recovery_codes: 9,
            },
            lock: LockState::Locked { until: 0 },
            identity_refreshed: None,
            sessions: Vec::new(),
        });
        assert!(text.starts_with("user:"), "{text}");
        let lines: Vec<String> = text
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        for line in [
            "groups: finance,staff",
            "locked: locked until 1970-01-01T00:00:00Z",
            "factors: 1 TOTP, 9 recovery codes",
            "identity refreshed: - (no live session)",
            "sessions: 0",
        ] {
            assert!(lines.iter().any(|l| l == line), "{line:?} in\n{text}");
        }
    }
}
