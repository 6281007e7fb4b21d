//! `GET /login` shows the form; `POST /login` checks it: anti-forgery token, brute-force
//! throttle (per account and per source address, shared through the session store), then the
//! directory. Unknown user, wrong password and disabled account get one and the same answer; an
//! unreachable directory is "try again", never "wrong password". Success opens a new session
//! (a new id, whatever cookie came in: no fixation) and sends the person on to where they were
//! going, if that is a host of this gateway, or to the portal.

use std::net::IpAddr;

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode, header};
use pforte_directory::{AuthError, FailureReason as DirectoryFailure, UserRecord};
use pforte_session::{NewSession, SessionId, StoreError, Throttle, ThrottleKind, Timestamp};

use super::return_to::ReturnTo;
use crate::config::lang::Lang;
use crate::handover::Binding;
use crate::login_host::LoginHost;
use crate::policy::engine::LoginStrength;
use crate::telemetry::audit::{self, AuditEvent, FailureReason};
use crate::telemetry::metrics::LoginResult;
use crate::web::error::GatewayError;
use crate::web::pages::{self, LoginProblem, LoginView};
use crate::web::reply::respond_html;
use crate::web::{cookies, csrf};

/// The fields of a posted login form.
#[derive(Default)]
pub struct LoginForm {
    /// The user name as typed.
    pub username: String,
    /// The password (never logged, never echoed).
    pub password: String,
    /// The anti-forgery token.
    pub csrf: String,
    /// Where to go afterwards.
    pub return_to: Option<String>,
    /// The hand-over binding of the app host that sent the person here.
    pub handover: Option<String>,
    /// The language the form was shown in.
    pub lang: Option<String>,
}

impl LoginForm {
    /// Reads an `application/x-www-form-urlencoded` body; unknown fields are ignored, the first
    /// of repeated ones wins.
    pub fn parse(body: &[u8]) -> Self {
        let mut form = Self::default();
        let mut seen = [false; 6];
        for (key, value) in form_urlencoded::parse(body) {
            let (slot, index) = match key.as_ref() {
                "username" => (&mut form.username, 0),
                "password" => (&mut form.password, 1),
                "csrf" => (&mut form.csrf, 2),
                "return_to" => {
                    if !seen[3] {
                        form.return_to = Some(value.into_owned());
                        seen[3] = true;
                    }
                    continue;
                }
                "lang" => {
                    if !seen[4] {
                        form.lang = Some(value.into_owned());
                        seen[4] = true;
                    }
                    continue;
                }
                "handover" => {
                    if !seen[5] {
                        form.handover = Some(value.into_owned());
                        seen[5] = true;
                    }
                    continue;
                }
                _ => continue,
            };
            if !seen[index] {
                *slot = value.into_owned();
                seen[index] = true;
            }
        }
        form
    }
}

