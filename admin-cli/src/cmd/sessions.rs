//! `sessions list|show|revoke`, wherever the sessions are ([`SessionsAt`]: the Redis store, or
//! the running gateway's memory store through its admin listener). A revocation is the store's,
//! so every gateway refuses the session within 1 s and its OpenID Connect clients get a
//! back-channel logout.

use pforte::admin::api::SessionView;
use pforte_session::Sid;

use super::Ctx;
use super::reach::SessionsAt;
use crate::confirm::confirm;
use crate::error::{CmdError, Exit};
use crate::opt::SessionsCommand;
use crate::output::{self, Table};

/// Runs one sessions command.
pub async fn run(ctx: &Ctx, command: SessionsCommand) -> Result<Exit, CmdError> {
    match command {
        SessionsCommand::List { user, json } => {
            let at = SessionsAt::open(ctx).await?;
            let sessions = live(&at, user.as_deref()).await?;
            output::show(json.json, &sessions, &table(&sessions))?;
        }
        SessionsCommand::Show { sid, json } => {
            let sid = parse_sid(&sid)?;
            let at = SessionsAt::open(ctx).await?;
            let session = at
                .get(&sid)
                .await?
                .ok_or_else(|| CmdError::NoSuchSession(sid.to_string()))?;
            show_one(&session, json.json)?;
        }
        SessionsCommand::Revoke { sid, user } => {
            // Parse before connecting: a typo must not depend on the store being up.
            let sid = sid.as_deref().map(parse_sid).transpose()?;
            let at = SessionsAt::open(ctx).await?;
            match (sid, user) {
                (Some(sid), _) => revoke_one(ctx, &at, sid).await?,
                (None, Some(user)) => revoke_person(ctx, &at, &user).await?,
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
pub async fn live(at: &SessionsAt, person: Option<&str>) -> Result<Vec<SessionView>, CmdError> {
    let mut sessions = at.list(None).await?;
    if let Some(person) = person {
        sessions.retain(|s| belongs_to(s, person));
    }
    Ok(sessions)
}

/// Whether `person` (a user name in any case, or the exact subject) owns the session.
fn belongs_to(session: &SessionView, person: &str) -> bool {
    session.subject == person || session.user.eq_ignore_ascii_case(person)
}

async fn revoke_one(ctx: &Ctx, at: &SessionsAt, sid: Sid) -> Result<(), CmdError> {
    let session = at
        .get(&sid)
        .await?
        .ok_or_else(|| CmdError::NoSuchSession(sid.to_string()))?;
    confirm(
        &format!("revoke session {sid} of {}?", session.user),
        ctx.yes,
    )?;
    if at.revoke(&sid).await?.is_empty() {
        return Err(CmdError::NoSuchSession(format!(
            "{sid} (it ended meanwhile)"
        )));
    }
    println!("revoked session {sid} of {}", session.user);
    Ok(())
}

async fn revoke_person(ctx: &Ctx, at: &SessionsAt, person: &str) -> Result<(), CmdError> {
    let sessions = live(at, Some(person)).await?;
    if sessions.is_empty() {
        return Err(CmdError::NoSuchSession(format!("of {person}")));
    }
    confirm(
        &format!("revoke {} session(s) of {person}?", sessions.len()),
        ctx.yes,
    )?;
    let mut subjects: Vec<&str> = sessions.iter().map(|s| s.subject.as_str()).collect();
    subjects.sort_unstable();
    subjects.dedup();
    let mut ended = 0;
    for subject in subjects {
        ended += at.revoke_subject(subject).await?.len();
    }
    println!("revoked {ended} session(s) of {person}");
    Ok(())
}

/// The sessions as a table (or JSON rows).
pub fn table(rows: &[SessionView]) -> Table {
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

/// `sessions show`: the row's fields one a line (or the row as JSON).
fn show_one(session: &SessionView, json: bool) -> Result<(), CmdError> {
    if json {
        println!("{}", serde_json::to_string_pretty(session)?);
    } else {
        print!("{}", render_one(session));
    }
    Ok(())
}

/// One session's fields, one a line, as `users show` prints a person.
fn render_one(row: &SessionView) -> String {
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
        ("identity refreshed", output::time(row.identity_refreshed)),
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
            federated: None,
        };
        let (_, session) = store.create(new, now).unwrap();
        let password = SessionView::from(&*session);
        let listed = table(std::slice::from_ref(&password)).render();
        assert!(listed.contains("Firefox on Linux"), "{listed}");
        assert!(listed.contains("password"), "{listed}");

        let up = store.step_up(&session.sid, AuthMethod::Totp, now).unwrap();
        let shown = render_one(&SessionView::from(&*up));
        let lines: Vec<String> = shown
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        for line in [
            "login: mfa",
            "methods: password,totp",
            "device: Firefox on Linux",
            "identity refreshed: 2027-01-15T08:00:00Z",
        ] {
            assert!(lines.iter().any(|l| l == line), "{line:?} in\n{shown}");
        }
        let json = serde_json::to_value(SessionView::from(&*up)).unwrap();
        assert_eq!(json["methods"], serde_json::json!(["password", "totp"]));
        assert_eq!(json["login"], "mfa");
    }
}
