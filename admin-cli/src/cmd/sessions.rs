//! `sessions list|show|revoke` on the shared session store. A revocation is published by the store,
//! so every gateway refuses the session within 1 s; the memory store is refused because its
//! sessions live inside one gateway process.

use std::collections::BTreeSet;

use pforte::telemetry::audit::AuditEvent;
use pforte_session::{Session, SessionStore, Sid};
use serde::Serialize;

use super::Ctx;
use crate::audit;
use crate::confirm::confirm;
use crate::error::{CmdError, Exit};
use crate::opt::SessionsCommand;
use crate::output::{self, Table};

/// Runs one sessions command.
pub async fn run(ctx: &Ctx, command: SessionsCommand) -> Result<Exit, CmdError> {
    match command {
        SessionsCommand::List { user, json } => {
            let store = ctx.sessions().await?;
            let sessions = live(ctx, &store, user.as_deref()).await?;
            show(&sessions, json.json)?;
        }
        SessionsCommand::Show { sid, json } => {
            let sid = parse_sid(&sid)?;
            let store = ctx.sessions().await?;
            let session = store
                .get_by_sid(&sid, ctx.now())
                .await?
                .ok_or_else(|| CmdError::NoSuchSession(sid.to_string()))?;
            show_one(&session, json.json)?;
        }
        SessionsCommand::Revoke { sid, user } => {
            // Parse before connecting: a typo must not depend on Redis being up.
            let sid = sid.as_deref().map(parse_sid).transpose()?;
            let store = ctx.sessions().await?;
            match (sid, user) {
                (Some(sid), _) => revoke_one(ctx, &store, sid).await?,
                (None, Some(user)) => revoke_person(ctx, &store, &user).await?,
                (None, None) => {
                    return Err(CmdError::NoSuchSession(
                        "named: give a SID or --user".into(),
                    ));
                }
            }
        }
    }
    Ok(Exit::OK)
}

/// Reads a session id as `sessions list` prints it.
pub fn parse_sid(text: &str) -> Result<Sid, CmdError> {
    Sid::parse(text).map_err(|source| CmdError::BadSid {
        text: text.to_string(),
        source,
    })
}

/// The live sessions, of everybody or of one person named by user name or subject.
pub async fn live(
    ctx: &Ctx,
    store: &SessionStore,
    person: Option<&str>,
) -> Result<Vec<Session>, CmdError> {
    let mut sessions = store.list(None, ctx.now()).await?;
    if let Some(person) = person {
        sessions.retain(|s| belongs_to(s, person));
    }
    Ok(sessions)
}

/// Whether `person` (a user name in any case, or the exact subject) owns the session.
fn belongs_to(session: &Session, person: &str) -> bool {
    session.subject == person || session.username.eq_ignore_ascii_case(person)
}

async fn revoke_one(ctx: &Ctx, store: &SessionStore, sid: Sid) -> Result<(), CmdError> {
    let sessions = store.list(None, ctx.now()).await?;
    let session = sessions
        .iter()
        .find(|s| s.sid == sid)
        .ok_or_else(|| CmdError::NoSuchSession(sid.to_string()))?;
    confirm(
        &format!("revoke session {sid} of {}?", session.username),
        ctx.yes,
    )?;
    if store.revoke(&sid).await? {
        audited(ctx, session);
    }
    println!("revoked session {sid} of {}", session.username);
    Ok(())
}

async fn revoke_person(ctx: &Ctx, store: &SessionStore, person: &str) -> Result<(), CmdError> {
    let sessions = live(ctx, store, Some(person)).await?;
    if sessions.is_empty() {
        return Err(CmdError::NoSuchSession(format!("of {person}")));
    }
    confirm(
        &format!("revoke {} session(s) of {person}?", sessions.len()),
        ctx.yes,
    )?;
    let subjects: BTreeSet<&str> = sessions.iter().map(|s| s.subject.as_str()).collect();
    let mut ended = 0;
    for subject in subjects {
        ended += store.revoke_user(subject).await?;
    }
    for session in &sessions {
        audited(ctx, session);
    }
    println!("revoked {ended} session(s) of {person}");
    Ok(())
}

fn audited(ctx: &Ctx, session: &Session) {
    audit::record(AuditEvent::SessionRevoked {
        subject: &session.subject,
        session: &session.sid.to_string(),
        by: &ctx.by,
    });
}

/// One session as listed.
#[derive(Serialize)]
pub struct Row {
    sid: String,
    user: String,
    subject: String,
    created: u64,
    last_seen: u64,
    source: String,
    /// A short description of the browser and system (from its User-Agent), if known.
    device: Option<String>,
    /// `password` or `mfa`.
    login: String,
    /// The factors shown, in order (`password`, `totp`, `recovery_code`, `security_key`,
    /// `passkey`).
    methods: Vec<String>,
    /// When the person last showed a factor (OIDC `auth_time`).
    auth_time: u64,
    clients: Vec<String>,
}

