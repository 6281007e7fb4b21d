//! Adding a passkey on the security page: `POST /security/passkey/options` with the name,
//! then the new credential to `POST /security/passkey/register`.

use pforte_directory::{DirectoryError, FactorKind};
use pforte_factors::passkey::{CeremonyState, user_handle};
use pforte_factors::seal::Purpose;
use pforte_session::Timestamp;

use super::refusal::{
    Outcome, Refusal, internal, judge, options as options_reply, reason, redirect,
};
use super::{
    OptionsRequest, Pending, Person, audit_factor, failed, keep, method_of, registration_key,
    relying_party, take,
};
use crate::login_host::LoginHost;
use crate::mfa::FactorError;
use crate::mfa::account;
use crate::policy::engine::LoginStrength;
use crate::telemetry::audit::FactorEvent;
use crate::telemetry::metrics::{FactorKindLabel, FactorResult};
use crate::visitor::Visitor;
use crate::web::passkey_texts;

/// Who may add a passkey from this session: a person with a second factor only from a session
/// that used one; a person without, only right after their login (as the authenticator-app
/// enrolment).
fn may_register(person: &Person<'_>, now: Timestamp) -> Result<(), Refusal> {
    if person.factors.has_second_factor() {
        if person.session.login != LoginStrength::Mfa {
            return Err(Refusal::StepUpFirst);
        }
    } else if crate::portal::security::confirmation_needed(person.session, &person.factors, now) {
        return Err(Refusal::LoginAgain);
    }
    Ok(())
}

/// `POST /security/passkey/options`: `{"name": "..."}`.
pub(super) async fn options(
    host: &LoginHost<'_>,
    visitor: Option<&Visitor>,
    body: &str,
) -> Outcome {
    let request = OptionsRequest::parse(body)?;
    let person = Person::of(host, visitor).await?;
    may_register(&person, host.ctx.now)?;
    let lang = host.language(request.lang.as_deref(), &http::HeaderMap::new());
    let name = crate::mfa::enrol::clean_name(
        request.name.as_deref().unwrap_or_default(),
        passkey_texts::of(lang).default_name,
    );
    let session = person.session;
    let challenge = relying_party(host)?
        .start_registration(
            user_handle(&session.subject),
            &session.username,
            &session.display_name,
            &person.stored(),
        )
        .map_err(internal)?;
    // A passkey that is to log in alone must be discoverable: it names its person.
    let challenge = if host.passwordless_offered() {
        challenge.preferring_discoverable().map_err(internal)?
    } else {
        challenge
    };
    let pending = Pending {
        state: challenge.state.as_str().to_owned(),
        subject: Some(session.subject.clone()),
        name,
        return_to: None,
        handover: None,
    };
    keep(host, &registration_key(session), &pending).await?;
    Ok(options_reply(challenge.options))
}

/// `POST /security/passkey/register`: the new credential.
pub(super) async fn finish(host: &LoginHost<'_>, visitor: Option<&Visitor>, body: &str) -> Outcome {
    let person = Person::of(host, visitor).await?;
    let now = host.ctx.now;
    may_register(&person, now)?;
    let session = person.session;
    let pending = take(host, &registration_key(session)).await?;
    if pending.subject.as_deref() != Some(session.subject.as_str()) {
        return Err(Refusal::Expired.into());
    }
    let state = CeremonyState::from_stored(pending.state);
    let stored = match relying_party(host)?.finish_registration(
        &state,
        body,
        &pending.name,
        now.unix_secs(),
    ) {
        Ok(stored) => stored,
        Err(e) => {
            let (refusal, result) = judge(&e)?;
            failed(host, &session.username, result, reason(&e));
            return Err(refusal.into());
        }
    };
    if person
        .passkeys
        .iter()
        .any(|(_, p)| p.credential_id() == stored.credential_id())
    {
        return Err(Refusal::AlreadyRegistered.into());
    }
    let sealed = account::seal(
        &person.mfa.sealer,
        Purpose::Passkey,
        &session.subject,
        &stored,
    )?;
    match person
        .directory
        .add_factor(&session.username, FactorKind::Passkey, &sealed)
        .await
    {
        Ok(()) => {}
        Err(DirectoryError::InvalidInput(_)) => return Err(Refusal::TooMany.into()),
        Err(e) => return Err(FactorError::Directory(e).into()),
    }
    audit_factor(
        host,
        &session.username,
        FactorEvent::Enrolled,
        stored.name(),
    );
    host.shared
        .metrics
        .record_second_factor(FactorKindLabel::Passkey, FactorResult::Success);
    if !person.factors.has_second_factor() {
        let method = method_of(stored.backup_eligible());
        host.sessions().step_up(&session.sid, method, now).await?;
    }
    Ok(redirect("/security"))
}
