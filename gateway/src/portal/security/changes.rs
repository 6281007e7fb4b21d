//! Renaming and removing a factor, and a new set of recovery codes: each from a stepped-up
//! session (for a person with a factor) and confirmed with the password or a current code.

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};

use super::page::page;
use super::{Begun, Change, begin, changed, confirmed, owner};
use crate::login_host::LoginHost;
use crate::mfa::enrol;
use crate::telemetry::audit::FactorEvent;
use crate::telemetry::metrics::FactorKindLabel;
use crate::visitor::Visitor;
use crate::web::error::GatewayError;
use crate::web::factor_pages::{self, CodeProblem};
use crate::web::form::Form;
use crate::web::reply::respond_html;
use crate::web::{csrf, factor_texts};

/// `POST /security/factor`: `action=rename|remove`, `handle`, `name`, `confirm`.
pub async fn change_factor(
    host: &LoginHost<'_>,
    visitor: Option<&Visitor>,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Response<Bytes>, GatewayError> {
    let change = match begin_confirmed(host, visitor, headers, form).await? {
        Begun::Go(change) => change,
        Begun::Answer(answer) => return Ok(answer),
    };
    let Change {
        visitor,
        factors,
        keeping,
        lang,
    } = change;
    let (directory, sealer) = (keeping.directory, keeping.sealer);
    let session = &visitor.session;
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
                enrol::rename_passkey(directory, sealer, &factors, owner(session), handle, &name)
                    .await?
            } else {
                enrol::rename_totp(directory, sealer, &factors, owner(session), handle, &name)
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

/// The start of a change on the security page ([`begin`]), then its anti-forgery token and its
/// confirmation.
async fn begin_confirmed<'h>(
    host: &'h LoginHost<'_>,
    visitor: Option<&'h Visitor>,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Begun<'h>, GatewayError> {
    let change = match begin(host, visitor, headers, form, "/security").await? {
        Begun::Go(change) => change,
        answer @ Begun::Answer(_) => return Ok(answer),
    };
    Ok(match check_change(host, &change, headers, form).await? {
        Some(refused) => Begun::Answer(refused),
        None => Begun::Go(change),
    })
}

/// The checks every change of the security page makes: the anti-forgery token and the
/// confirmation. `Some` is the page that refuses it.
async fn check_change(
    host: &LoginHost<'_>,
    change: &Change<'_>,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Option<Response<Bytes>>, GatewayError> {
    let (visitor, factors, lang) = (change.visitor, &change.factors, change.lang);
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
    let change = match begin_confirmed(host, visitor, headers, form).await? {
        Begun::Go(change) => change,
        Begun::Answer(answer) => return Ok(answer),
    };
    let Change {
        visitor,
        factors,
        keeping,
        lang,
    } = change;
    let (directory, sealer) = (keeping.directory, keeping.sealer);
    let session = &visitor.session;
    let codes =
        enrol::new_recovery_codes(directory, sealer, owner(session), &factors, host.ctx.now)
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
