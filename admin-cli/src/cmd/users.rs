//! `users list|show|unlock`: people as the gateway sees them in the live directory, their
//! second factors (counts), brute-force lock and sessions in the shared store. The lock is kept
//! under the lower-cased user name, as the login page counts it. The commands that change the
//! directory are in [`change`]; second factors in [`mfa`]; reading passwords is [`password`]'s.

mod change;
mod mfa;
mod password;

use pforte::telemetry::audit::AuditEvent;
use pforte_directory::{FactorCounts, NewUser, UserRecord};
use pforte_session::{SessionStore, Throttle, ThrottleKind};
use serde::Serialize;

use super::Ctx;
use super::sessions::{self, Row as SessionRow};
use crate::audit;
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

/// The lock state of an account, as the next login attempt would meet it.
#[derive(Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Lock {
    /// Logins go ahead.
    Open,
    /// Failed logins make the next attempt wait.
    Delayed { until: u64 },
    /// Locked until `until` unless an admin unlocks.
    Locked { until: u64 },
}

impl From<Throttle> for Lock {
    fn from(throttle: Throttle) -> Self {
        match throttle {
            Throttle::Allowed => Self::Open,
            Throttle::Wait { until } => Self::Delayed {
                until: until.unix_secs(),
            },
            Throttle::Locked { until } => Self::Locked {
                until: until.unix_secs(),
            },
        }
    }
}

/// One person in full; lock and sessions are `None` with the memory store, whose state only the
/// gateway process sees. Second factors are counted by kind, never shown.
#[derive(Serialize)]
struct Shown {
    #[serde(flatten)]
    user: UserRecord,
    factors: FactorCounts,
    lock: Option<Lock>,
    sessions: Option<Vec<SessionRow>>,
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
    let (lock, sessions) = match ctx.shared_sessions().await? {
        Some(store) => {
            let lock = lock_state(ctx, &store, &user.username).await?;
            let sessions: Vec<SessionRow> = sessions::live(ctx, &store, Some(&user.subject))
                .await?
                .iter()
                .map(SessionRow::from)
                .collect();
            (Some(lock), Some(sessions))
        }
        None => (None, None),
    };
    let shown = Shown {
        user,
        factors,
        lock,
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
    const UNKNOWN: &str = "unknown (memory session store)";
    let user = &shown.user;
    let lock = match shown.lock {
        None => UNKNOWN.to_string(),
        Some(Lock::Open) => "no".to_string(),
        Some(Lock::Delayed { until }) => format!("delayed until {}", output::time(until)),
        Some(Lock::Locked { until }) => format!("locked until {}", output::time(until)),
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
    ] {
        fields.row(vec![format!("{field}:"), value]);
    }
    let mut out = fields.render().trim_start().to_string();
    match &shown.sessions {
        None => out.push_str(&format!("sessions: {UNKNOWN}\n")),
        Some(rows) => {
            out.push_str(&format!("sessions: {}\n", rows.len()));
            if !rows.is_empty() {
                out.push_str(&sessions::table(rows).render());
            }
        }
    }
    out
}

async fn lock_state(ctx: &Ctx, store: &SessionStore, username: &str) -> Result<Lock, CmdError> {
    let account = username.to_lowercase();
    Ok(store
        .check(ThrottleKind::Account, &account, ctx.now())
        .await?
        .into())
}

async fn unlock(ctx: &Ctx, username: &str) -> Result<(), CmdError> {
    let store = ctx.sessions().await?;
    let account = username.to_lowercase();
    let counted = !matches!(lock_state(ctx, &store, &account).await?, Lock::Open);
    if !counted && ctx.directory()?.lookup(username).await?.is_none() {
        return Err(CmdError::UnknownUser(username.to_string()));
    }
    store.clear(ThrottleKind::Account, &account).await?;
    audit::record(AuditEvent::Unlock {
        scope: ThrottleKind::Account.as_str(),
        key: &account,
        by: &ctx.by,
    });
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
    fn show_says_when_the_lock_is_out_of_reach() {
        let text = render(&Shown {
            user: carol(),
            factors: FactorCounts {
                totp: 1,
                passkeys: 0,
                recovery_codes: 9,
            },
            lock: None,
            sessions: None,
        });
        assert!(text.starts_with("user:"), "{text}");
        assert!(text.contains("groups:   finance,staff"), "{text}");
        assert!(text.contains("locked:   unknown"), "{text}");
        assert!(
            text.contains("factors:  1 TOTP, 9 recovery codes"),
            "{text}"
        );
    }
}
