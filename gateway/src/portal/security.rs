//! The person's security page and its forms:
//!
//! ```text
//! GET  /security               factors, recovery codes left, live sessions
//! GET  /security/totp          enrol an authenticator app (QR code, key)
//! POST /security/totp          confirm it with a code → saved, session stepped up
//!                              (the first factor also brings ten recovery codes, shown once)
//! POST /security/factor        rename or remove a factor
//! POST /security/recovery      a new set of recovery codes
//! POST /security/sessions/end  end one of the person's sessions, on every replica
//! ```
//!
//! Who may change what: a person with a second factor changes factors only from a session that
//! used one (a stolen password alone adds, removes or replaces nothing), and every change
//! confirms the password or a current code. A person without a factor may enrol the first one
//! with their password: that is how anyone starts.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use pforte_directory::AuthError;
use pforte_session::{AuthMethod, Session, Sid, Timestamp};

use super::return_to::ReturnTo;
use super::second_factor::{self, onward};
use crate::config::lang::Lang;
use crate::login_host::LoginHost;
use crate::mfa::account::{self, Owner, PersonFactors};
use crate::mfa::code::{self, Verdict};
use crate::mfa::{Keeping, enrol};
use crate::policy::engine::LoginStrength;
use crate::signout;
use crate::telemetry::audit::{self, AuditEvent, FactorEvent};
use crate::telemetry::metrics::{FactorKindLabel, FactorResult};
use crate::visitor::Visitor;
use crate::web::error::GatewayError;
use crate::web::factor_pages::{self, CodeProblem, EnrolView, FactorRow, SecurityView, SessionRow};
use crate::web::form::Form;
use crate::web::reply::{respond_html, see_other};
use crate::web::url::encode;
use crate::web::{csrf, factor_texts};

/// A login this recent needs no confirmation for a first enrolment.
const FRESH_LOGIN: Duration = Duration::from_secs(300);

/// `/security...` for someone without a session: log in first, then come back.
fn to_login(host: &LoginHost<'_>, path: &str) -> Response<Bytes> {
    let back = format!("{}{path}", host.login_origin());
    see_other(&format!("/login?return_to={}", encode(&back)))
}

/// Directory, sealing key and the person's factors; `None` when second factors are not set up.
async fn person(
    host: &LoginHost<'_>,
    session: &Session,
) -> Result<Option<PersonFactors>, GatewayError> {
    let (Some(directory), Some(mfa)) = (host.shared.directory.as_ref(), host.config().mfa.as_ref())
    else {
        return Ok(None);
    };
    Ok(account::load(directory, &mfa.sealer, owner(session)).await?)
}

fn owner(session: &Session) -> Owner<'_> {
    Owner {
        username: &session.username,
        subject: &session.subject,
    }
}

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

