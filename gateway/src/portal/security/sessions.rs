//! `POST /security/sessions/end`: a person ends one of their own sessions, on every replica
//! within the revocation bound; ending this browser's own is a logout.

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use pforte_session::Sid;

use super::page::page;
use super::to_login;
use crate::login_host::LoginHost;
use crate::signout;
use crate::telemetry::audit::{self, AuditEvent};
use crate::visitor::Visitor;
use crate::web::error::GatewayError;
use crate::web::form::Form;
use crate::web::reply::respond_html;
use crate::web::{csrf, factor_texts};

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