/// The form, for someone not logged in. A fresh anti-forgery token comes with it.
pub fn show(
    host: &LoginHost<'_>,
    lang: Lang,
    return_to: Option<&ReturnTo>,
    handover: Option<&Binding>,
    username: &str,
    problem: Option<LoginProblem>,
    status: StatusCode,
) -> Response<Bytes> {
    let token = csrf::new_token();
    let body = pages::login(&LoginView {
        lang,
        theme: &host.config().portal.theme,
        csrf: &token,
        return_to: return_to.map(ReturnTo::as_str),
        handover: handover.map(Binding::as_str),
        username,
        problem,
    });
    let mut response = respond_html(status, body);
    if let Some(cookie) = cookies::set(cookies::CSRF, &token, FORM_LIFETIME) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// How long a shown form may be submitted.
const FORM_LIFETIME: std::time::Duration = std::time::Duration::from_secs(3600);

/// Checks a posted form and, on success, opens the session and redirects.
pub async fn submit(
    host: &LoginHost<'_>,
    headers: &HeaderMap,
    form: LoginForm,
    now: Timestamp,
) -> Result<Response<Bytes>, GatewayError> {
    let lang = host.language(form.lang.as_deref(), headers);
    let return_to = form
        .return_to
        .as_deref()
        .and_then(|raw| super::check_return_to(host, raw));
    let handover = form.handover.as_deref().and_then(Binding::parse);
    let again = |problem: LoginProblem, status: StatusCode| {
        Ok(show(
            host,
            lang,
            return_to.as_ref(),
            handover.as_ref(),
            &form.username,
            Some(problem),
            status,
        ))
    };
    if !csrf::check(headers, &form.csrf, &host.login_origin()) {
        super::refused(host, &form.username, FailureReason::Csrf, LoginResult::Csrf);
        return again(LoginProblem::FormExpired, StatusCode::FORBIDDEN);
    }
    let username = form.username.trim();
    if username.is_empty() || form.password.is_empty() {
        super::refused(
            host,
            username,
            FailureReason::BadInput,
            LoginResult::BadInput,
        );
        let missing = LoginProblem::Missing {
            username: username.is_empty(),
            password: form.password.is_empty(),
        };
        return again(missing, StatusCode::BAD_REQUEST);
    }
    let store = host.sessions();
    let account = username.to_lowercase();
    let source = host.ctx.peer.ip().to_canonical().to_string();
    let throttle = store.login_check(&account, &source, now).await?;
    if throttle.verdict != Throttle::Allowed {
        super::refused(
            host,
            username,
            FailureReason::Throttled,
            LoginResult::Throttled,
        );
        return again(LoginProblem::Throttled, StatusCode::TOO_MANY_REQUESTS);
    }
    let Some(directory) = host.shared.directory.as_ref() else {
        super::refused(
            host,
            username,
            FailureReason::DirectoryUnavailable,
            LoginResult::DirectoryUnavailable,
        );
        return again(
            LoginProblem::DirectoryUnavailable,
            StatusCode::SERVICE_UNAVAILABLE,
        );
    };
    let user = match directory.authenticate(username, &form.password).await {
        Ok(user) => user,
        Err(AuthError::InvalidCredentials(reason)) => {
            let reason = match reason {
                DirectoryFailure::UnknownUser => FailureReason::UnknownUser,
                DirectoryFailure::WrongPassword => FailureReason::WrongPassword,
                DirectoryFailure::Disabled => FailureReason::Disabled,
            };
            super::refused(host, username, reason, LoginResult::BadCredentials);
            record_failure(host, &account, &source, now).await?;
            return again(LoginProblem::BadCredentials, StatusCode::UNAUTHORIZED);
        }
        Err(AuthError::Malformed(_)) => {
            super::refused(
                host,
                username,
                FailureReason::BadInput,
                LoginResult::BadCredentials,
            );
            record_failure(host, &account, &source, now).await?;
            return again(LoginProblem::BadCredentials, StatusCode::UNAUTHORIZED);
        }
        Err(AuthError::Unavailable(e)) => {
            tracing::warn!(error = %e, "directory unavailable");
            super::refused(
                host,
                username,
                FailureReason::DirectoryUnavailable,
                LoginResult::DirectoryUnavailable,
            );
            return again(
                LoginProblem::DirectoryUnavailable,
                StatusCode::SERVICE_UNAVAILABLE,
            );
        }
    };
    if throttle.account_failures {
        store.clear(ThrottleKind::Account, &account).await?;
    }
    let (id, sid) = open_session(host, user, now).await?;
    let mut response =
        super::after_login(host, &id, return_to.as_ref(), handover.as_ref(), now).await?;
    let value = id.to_cookie_value();
    if let Some(cookie) = cookies::set(cookies::SESSION, &value, host.cookie_lifetime()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    if let Some(domain) = &host.config().portal.cookie_domain
        && let Some(cookie) = cookies::set_for_domain(
            cookies::DOMAIN_SESSION,
            &value,
            domain,
            host.cookie_lifetime(),
        )
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::clear(cookies::CSRF));
    host.shared.metrics.record_login(LoginResult::Success);
    tracing::debug!(session = %sid, "session opened");
    Ok(response)
}

async fn open_session(
    host: &LoginHost<'_>,
    user: UserRecord,
    now: Timestamp,
) -> Result<(SessionId, String), StoreError> {
    let source: IpAddr = host.ctx.peer.ip().to_canonical();
    let new = NewSession {
        subject: user.subject,
        username: user.username,
        display_name: user.display_name,
        email: user.email,
        groups: user.groups,
        login: LoginStrength::Password,
        auth_time: now,
        source,
    };
    let (id, session) = host.sessions().create(new, now).await?;
    let sid = session.sid.to_string();
    audit::record(
        host.audit_context(),
        AuditEvent::LoginSuccess {
            subject: &session.subject,
            username: &session.username,
            session: &sid,
        },
    );
    Ok((id, sid))
}

/// Counts a failure against the account and the address; a lock is audited and metered.
async fn record_failure(
    host: &LoginHost<'_>,
    account: &str,
    source: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    for (kind, key) in [
        (ThrottleKind::Account, account),
        (ThrottleKind::Source, source),
    ] {
        if let Throttle::Locked { .. } = host.sessions().record_failure(kind, key, now).await? {
            host.shared.metrics.record_lockout();
            audit::record(
                host.audit_context(),
                AuditEvent::Lockout {
                    scope: kind.as_str(),
                    key,
                },
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_is_read_with_first_values_winning() {
        let form = LoginForm::parse(
            b"username=alice&password=p%26w%3D1&csrf=t&return_to=https%3A%2F%2Fmail.x%2F&lang=de&username=mallory&extra=1",
        );
        assert_eq!(form.username, "alice");
        assert_eq!(form.password, "p&w=1");
        assert_eq!(form.csrf, "t");
        assert_eq!(form.return_to.as_deref(), Some("https://mail.x/"));
        assert_eq!(form.lang.as_deref(), Some("de"));
        let empty = LoginForm::parse(b"\xff\xfe=&&=");
        assert!(empty.username.is_empty() && empty.return_to.is_none());
    }
}
