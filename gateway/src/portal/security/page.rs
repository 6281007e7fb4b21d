//! `GET /security`: the person's factors (rename, remove, add), recovery codes left, and their
//! live sessions.

use bytes::Bytes;
use http::{Response, StatusCode};
use pforte_session::{Session, Sid};

use super::{person, to_login};
use crate::config::lang::Lang;
use crate::login_host::LoginHost;
use crate::mfa::account::PersonFactors;
use crate::policy::engine::LoginStrength;
use crate::visitor::Visitor;
use crate::web::csrf;
use crate::web::error::GatewayError;
use crate::web::factor_pages::{self, CodeProblem, FactorRow, SecurityView, SessionRow};
use crate::web::reply::respond_html;

/// `GET /security`.
pub async fn show(
    host: &LoginHost<'_>,
    visitor: Option<&Visitor>,
    lang: Lang,
) -> Result<Response<Bytes>, GatewayError> {
    let Some(visitor) = visitor else {
        return Ok(to_login(host, "/security"));
    };
    page(host, visitor, lang, None, None, StatusCode::OK).await
}

/// The page, with a notice after a change or the problem of a refused one.
pub(super) async fn page(
    host: &LoginHost<'_>,
    visitor: &Visitor,
    lang: Lang,
    notice: Option<String>,
    problem: Option<CodeProblem>,
    status: StatusCode,
) -> Result<Response<Bytes>, GatewayError> {
    let session = &visitor.session;
    let factors = person(host, session).await?;
    let now = host.ctx.now;
    let sessions = host
        .sessions()
        .list(Some(&session.subject), now)
        .await?
        .into_iter()
        .map(|s| session_row(&s, &session.sid))
        .collect();
    let token = csrf::new_token();
    let (rows, recovery_left) = factors
        .as_ref()
        .map_or((Vec::new(), 0), |f| (factor_rows(f), f.recovery.len()));
    let body = factor_pages::security(&SecurityView {
        lang,
        theme: &host.config().portal.theme,
        csrf: &token,
        factors: rows,
        recovery_left,
        sessions,
        available: factors.is_some(),
        notice,
        problem,
    });
    let respond = if factors.is_some() {
        crate::web::reply::respond_html_with_passkeys
    } else {
        respond_html
    };
    Ok(csrf::with_cookie(
        respond(status, body),
        &token,
        csrf::FORM_LIFETIME,
    ))
}

fn factor_rows(factors: &PersonFactors) -> Vec<FactorRow> {
    let totp = factors.totp.iter().map(|f| FactorRow {
        handle: f.handle(),
        passkey: false,
        name: f.value.name.clone(),
        added: date(f.value.created),
    });
    let passkeys = factors.passkeys.iter().map(|f| FactorRow {
        handle: f.handle(),
        passkey: true,
        name: f
            .value
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or_default()
            .to_owned(),
        added: date(
            f.value
                .get("created")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or_default(),
        ),
    });
    totp.chain(passkeys).collect()
}

fn session_row(session: &Session, current: &Sid) -> SessionRow {
    let strength = match session.login {
        LoginStrength::Mfa => {
            let methods: Vec<&str> = session.methods.iter().map(|m| m.amr()).collect();
            format!("mfa ({})", methods.join(", "))
        }
        LoginStrength::Password => "password".to_owned(),
    };
    SessionRow {
        sid: session.sid.to_string(),
        device: session.device.clone(),
        address: session.source.to_string(),
        last_used: format!("{} UTC", minute(session.last_seen.unix_secs())),
        strength,
        current: session.sid == *current,
    }
}

/// `YYYY-MM-DD` of a unix time.
fn date(unix: u64) -> String {
    minute(unix).chars().take(10).collect()
}

/// `YYYY-MM-DD HH:MM` of a unix time, in UTC.
fn minute(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M").to_string())
}
