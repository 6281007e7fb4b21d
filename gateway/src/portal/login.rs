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
use pforte_session::{
    AuthMethod, Federated, NewSession, SessionId, StoreError, Throttle, ThrottleKind, Timestamp,
};

use super::return_to::ReturnTo;
use super::throttle::{Attempt, record_failure};
use crate::config::lang::Lang;
use crate::handover::Binding;
use crate::login_host::LoginHost;
use crate::mfa::account::{self, Owner};
use crate::policy::engine::LoginStrength;
use crate::telemetry::audit::{self, AuditEvent, FailureReason};
use crate::telemetry::metrics::LoginResult;
use crate::web::error::GatewayError;
use crate::web::pages::{self, LoginProblem, LoginView, PartnerButton};
use crate::web::reply::{respond_html, respond_html_with_passkeys, see_other};
use crate::web::{cookies, csrf, device};

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
        passkeys: host.passwordless_offered(),
        partners: host
            .snapshot
            .partners
            .iter()
            .flat_map(|partners| partners.providers.iter())
            .map(|p| PartnerButton {
                id: &p.id,
                name: &p.name,
            })
            .collect(),
    });
    let response = if host.passwordless_offered() {
        respond_html_with_passkeys(status, body)
    } else {
        respond_html(status, body)
    };
    csrf::with_cookie(response, &token, csrf::FORM_LIFETIME)
}

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
    match authenticate(host, headers, &form, now).await {
        Ok(user) => Ok(log_in(
            host,
            user,
            Proof::password(),
            headers,
            return_to.as_ref(),
            handover.as_ref(),
            now,
        )
        .await?),
        Err(Refusal::Again(problem, status)) => Ok(show(
            host,
            lang,
            return_to.as_ref(),
            handover.as_ref(),
            &form.username,
            Some(problem),
            status,
        )),
        Err(Refusal::Store(e)) => Err(e.into()),
    }
}

/// Why a posted form opens no session.
enum Refusal {
    /// The form is shown again with this problem and status; the refusal is already audited
    /// and metered.
    Again(LoginProblem, StatusCode),
    /// The session store failed.
    Store(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// The checks in their order: the form itself, the throttle, the directory. A success clears
/// the account's failures (the address's stay).
async fn authenticate(
    host: &LoginHost<'_>,
    headers: &HeaderMap,
    form: &LoginForm,
    now: Timestamp,
) -> Result<UserRecord, Refusal> {
    let username = check_form(host, headers, form)?;
    let attempt = Attempt::of(host, username, now);
    let account_failures = check_throttle(host, &attempt).await?;
    let user = ask_directory(host, &attempt, &form.password).await?;
    if account_failures {
        host.sessions()
            .clear(ThrottleKind::Account, &attempt.account)
            .await?;
    }
    Ok(user)
}

/// The anti-forgery token, then both fields present; returns the trimmed user name.
fn check_form<'f>(
    host: &LoginHost<'_>,
    headers: &HeaderMap,
    form: &'f LoginForm,
) -> Result<&'f str, Refusal> {
    if !csrf::check(headers, &form.csrf, &host.login_origin()) {
        super::refused(host, &form.username, FailureReason::Csrf, LoginResult::Csrf);
        return Err(Refusal::Again(
            LoginProblem::FormExpired,
            StatusCode::FORBIDDEN,
        ));
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
        return Err(Refusal::Again(missing, StatusCode::BAD_REQUEST));
    }
    Ok(username)
}

