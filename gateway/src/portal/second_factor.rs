//! `GET /mfa` asks a signed-in person for a second factor; `POST /mfa` checks it and steps the
//! session up in place (every replica sees the stronger login within the revocation bound),
//! then sends the person back where the step-up was asked for: an app whose rule says
//! `login = "mfa"`, or an OpenID Connect authorization that asked for it.
//!
//! ```text
//! no session ─────────────────▶ /login?return_to=…   (the app asks again after the login)
//! already MFA ────────────────▶ return_to
//! no factor yet ──────────────▶ /security/totp?return_to=…   (enrolment proves possession)
//! code ─ throttle ─ check ─ replay guard ─ step up ─▶ return_to
//! ```
//!
//! Wrong, replayed and malformed codes count in the same brute-force throttle as wrong
//! passwords (per account and per address), are audited and metered.

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use pforte_session::{AuthMethod, Throttle, Timestamp};

use super::return_to::ReturnTo;
use crate::config::lang::Lang;
use crate::login_host::LoginHost;
use crate::mfa::account::{self, Owner, PersonFactors};
use crate::mfa::code::{self, Verdict};
use crate::telemetry::audit::{self, AuditEvent, FactorEvent};
use crate::telemetry::metrics::{FactorKindLabel, FactorResult};
use crate::visitor::Visitor;
use crate::web::csrf;
use crate::web::error::GatewayError;
use crate::web::factor_pages::{self, CodeProblem, SecondFactorView};
use crate::web::form::Form;
use crate::web::reply::{respond_html, see_other};
use crate::web::url::encode;

/// Where a person without a session goes first: the login page, then back to `return_to`,
/// which asks for the step-up again.
fn to_login(return_to: Option<&ReturnTo>) -> Response<Bytes> {
    match return_to {
        Some(target) => see_other(&format!("/login?return_to={}", encode(target.as_str()))),
        None => see_other("/login"),
    }
}

/// Where a stepped-up person goes: `return_to`, or the portal.
pub fn onward(return_to: Option<&ReturnTo>) -> Response<Bytes> {
    see_other(return_to.map_or("/", ReturnTo::as_str))
}

/// The person's factors, or the page that says second factors are not set up here.
async fn factors_of(
    host: &LoginHost<'_>,
    visitor: &Visitor,
) -> Result<Option<PersonFactors>, GatewayError> {
    let (Some(directory), Some(mfa)) = (host.shared.directory.as_ref(), host.config().mfa.as_ref())
    else {
        return Ok(None);
    };
    let owner = Owner {
        username: &visitor.session.username,
        subject: &visitor.session.subject,
    };
    Ok(account::load(directory, &mfa.sealer, owner).await?)
}

/// `GET /mfa`.
pub async fn show(
    host: &LoginHost<'_>,
    visitor: Option<&Visitor>,
    lang: Lang,
    return_to: Option<&ReturnTo>,
) -> Result<Response<Bytes>, GatewayError> {
    let Some(visitor) = visitor else {
        return Ok(to_login(return_to));
    };
    if visitor.session.login == pforte_policy::LoginStrength::Mfa {
        return Ok(onward(return_to));
    }
    let Some(factors) = factors_of(host, visitor).await? else {
        return Ok(unavailable(host, lang));
    };
    if !factors.has_second_factor() {
        let mut enrol = "/security/totp".to_owned();
        if let Some(target) = return_to {
            enrol.push_str("?return_to=");
            enrol.push_str(&encode(target.as_str()));
        }
        return Ok(see_other(&enrol));
    }
    Ok(page(host, lang, return_to, &factors, None, StatusCode::OK))
}

/// The step-up page with a fresh anti-forgery token.
fn page(
    host: &LoginHost<'_>,
    lang: Lang,
    return_to: Option<&ReturnTo>,
    factors: &PersonFactors,
    problem: Option<CodeProblem>,
    status: StatusCode,
) -> Response<Bytes> {
    let token = csrf::new_token();
    let body = factor_pages::second_factor(&SecondFactorView {
        lang,
        theme: &host.config().portal.theme,
        csrf: &token,
        return_to: return_to.map(ReturnTo::as_str),
        totp: !factors.totp.is_empty(),
        recovery: !factors.recovery.is_empty(),
        passkeys: !factors.passkeys.is_empty(),
        problem,
    });
    let respond = if factors.passkeys.is_empty() {
        respond_html
    } else {
        crate::web::reply::respond_html_with_passkeys
    };
    csrf::with_cookie(respond(status, body), &token, csrf::FORM_LIFETIME)
}

/// The page that says second factors are not set up on this gateway.
pub fn unavailable(host: &LoginHost<'_>, lang: Lang) -> Response<Bytes> {
    respond_html(
        StatusCode::FORBIDDEN,
        factor_pages::unavailable(lang, &host.config().portal.theme),
    )
}

