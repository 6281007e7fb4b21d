//! A passkey as the second factor of the step-up page: `POST /mfa/passkey/options`, then the
//! assertion to `POST /mfa/passkey/verify`; the session is stepped up in place.

use pforte_factors::passkey::CeremonyState;

use super::refusal::{
    Outcome, Refusal, Stop, internal, judge, options as options_reply, reason, redirect,
};
use super::{
    OptionsRequest, Pending, Person, audit_factor, failed, keep, method_of, owner, relying_party,
    step_up_key, take, throttle, write_back,
};
use crate::login_host::LoginHost;
use crate::portal::return_to::ReturnTo;
use crate::portal::throttle::{Attempt, record_failure};
use crate::telemetry::audit::FactorEvent;
use crate::telemetry::metrics::{FactorKindLabel, FactorResult};
use crate::visitor::Visitor;

/// `POST /mfa/passkey/options`: `{"return_to": "..."}`.
pub(super) async fn options(
    host: &LoginHost<'_>,
    visitor: Option<&Visitor>,
    body: &str,
) -> Outcome {
    let request = OptionsRequest::parse(body)?;
    let person = Person::of(host, visitor).await?;
    let stored = person.stored();
    if stored.is_empty() {
        return Err(Refusal::NoPasskey.into());
    }
    let session = person.session;
    throttle(host, &Attempt::of(host, &session.username, host.ctx.now)).await?;
    let challenge = relying_party(host)?
        .start_authentication(&stored)
        .map_err(internal)?;
    let pending = Pending {
        state: challenge.state.as_str().to_owned(),
        subject: Some(session.subject.clone()),
        name: String::new(),
        return_to: request.return_to,
        handover: None,
    };
    keep(host, &step_up_key(session), &pending).await?;
    Ok(options_reply(challenge.options))
}

/// `POST /mfa/passkey/verify`: the assertion; the session is stepped up in place.
pub(super) async fn finish(host: &LoginHost<'_>, visitor: Option<&Visitor>, body: &str) -> Outcome {
    let person = Person::of(host, visitor).await?;
    let session = person.session;
    let now = host.ctx.now;
    let attempt = Attempt::of(host, &session.username, now);
    throttle(host, &attempt).await?;
    let pending = match take(host, &step_up_key(session)).await {
        Ok(p) if p.subject.as_deref() == Some(session.subject.as_str()) => p,
        Ok(_) | Err(Stop::Refused(_)) => {
            // No ceremony waits: expired, or this answer was used already (a replay).
            failed(
                host,
                &session.username,
                FactorResult::Replayed,
                "no_ceremony",
            );
            record_failure(host, &attempt.account, &attempt.source, now).await?;
            return Err(Refusal::Expired.into());
        }
        Err(e) => return Err(e),
    };
    let state = CeremonyState::from_stored(pending.state);
    let verified = match relying_party(host)?.finish_authentication(&state, body, &person.stored())
    {
        Ok(verified) => verified,
        Err(e) => {
            let (refusal, result) = judge(&e)?;
            failed(host, &session.username, result, reason(&e));
            record_failure(host, &attempt.account, &attempt.source, now).await?;
            return Err(refusal.into());
        }
    };
    write_back(
        person.directory,
        &person.mfa.sealer,
        owner(session),
        &person.passkeys,
        &verified,
    )
    .await?;
    let method = method_of(verified.backup_eligible);
    if host
        .sessions()
        .step_up(&session.sid, method, now)
        .await?
        .is_none()
    {
        return Err(Refusal::NoSession.into());
    }
    host.shared
        .metrics
        .record_second_factor(FactorKindLabel::Passkey, FactorResult::Success);
    audit_factor(
        host,
        &session.username,
        FactorEvent::Verified,
        &session.sid.to_string(),
    );
    let next = pending
        .return_to
        .as_deref()
        .and_then(|raw| crate::portal::check_return_to(host, raw));
    Ok(redirect(next.as_ref().map_or("/", ReturnTo::as_str)))
}