impl From<&Session> for Row {
    fn from(s: &Session) -> Self {
        Self {
            sid: s.sid.to_string(),
            user: s.username.clone(),
            subject: s.subject.clone(),
            created: s.created.unix_secs(),
            last_seen: s.last_seen.unix_secs(),
            source: s.source.to_string(),
            device: s.device.clone(),
            login: s.login.to_string(),
            methods: s.methods.iter().map(|m| m.as_str().to_owned()).collect(),
            auth_time: s.auth_time.unix_secs(),
            clients: s.clients.clone(),
        }
    }
}

/// The sessions as a table (or JSON rows).
pub fn table(rows: &[Row]) -> Table {
    let mut table = Table::new(&[
        "SID",
        "USER",
        "CREATED",
        "LAST SEEN",
        "SOURCE",
        "DEVICE",
        "LOGIN",
        "METHODS",
        "CLIENTS",
    ]);
    for row in rows {
        table.row(vec![
            row.sid.clone(),
            row.user.clone(),
            output::time(row.created),
            output::time(row.last_seen),
            row.source.clone(),
            row.device.clone().unwrap_or_else(|| "-".into()),
            row.login.clone(),
            output::list(&row.methods),
            output::list(&row.clients),
        ]);
    }
    table
}

fn show(sessions: &[Session], json: bool) -> Result<(), CmdError> {
    let rows: Vec<Row> = sessions.iter().map(Row::from).collect();
    output::show(json, &rows, &table(&rows))
}

/// `sessions show`: the row's fields one a line (or the row as JSON).
fn show_one(session: &Session, json: bool) -> Result<(), CmdError> {
    let row = Row::from(session);
    if json {
        println!("{}", serde_json::to_string_pretty(&row)?);
    } else {
        print!("{}", render_one(&row));
    }
    Ok(())
}

/// One session's fields, one a line, as `users show` prints a person.
fn render_one(row: &Row) -> String {
    let mut fields = Table::new(&["", ""]);
    for (field, value) in [
        ("sid", row.sid.clone()),
        ("user", row.user.clone()),
        ("subject", row.subject.clone()),
        ("created", output::time(row.created)),
        ("last seen", output::time(row.last_seen)),
        ("source", row.source.clone()),
        ("device", row.device.clone().unwrap_or_else(|| "-".into())),
        ("login", row.login.clone()),
        ("methods", output::list(&row.methods)),
        ("auth time", output::time(row.auth_time)),
        ("clients", output::list(&row.clients)),
    ] {
        fields.row(vec![format!("{field}:"), value]);
    }
    fields.render().trim_start().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_sid_is_bad_input() {
        let err = parse_sid("not-a-sid").unwrap_err();
        assert_eq!(err.exit(), Exit::BAD_INPUT);
        assert!(err.to_string().contains("16 lowercase hex"), "{err}");
        assert!(parse_sid("0123456789abcdef").is_ok());
    }

    #[test]
    fn a_session_shows_its_login_strength_factors_and_device() {
        use std::net::{IpAddr, Ipv4Addr};

        use pforte_session::{AuthMethod, Clock, MemoryStore, NewSession, Timestamp};

        let now = Timestamp::from_unix_secs(1_800_000_000);
        let store = MemoryStore::new(Default::default(), Default::default(), Clock::manual(now));
        let new = NewSession {
            subject: "uuid-alice".into(),
            username: "alice".into(),
            display_name: "Alice".into(),
            email: None,
            groups: vec![],
            login: pforte::policy::engine::LoginStrength::Password,
            methods: vec![AuthMethod::Password],
            auth_time: now,
            source: IpAddr::V4(Ipv4Addr::LOCALHOST),
            device: Some("Firefox on Linux".into()),
        };
        let (_, session) = store.create(new, now).unwrap();
        let password = Row::from(&*session);
        let listed = table(std::slice::from_ref(&password)).render();
        assert!(listed.contains("Firefox on Linux"), "{listed}");
        assert!(listed.contains("password"), "{listed}");

        let up = store.step_up(&session.sid, AuthMethod::Totp, now).unwrap();
        let shown = render_one(&Row::from(&*up));
        assert!(shown.contains("login:      mfa\n"), "{shown}");
        assert!(shown.contains("methods:    password,totp\n"), "{shown}");
        assert!(shown.contains("device:     Firefox on Linux\n"), "{shown}");
        let json = serde_json::to_value(Row::from(&*up)).unwrap();
        assert_eq!(json["methods"], serde_json::json!(["password", "totp"]));
        assert_eq!(json["login"], "mfa");
    }
}