/// `POST /mfa`.
pub async fn submit(
    host: &LoginHost<'_>,
    visitor: Option<&Visitor>,
    headers: &HeaderMap,
    form: &Form,
    now: Timestamp,
) -> Result<Response<Bytes>, GatewayError> {
    let lang = host.language(form.non_empty("lang"), headers);
    let return_to = form
        .non_empty("return_to")
        .and_then(|raw| super::check_return_to(host, raw));
    let Some(visitor) = visitor else {
        return Ok(to_login(return_to.as_ref()));
    };
    let Some(factors) = factors_of(host, visitor).await? else {
        return Ok(unavailable(host, lang));
    };
    let again = |problem, status| {
        page(
            host,
            lang,
            return_to.as_ref(),
            &factors,
            Some(problem),
            status,
        )
    };
    if !csrf::check(headers, form.get("csrf"), &host.login_origin()) {
        return Ok(again(CodeProblem::FormExpired, StatusCode::FORBIDDEN));
    }
    let recovery = form.non_empty("recovery_code");
    let kind = if recovery.is_some() {
        FactorKindLabel::RecoveryCode
    } else {
        FactorKindLabel::Totp
    };
    let session = &visitor.session;
    let attempt = super::throttle::Attempt::of(host, &session.username, now);
    if host
        .sessions()
        .login_check(&attempt.account, &attempt.source, now)
        .await?
        .verdict
        != Throttle::Allowed
    {
        failed(host, &session.username, kind, FactorResult::Throttled);
        return Ok(again(CodeProblem::Throttled, StatusCode::TOO_MANY_REQUESTS));
    }
    let owner = Owner {
        username: &session.username,
        subject: &session.subject,
    };
    let verdict = match (recovery, host.shared.directory.as_ref()) {
        (Some(typed), Some(directory)) => {
            code::use_recovery_code(directory, &factors, owner, typed).await?
        }
        _ => {
            code::check_totp(
                host.sessions(),
                &factors,
                &session.subject,
                form.get("code"),
                now,
            )
            .await?
        }
    };
    let (method, left) = match verdict {
        Verdict::Totp => (AuthMethod::Totp, None),
        Verdict::RecoveryCode { left } => (AuthMethod::RecoveryCode, Some(left)),
        Verdict::Replayed | Verdict::Wrong | Verdict::Malformed => {
            let (result, problem, status) = refusal(&verdict);
            failed(host, &session.username, kind, result);
            super::throttle::record_failure(host, &attempt.account, &attempt.source, now).await?;
            return Ok(again(problem, status));
        }
    };
    if host
        .sessions()
        .step_up(&session.sid, method, now)
        .await?
        .is_none()
    {
        return Ok(to_login(return_to.as_ref()));
    }
    host.shared
        .metrics
        .record_second_factor(kind, FactorResult::Success);
    audit::record(
        host.audit_context(),
        AuditEvent::SecondFactor {
            event: FactorEvent::Verified,
            username: &session.username,
            kind: kind.label(),
            detail: &session.sid.to_string(),
        },
    );
    match left {
        Some(left) => {
            audit::record(
                host.audit_context(),
                AuditEvent::SecondFactor {
                    event: FactorEvent::RecoveryCodeUsed,
                    username: &session.username,
                    kind: kind.label(),
                    detail: &format!("{left} left"),
                },
            );
            let next = return_to.as_ref().map_or("/", ReturnTo::as_str);
            Ok(respond_html(
                StatusCode::OK,
                factor_pages::recovery_used(lang, &host.config().portal.theme, left, next),
            ))
        }
        None => Ok(onward(return_to.as_ref())),
    }
}

/// What a refused code is counted as and told.
fn refusal(verdict: &Verdict) -> (FactorResult, CodeProblem, StatusCode) {
    match verdict {
        Verdict::Replayed => (
            FactorResult::Replayed,
            CodeProblem::Replayed,
            StatusCode::UNAUTHORIZED,
        ),
        Verdict::Malformed => (
            FactorResult::Malformed,
            CodeProblem::Malformed,
            StatusCode::BAD_REQUEST,
        ),
        _ => (
            FactorResult::Wrong,
            CodeProblem::Wrong,
            StatusCode::UNAUTHORIZED,
        ),
    }
}

/// A refused second factor: audited and metered.
pub fn failed(host: &LoginHost<'_>, username: &str, kind: FactorKindLabel, result: FactorResult) {
    host.shared.metrics.record_second_factor(kind, result);
    audit::record(
        host.audit_context(),
        AuditEvent::SecondFactor {
            event: FactorEvent::Failed,
            username,
            kind: kind.label(),
            detail: result.label(),
        },
    );
}

/// Where a session that just logged in with a password goes when its person must have a
/// second factor and has none: the enrolment, then `return_to`.
pub fn enrolment_url(return_to: Option<&ReturnTo>) -> String {
    match return_to {
        Some(target) => format!("/security/totp?return_to={}", encode(target.as_str())),
        None => "/security/totp".to_owned(),
    }
}
