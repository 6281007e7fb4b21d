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

//!
//! ```text
//! mod         who may change what: the person, their factors, the step-up and the
//!             confirmation every change needs (`Change`)
//! page        the page itself
//! enrolment   an authenticator app: QR code, confirming code, the first recovery codes
//! changes     renaming and removing factors, new recovery codes
//! sessions    ending one of the person's sessions
//! ```

mod changes;
mod enrolment;
mod page;
mod sessions;

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Response};
use pforte_directory::AuthError;
use pforte_session::{Session, Timestamp};

use super::second_factor;
use crate::config::lang::Lang;
use crate::login_host::LoginHost;
use crate::mfa::Keeping;
use crate::mfa::account::{self, Owner, PersonFactors};
use crate::mfa::code::{self, Verdict};
use crate::policy::engine::LoginStrength;
use crate::telemetry::audit::{self, AuditEvent, FactorEvent};
use crate::telemetry::metrics::FactorKindLabel;
use crate::visitor::Visitor;
use crate::web::error::GatewayError;
use crate::web::form::Form;
use crate::web::reply::see_other;
use crate::web::url::encode;

pub use changes::{change_factor, renew_recovery_codes};
pub use enrolment::{confirm_enrolment, show_enrolment};
pub use page::show;
pub use sessions::end_session;

/// A login this recent needs no confirmation for a first enrolment.
const FRESH_LOGIN: Duration = Duration::from_secs(300);

/// `/security...` for someone without a session: log in first, then come back.
fn to_login(host: &LoginHost<'_>, path: &str) -> Response<Bytes> {
    let back = format!("{}{path}", host.login_origin());
    see_other(&format!("/login?return_to={}", encode(&back)))
}

/// The person's factors; `None` when second factors are not set up (no directory or no
/// `[mfa]`), or the directory no longer knows the person.
async fn person(
    host: &LoginHost<'_>,
    session: &Session,
) -> Result<Option<PersonFactors>, GatewayError> {
    let Some(keeping) = keeping(host) else {
        return Ok(None);
    };
    Ok(account::load(keeping.directory, keeping.sealer, owner(session)).await?)
}

/// Where factors are kept, when second factors are set up.
fn keeping<'h>(host: &'h LoginHost<'_>) -> Option<Keeping<'h>> {
    Some(Keeping {
        sessions: host.sessions(),
        directory: host.shared.directory.as_ref()?,
        sealer: &host.config().mfa.as_ref()?.sealer,
    })
}

fn owner(session: &Session) -> Owner<'_> {
    Owner {
        username: &session.username,
        subject: &session.subject,
    }
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

/// What a form that changes factors works with, once the person is known, second factors are
/// set up and a session that must step up first has been sent to do so.
struct Change<'h> {
    visitor: &'h Visitor,
    factors: PersonFactors,
    keeping: Keeping<'h>,
    lang: Lang,
}

/// The start of a change: go on with it, or answer with this.
enum Begun<'h> {
    Go(Change<'h>),
    Answer(Response<Bytes>),
}

/// The checks before any change: a session (else the login, then back to `path`), second
/// factors set up, a stepped-up session for a person who has a factor.
async fn begin<'h>(
    host: &'h LoginHost<'_>,
    visitor: Option<&'h Visitor>,
    headers: &HeaderMap,
    form: &Form,
    path: &str,
) -> Result<Begun<'h>, GatewayError> {
    let lang = host.language(form.non_empty("lang"), headers);
    let Some(visitor) = visitor else {
        return Ok(Begun::Answer(to_login(host, path)));
    };
    let (Some(keeping), Some(factors)) = (keeping(host), person(host, &visitor.session).await?)
    else {
        return Ok(Begun::Answer(second_factor::unavailable(host, lang)));
    };
    if let Some(redirect) = needs_step_up(host, visitor, &factors, path) {
        return Ok(Begun::Answer(redirect));
    }
    Ok(Begun::Go(Change {
        visitor,
        factors,
        keeping,
        lang,
    }))
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
    let attempt = super::throttle::Attempt::of(host, &session.username, now);
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
        super::throttle::record_failure(host, &attempt.account, &attempt.source, now).await?;
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