/// The brute-force throttle, per account and per address; returns whether the account has
/// failures a success must clear.
async fn check_throttle(host: &LoginHost<'_>, attempt: &Attempt<'_>) -> Result<bool, Refusal> {
    let throttle = host
        .sessions()
        .login_check(&attempt.account, &attempt.source, attempt.now)
        .await?;
    if throttle.verdict != Throttle::Allowed {
        super::refused(
            host,
            attempt.username,
            FailureReason::Throttled,
            LoginResult::Throttled,
        );
        return Err(Refusal::Again(
            LoginProblem::Throttled,
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    Ok(throttle.account_failures)
}

/// Asks the directory. Unknown user, wrong password, disabled account and malformed input are
/// audited apart but answered alike, and counted against the throttle; an unreachable (or no)
/// directory is "try again" and counts nothing.
async fn ask_directory(
    host: &LoginHost<'_>,
    attempt: &Attempt<'_>,
    password: &str,
) -> Result<UserRecord, Refusal> {
    let Some(directory) = host.shared.directory.as_ref() else {
        return Err(directory_unavailable(host, attempt.username));
    };
    let reason = match directory.authenticate(attempt.username, password).await {
        Ok(user) => return Ok(user),
        Err(AuthError::InvalidCredentials(reason)) => match reason {
            DirectoryFailure::UnknownUser => FailureReason::UnknownUser,
            DirectoryFailure::WrongPassword => FailureReason::WrongPassword,
            DirectoryFailure::Disabled => FailureReason::Disabled,
        },
        Err(AuthError::Malformed(_)) => FailureReason::BadInput,
        Err(AuthError::Unavailable(e)) => {
            tracing::warn!(error = %e, "directory unavailable");
            return Err(directory_unavailable(host, attempt.username));
        }
    };
    super::refused(host, attempt.username, reason, LoginResult::BadCredentials);
    record_failure(host, &attempt.account, &attempt.source, attempt.now).await?;
    Err(Refusal::Again(
        LoginProblem::BadCredentials,
        StatusCode::UNAUTHORIZED,
    ))
}

/// No directory to ask: audited, metered, and "try again".
fn directory_unavailable(host: &LoginHost<'_>, username: &str) -> Refusal {
    super::refused(
        host,
        username,
        FailureReason::DirectoryUnavailable,
        LoginResult::DirectoryUnavailable,
    );
    Refusal::Again(
        LoginProblem::DirectoryUnavailable,
        StatusCode::SERVICE_UNAVAILABLE,
    )
}

/// How a person proved who they are: what the session they open records.
pub(super) struct Proof {
    /// The login's strength.
    pub(super) login: LoginStrength,
    /// What was done, in order.
    pub(super) methods: Vec<AuthMethod>,
    /// The partner's provider the person logged in at, for a federated login.
    pub(super) federated: Option<Federated>,
}

impl Proof {
    /// The directory's password.
    fn password() -> Self {
        Self {
            login: LoginStrength::Password,
            methods: vec![AuthMethod::Password],
            federated: None,
        }
    }
}

/// Opens the session for `user`, sets its cookies (and clears the anti-forgery one), and sends
/// the person on (a `303`).
pub(super) async fn log_in(
    host: &LoginHost<'_>,
    user: UserRecord,
    proof: Proof,
    headers: &HeaderMap,
    return_to: Option<&ReturnTo>,
    handover: Option<&Binding>,
    now: Timestamp,
) -> Result<Response<Bytes>, StoreError> {
    let (response, _) = log_in_as(host, user, proof, headers, return_to, handover, now).await?;
    Ok(response)
}

/// [`log_in`], also giving the new session's public handle (a federated login notes it for
/// the provider's back-channel logout).
pub(super) async fn log_in_as(
    host: &LoginHost<'_>,
    user: UserRecord,
    proof: Proof,
    headers: &HeaderMap,
    return_to: Option<&ReturnTo>,
    handover: Option<&Binding>,
    now: Timestamp,
) -> Result<(Response<Bytes>, String), StoreError> {
    let must_enrol = must_enrol_first(host, &user).await;
    let (id, sid) = open_session(host, user, proof, device::describe(headers), now).await?;
    let mut response = if must_enrol {
        see_other(&super::second_factor::enrolment_url(return_to))
    } else {
        super::after_login(host, &id, return_to, handover, now).await?
    };
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
    Ok((response, sid))
}

/// Whether the person belongs to a group that must have a second factor and has none yet: then
/// the enrolment comes before anything else. A directory that cannot say is logged and does
/// not hold the login up; the step-up of any app that needs a second factor still applies.
async fn must_enrol_first(host: &LoginHost<'_>, user: &UserRecord) -> bool {
    let (Some(directory), Some(mfa)) = (host.shared.directory.as_ref(), host.config().mfa.as_ref())
    else {
        return false;
    };
    if !mfa.must_enrol(&user.groups) {
        return false;
    }
    let owner = Owner {
        username: &user.username,
        subject: &user.subject,
    };
    match account::load(directory, &mfa.sealer, owner).await {
        Ok(factors) => factors.is_some_and(|f| !f.has_second_factor()),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the second factors of a person who must enrol");
            false
        }
    }
}

/// A login's session, on the device `device` (see [`device::describe`]).
async fn open_session(
    host: &LoginHost<'_>,
    user: UserRecord,
    proof: Proof,
    device: Option<String>,
    now: Timestamp,
) -> Result<(SessionId, String), StoreError> {
    let source: IpAddr = host.ctx.peer.ip().to_canonical();
    let new = NewSession {
        subject: user.subject,
        username: user.username,
        display_name: user.display_name,
        email: user.email,
        groups: user.groups,
        login: proof.login,
        methods: proof.methods,
        auth_time: now,
        source,
        device,
        federated: proof.federated,
    };
    let (id, session) = host.sessions().create(new, now).await?;
    let sid = session.sid.to_string();
    host.ctx.learned_subject(&session.subject);
    let event = match &session.federated {
        Some(federated) => AuditEvent::FederatedLogin {
            provider: &federated.provider,
            mode: if federated.guest { "guest" } else { "link" },
            subject: &session.subject,
            username: &session.username,
            session: &sid,
        },
        None => AuditEvent::LoginSuccess {
            subject: &session.subject,
            username: &session.username,
            session: &sid,
        },
    };
    audit::record(host.audit_context(), event);
    Ok((id, sid))
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