async fn page(
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

/// `GET /security/totp`.
pub async fn show_enrolment(
    host: &LoginHost<'_>,
    visitor: Option<&Visitor>,
    lang: Lang,
    return_to: Option<&ReturnTo>,
) -> Result<Response<Bytes>, GatewayError> {
    let Some(visitor) = visitor else {
        return Ok(to_login(host, "/security/totp"));
    };
    let Some(factors) = person(host, &visitor.session).await? else {
        return Ok(second_factor::unavailable(host, lang));
    };
    if let Some(redirect) = needs_step_up(host, visitor, &factors, "/security/totp") {
        return Ok(redirect);
    }
    enrolment_page(
        host,
        visitor,
        lang,
        return_to,
        &factors,
        None,
        StatusCode::OK,
    )
    .await
}

/// A person with a second factor, in a session that did not use one, steps up first.
fn needs_step_up(
    host: &LoginHost<'_>,
    visitor: &Visitor,
    factors: &PersonFactors,
    path: &str,
) -> Option<Response<Bytes>> {
    (factors.has_second_factor() && visitor.session.login != LoginStrength::Mfa).then(|| {
        let back = format!("{}{path}", host.login_origin());
        see_other(&format!("/mfa?return_to={}", encode(&back)))
    })
}

/// Whether a change from this session must confirm the password or a code: always, except a
/// person's first enrolment right after their login.
pub(super) fn confirmation_needed(
    session: &Session,
    factors: &PersonFactors,
    now: Timestamp,
) -> bool {
    factors.has_second_factor() || now.since(session.auth_time) > FRESH_LOGIN
}

async fn enrolment_page(
    host: &LoginHost<'_>,
    visitor: &Visitor,
    lang: Lang,
    return_to: Option<&ReturnTo>,
    factors: &PersonFactors,
    problem: Option<CodeProblem>,
    status: StatusCode,
) -> Result<Response<Bytes>, GatewayError> {
    let Some(mfa) = host.config().mfa.as_ref() else {
        return Ok(second_factor::unavailable(host, lang));
    };
    let session = &visitor.session;
    let now = host.ctx.now;
    let totp = enrol::pending_or_new_totp(
        host.sessions(),
        &mfa.sealer,
        &session.sid.to_string(),
        &session.subject,
        now,
    )
    .await?;
    let theme = &host.config().portal.theme;
    let uri = totp
        .otpauth_uri(
            &theme.product_name.replace(':', " "),
            &session.username.replace(':', " "),
        )
        .map_err(|e| crate::mfa::FactorError::Make(e.to_string()))?;
    let qr = pforte_factors::totp::qr_svg(&uri)
        .map_err(|e| crate::mfa::FactorError::Make(e.to_string()))?;
    let token = csrf::new_token();
    let body = factor_pages::enrol(&EnrolView {
        lang,
        theme,
        csrf: &token,
        return_to: return_to.map(ReturnTo::as_str),
        qr_svg: &qr,
        uri: &uri,
        secret: &totp.secret,
        confirm: confirmation_needed(session, factors, now),
        required: !factors.has_second_factor() && mfa.must_enrol(&session.groups),
        problem,
    });
    Ok(csrf::with_cookie(
        respond_html(status, body),
        &token,
        csrf::FORM_LIFETIME,
    ))
}

/// `POST /security/totp`.
pub async fn confirm_enrolment(
    host: &LoginHost<'_>,
    visitor: Option<&Visitor>,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Response<Bytes>, GatewayError> {
    let lang = host.language(form.non_empty("lang"), headers);
    let return_to = form
        .non_empty("return_to")
        .and_then(|raw| super::check_return_to(host, raw));
    let Some(visitor) = visitor else {
        return Ok(to_login(host, "/security/totp"));
    };
    let (Some(directory), Some(mfa)) = (host.shared.directory.as_ref(), host.config().mfa.as_ref())
    else {
        return Ok(second_factor::unavailable(host, lang));
    };
    let Some(factors) = person(host, &visitor.session).await? else {
        return Ok(second_factor::unavailable(host, lang));
    };
    if let Some(redirect) = needs_step_up(host, visitor, &factors, "/security/totp") {
        return Ok(redirect);
    }
    let again = |problem, status| {
        enrolment_page(
            host,
            visitor,
            lang,
            return_to.as_ref(),
            &factors,
            Some(problem),
            status,
        )
    };
    if !csrf::check(headers, form.get("csrf"), &host.login_origin()) {
        return again(CodeProblem::FormExpired, StatusCode::FORBIDDEN).await;
    }
    let session = &visitor.session;
    let now = host.ctx.now;
    if confirmation_needed(session, &factors, now)
        && !confirmed(host, session, &factors, form.get("confirm")).await?
    {
        return again(CodeProblem::WrongConfirmation, StatusCode::UNAUTHORIZED).await;
    }
    let attempt = super::login::Attempt::of(host, &session.username, now);
    let throttle = host
        .sessions()
        .login_check(&attempt.account, &attempt.source, now)
        .await?;
    if throttle.verdict != pforte_session::Throttle::Allowed {
        second_factor::failed(
            host,
            &session.username,
            FactorKindLabel::Totp,
            FactorResult::Throttled,
        );
        return again(CodeProblem::Throttled, StatusCode::TOO_MANY_REQUESTS).await;
    }
    let name = enrol::clean_name(form.get("name"), factor_texts::of(lang).default_app_name);
    let keeping = Keeping {
        sessions: host.sessions(),
        directory,
        sealer: &mfa.sealer,
    };
    let verdict = enrol::confirm_totp(
        keeping,
        &session.sid.to_string(),
        owner(session),
        &name,
        form.get("code"),
        now,
    )
    .await?;
    if verdict != Verdict::Totp {
        let (problem, result) = match verdict {
            Verdict::Malformed => (CodeProblem::Malformed, FactorResult::Malformed),
            Verdict::Replayed => (CodeProblem::Replayed, FactorResult::Replayed),
            _ => (CodeProblem::Wrong, FactorResult::Wrong),
        };
        second_factor::failed(host, &session.username, FactorKindLabel::Totp, result);
        super::login::record_failure(host, &attempt.account, &attempt.source, now).await?;
        return again(problem, StatusCode::BAD_REQUEST).await;
    }
    changed(
        host,
        session,
        FactorEvent::Enrolled,
        FactorKindLabel::Totp,
        &name,
    );
    host.shared
        .metrics
        .record_second_factor(FactorKindLabel::Totp, FactorResult::Success);
    host.sessions()
        .step_up(&session.sid, AuthMethod::Totp, now)
        .await?;
    if factors.has_second_factor() {
        return Ok(match return_to {
            Some(target) => onward(Some(&target)),
            None => see_other("/security"),
        });
    }
    // The first factor: recovery codes come with it, shown once.
    let codes =
        enrol::new_recovery_codes(directory, &mfa.sealer, owner(session), &factors, now).await?;
    changed(
        host,
        session,
        FactorEvent::RecoveryCodesRenewed,
        FactorKindLabel::RecoveryCode,
        &codes.len().to_string(),
    );
    let next = return_to.as_ref().map_or("/security", ReturnTo::as_str);
    Ok(respond_html(
        StatusCode::OK,
        factor_pages::recovery_codes(lang, &host.config().portal.theme, &codes, next),
    ))
}

/// Whether `typed` is the person's password or a fresh code of one of their apps. A wrong
/// confirmation counts in the brute-force throttle like a wrong password.
async fn confirmed(
    host: &LoginHost<'_>,
    session: &Session,
    factors: &PersonFactors,
    typed: &str,
) -> Result<bool, GatewayError> {
    let now = host.ctx.now;
    let attempt = super::login::Attempt::of(host, &session.username, now);
    let throttle = host
        .sessions()
        .login_check(&attempt.account, &attempt.source, now)
        .await?;
    if throttle.verdict != pforte_session::Throttle::Allowed || typed.is_empty() {
        return Ok(false);
    }
    let looks_like_code = typed.len() <= 8 && typed.chars().all(|c| c.is_ascii_digit() || c == ' ');
    let ok = if looks_like_code && !factors.totp.is_empty() {
        code::check_totp(host.sessions(), factors, &session.subject, typed, now).await?
            == Verdict::Totp
    } else if let Some(directory) = host.shared.directory.as_ref() {
        match directory.authenticate(&session.username, typed).await {
            Ok(user) => user.subject == session.subject,
            Err(AuthError::Unavailable(e)) => {
                return Err(crate::mfa::FactorError::Directory(e).into());
            }
            Err(_) => false,
        }
    } else {
        false
    };
    if !ok {
        super::login::record_failure(host, &attempt.account, &attempt.source, now).await?;
    }
    Ok(ok)
}

/// A change to a factor, audited.
fn changed(
    host: &LoginHost<'_>,
    session: &Session,
    event: FactorEvent,
    kind: FactorKindLabel,
    detail: &str,
) {
    audit::record(
        host.audit_context(),
        AuditEvent::SecondFactor {
            event,
            username: &session.username,
            kind: kind.label(),
            detail,
        },
    );
}

/// `POST /security/factor`: `action=rename|remove`, `handle`, `name`, `confirm`.
pub async fn change_factor(
    host: &LoginHost<'_>,
    visitor: Option<&Visitor>,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Response<Bytes>, GatewayError> {
    let lang = host.language(form.non_empty("lang"), headers);
    let Some(visitor) = visitor else {
        return Ok(to_login(host, "/security"));
    };
    let (Some(directory), Some(mfa)) = (host.shared.directory.as_ref(), host.config().mfa.as_ref())
    else {
        return Ok(second_factor::unavailable(host, lang));
    };
    let Some(factors) = person(host, &visitor.session).await? else {
        return Ok(second_factor::unavailable(host, lang));
    };
    if let Some(redirect) = needs_step_up(host, visitor, &factors, "/security") {
        return Ok(redirect);
    }
    let session = &visitor.session;
    if let Some(refused) = check_change(host, visitor, headers, form, &factors, lang).await? {
        return Ok(refused);
    }
    let handle = form.get("handle");
    let passkey = factors.passkeys.iter().any(|f| f.handle() == handle);
    let kind = if passkey {
        FactorKindLabel::Passkey
    } else {
        FactorKindLabel::Totp
    };
    let done = match form.get("action") {
        "remove" => {
            let removed = enrol::remove(directory, &factors, owner(session), handle).await?;
            if removed {
                changed(host, session, FactorEvent::Removed, kind, handle);
            }
            removed
        }
        "rename" => {
            let name = enrol::clean_name(form.get("name"), factor_texts::of(lang).default_app_name);
            let renamed = if passkey {
                enrol::rename_passkey(
                    directory,
                    &mfa.sealer,
                    &factors,
                    owner(session),
                    handle,
                    &name,
                )
                .await?
            } else {
                enrol::rename_totp(
                    directory,
                    &mfa.sealer,
                    &factors,
                    owner(session),
                    handle,
                    &name,
                )
                .await?
            };
            if renamed {
                changed(host, session, FactorEvent::Renamed, kind, handle);
            }
            renamed
        }
        _ => false,
    };
    if !done {
        return Err(GatewayError::BadForm);
    }
    page(
        host,
        visitor,
        lang,
        Some(factor_texts::of(lang).saved.to_owned()),
        None,
        StatusCode::OK,
    )
    .await
}

/// The checks every change of the security page makes: the anti-forgery token and the
/// confirmation. `Some` is the page that refuses it.
async fn check_change(
    host: &LoginHost<'_>,
    visitor: &Visitor,
    headers: &HeaderMap,
    form: &Form,
    factors: &PersonFactors,
    lang: Lang,
) -> Result<Option<Response<Bytes>>, GatewayError> {
    if !csrf::check(headers, form.get("csrf"), &host.login_origin()) {
        return page(
            host,
            visitor,
            lang,
            None,
            Some(CodeProblem::FormExpired),
            StatusCode::FORBIDDEN,
        )
        .await
        .map(Some);
    }
    if !confirmed(host, &visitor.session, factors, form.get("confirm")).await? {
        return page(
            host,
            visitor,
            lang,
            None,
            Some(CodeProblem::WrongConfirmation),
            StatusCode::UNAUTHORIZED,
        )
        .await
        .map(Some);
    }
    Ok(None)
}

/// `POST /security/recovery`: a new set of recovery codes, shown once.
pub async fn renew_recovery_codes(
    host: &LoginHost<'_>,
    visitor: Option<&Visitor>,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Response<Bytes>, GatewayError> {
    let lang = host.language(form.non_empty("lang"), headers);
    let Some(visitor) = visitor else {
        return Ok(to_login(host, "/security"));
    };
    let (Some(directory), Some(mfa)) = (host.shared.directory.as_ref(), host.config().mfa.as_ref())
    else {
        return Ok(second_factor::unavailable(host, lang));
    };
    let Some(factors) = person(host, &visitor.session).await? else {
        return Ok(second_factor::unavailable(host, lang));
    };
    if let Some(redirect) = needs_step_up(host, visitor, &factors, "/security") {
        return Ok(redirect);
    }
    if let Some(refused) = check_change(host, visitor, headers, form, &factors, lang).await? {
        return Ok(refused);
    }
    let session = &visitor.session;
    let codes = enrol::new_recovery_codes(
        directory,
        &mfa.sealer,
        owner(session),
        &factors,
        host.ctx.now,
    )
    .await?;
    changed(
        host,
        session,
        FactorEvent::RecoveryCodesRenewed,
        FactorKindLabel::RecoveryCode,
        &codes.len().to_string(),
    );
    Ok(respond_html(
        StatusCode::OK,
        factor_pages::recovery_codes(lang, &host.config().portal.theme, &codes, "/security"),
    ))
}

/// `POST /security/sessions/end`: ends one of the person's own sessions (never another
/// person's: the handle must be among theirs). Ending this browser's own is a logout.
pub async fn end_session(
    host: &LoginHost<'_>,
    visitor: Option<&Visitor>,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Response<Bytes>, GatewayError> {
    let lang = host.language(form.non_empty("lang"), headers);
    let Some(visitor) = visitor else {
        return Ok(to_login(host, "/security"));
    };
    if !csrf::check(headers, form.get("csrf"), &host.login_origin()) {
        return Err(GatewayError::BadForm);
    }
    let Ok(sid) = Sid::parse(form.get("sid")) else {
        return Err(GatewayError::BadForm);
    };
    if sid == visitor.session.sid {
        signout::sign_out(host, visitor).await?;
        let mut response = respond_html(
            StatusCode::OK,
            crate::web::pages::signed_out(lang, &host.config().portal.theme),
        );
        signout::clear_session_cookies(host, response.headers_mut());
        return Ok(response);
    }
    let now = host.ctx.now;
    let theirs = host
        .sessions()
        .list(Some(&visitor.session.subject), now)
        .await?
        .iter()
        .any(|s| s.sid == sid);
    if !theirs {
        return Err(GatewayError::BadForm);
    }
    host.sessions().revoke(&sid).await?;
    audit::record(
        host.audit_context(),
        AuditEvent::SessionRevoked {
            subject: &visitor.session.subject,
            session: &sid.to_string(),
            by: &visitor.session.username,
        },
    );
    page(
        host,
        visitor,
        lang,
        Some(factor_texts::of(lang).saved.to_owned()),
        None,
        StatusCode::OK,
    )
    .await
}

/// Where a session that just logged in with a password goes when its person must have a
/// second factor and has none: the enrolment, then `return_to`.
pub fn enrolment_url(return_to: Option<&ReturnTo>) -> String {
    match return_to {
        Some(target) => format!("/security/totp?return_to={}", encode(target.as_str())),
        None => "/security/totp".to_owned(),
    }
}
