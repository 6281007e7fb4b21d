//! Enrolling an authenticator app: `GET /security/totp` shows the QR code and the key of a
//! secret kept (sealed) in the session store; `POST /security/totp` saves it once a code from
//! the app is right, steps the session up, and for a first factor shows ten recovery codes.

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use pforte_session::AuthMethod;

use super::{
    Begun, Change, begin, changed, confirmation_needed, confirmed, needs_step_up, owner, person,
    to_login,
};
use crate::config::lang::Lang;
use crate::login_host::LoginHost;
use crate::mfa::account::PersonFactors;
use crate::mfa::code::Verdict;
use crate::mfa::enrol;
use crate::portal::return_to::ReturnTo;
use crate::portal::second_factor::{self, onward};
use crate::telemetry::audit::FactorEvent;
use crate::telemetry::metrics::{FactorKindLabel, FactorResult};
use crate::visitor::Visitor;
use crate::web::error::GatewayError;
use crate::web::factor_pages::{self, CodeProblem, EnrolView};
use crate::web::form::Form;
use crate::web::reply::{respond_html, see_other};
use crate::web::{csrf, factor_texts};

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
    let return_to = form
        .non_empty("return_to")
        .and_then(|raw| crate::portal::check_return_to(host, raw));
    let Change {
        visitor,
        factors,
        keeping,
        lang,
    } = match begin(host, visitor, headers, form, "/security/totp").await? {
        Begun::Go(change) => change,
        Begun::Answer(answer) => return Ok(answer),
    };
    let (directory, sealer) = (keeping.directory, keeping.sealer);
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
    let attempt = crate::portal::throttle::Attempt::of(host, &session.username, now);
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
        crate::portal::throttle::record_failure(host, &attempt.account, &attempt.source, now)
            .await?;
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
    let codes = enrol::new_recovery_codes(directory, sealer, owner(session), &factors, now).await?;
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
