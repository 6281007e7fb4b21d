//! Logging in with a passkey alone (`[mfa] passwordless`): `POST /login/passkey/options`
//! keeps the state under a random id in a short-lived cookie; the assertion to
//! `POST /login/passkey/verify` names its person by the user handle, and a verified one opens a
//! session as a whole MFA login, with the cookies and the way on of a password login.

use http::{HeaderMap, header};
use pforte_directory::{Directory, DirectoryError, UserRecord};
use pforte_factors::passkey::{
    CEREMONY_TIMEOUT, CeremonyState, StoredPasskey, UserHandle, is_user_handle_of,
};

use super::refusal::{
    Outcome, Refusal, as_json_redirect, internal, judge, options as options_reply, reason,
};
use super::{
    OptionsRequest, Pending, audit_factor, failed, keep, login_key, method_of, opened_passkeys,
    relying_party, take, throttle, write_back,
};
use crate::handover::Binding;
use crate::login_host::LoginHost;
use crate::mfa::account::{self, Owner};
use crate::policy::engine::LoginStrength;
use crate::portal::login::{self, Proof};
use crate::portal::throttle::{Attempt, record_failure};
use crate::telemetry::audit::{FactorEvent, FailureReason};
use crate::telemetry::metrics::{FactorKindLabel, FactorResult, LoginResult};
use crate::web::{cookies, csrf};

/// `POST /login/passkey/options`: `{"return_to": "...", "handover": "..."}`; the ceremony's id
/// goes into a short-lived cookie.
pub(super) async fn options(host: &LoginHost<'_>, body: &str) -> Outcome {
    if !host.passwordless_offered() {
        return Err(Refusal::Unavailable.into());
    }
    let request = OptionsRequest::parse(body)?;
    let challenge = relying_party(host)?
        .start_passwordless()
        .map_err(internal)?;
    let id = csrf::new_token();
    let pending = Pending {
        state: challenge.state.as_str().to_owned(),
        subject: None,
        name: String::new(),
        return_to: request.return_to,
        handover: request.handover,
    };
    keep(host, &login_key(&id), &pending).await?;
    let mut response = options_reply(challenge.options);
    if let Some(cookie) = cookies::set(cookies::PASSKEY, &id, CEREMONY_TIMEOUT) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// `POST /login/passkey/verify`: the assertion names its person by the user handle; a verified
/// one opens a session as a whole MFA login, with the cookies of a password login.
pub(super) async fn finish(host: &LoginHost<'_>, headers: &HeaderMap, body: &str) -> Outcome {
    let (Some(directory), Some(mfa)) = (host.shared.directory.as_ref(), host.config().mfa.as_ref())
    else {
        return Err(Refusal::Unavailable.into());
    };
    if !mfa.passwordless {
        return Err(Refusal::Unavailable.into());
    }
    let now = host.ctx.now;
    let id = cookies::values(headers, cookies::PASSKEY)
        .find(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or(Refusal::Expired)?;
    let pending = take(host, &login_key(id)).await?;
    let rp = relying_party(host)?;
    let handle = match rp.identify_passwordless(body) {
        Ok(handle) => handle,
        Err(e) => {
            let (refusal, _) = judge(&e)?;
            crate::portal::refused(host, "", FailureReason::BadInput, LoginResult::BadInput);
            return Err(refusal.into());
        }
    };
    let Some(user) = person_of(directory, &handle).await? else {
        let unknown = format!("passkey:{handle}");
        crate::portal::refused(
            host,
            "",
            FailureReason::UnknownUser,
            LoginResult::BadCredentials,
        );
        let attempt = Attempt::of(host, &unknown, now);
        record_failure(host, &attempt.account, &attempt.source, now).await?;
        return Err(Refusal::Refused.into());
    };
    let attempt = Attempt::of(host, &user.username, now);
    throttle(host, &attempt).await?;
    let user_owner = Owner {
        username: &user.username,
        subject: &user.subject,
    };
    let Some(factors) = account::load(directory, &mfa.sealer, user_owner).await? else {
        return Err(Refusal::Refused.into());
    };
    let passkeys = opened_passkeys(&factors);
    let stored: Vec<StoredPasskey> = passkeys.iter().map(|(_, p)| p.clone()).collect();
    let state = CeremonyState::from_stored(pending.state);
    let verified = match rp.finish_passwordless(&state, body, &stored) {
        Ok(verified) => verified,
        Err(e) => {
            let (refusal, result) = judge(&e)?;
            failed(host, &user.username, result, reason(&e));
            record_failure(host, &attempt.account, &attempt.source, now).await?;
            return Err(refusal.into());
        }
    };
    write_back(directory, &mfa.sealer, user_owner, &passkeys, &verified).await?;
    host.shared
        .metrics
        .record_second_factor(FactorKindLabel::Passkey, FactorResult::Success);
    audit_factor(
        host,
        &user.username,
        FactorEvent::PasskeyLogin,
        verified.credential_id.as_str(),
    );
    let return_to = pending
        .return_to
        .as_deref()
        .and_then(|raw| crate::portal::check_return_to(host, raw));
    let binding = pending.handover.as_deref().and_then(Binding::parse);
    let proof = Proof {
        login: LoginStrength::Mfa,
        methods: vec![method_of(verified.backup_eligible)],
        federated: None,
    };
    let logged_in = login::log_in(
        host,
        user,
        proof,
        headers,
        return_to.as_ref(),
        binding.as_ref(),
        now,
    )
    .await?;
    let mut response = as_json_redirect(&logged_in);
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::clear(cookies::PASSKEY));
    Ok(response)
}

/// The person a passwordless answer names: the subject itself when the directory's subjects
/// are UUIDs (entryUUID, objectGUID), else the one whose subject hashes to the handle (the
/// people file's ids; a scan, only for handles of that kind).
async fn person_of(
    directory: &Directory,
    handle: &UserHandle,
) -> Result<Option<UserRecord>, DirectoryError> {
    if let Some(user) = directory.find_by_subject(&handle.to_string()).await?
        && is_user_handle_of(handle, &user.subject)
    {
        return Ok(Some(user));
    }
    if handle.get_version_num() != 8 {
        return Ok(None);
    }
    Ok(directory
        .users()
        .await?
        .into_iter()
        .find(|user| is_user_handle_of(handle, &user.subject)))
}

#[cfg(test)]
mod tests {
    use pforte_directory::FileDirectory;
    use pforte_factors::passkey::user_handle;

    use super::*;

    const PEOPLE: &str = "[[user]]\nusername = \"alice\"\nid = \"d3db2d2a-ab3e-4c29-aa09-ec8911d9b629\"\n\
        name = \"Alice\"\npassword = \"$argon2id$v=19$m=19456,t=2,p=1$zJKj/go6XYv2p/LoNtaNnw$LSn+NE0xsx42p+xgj6Z1nWUSJ/CQ0sxLYxvaDdsJfpw\"\n\
        groups = []\n\n[[user]]\nusername = \"bob\"\nid = \"bob-0001\"\nname = \"Bob\"\n\
        password = \"$argon2id$v=19$m=19456,t=2,p=1$zJKj/go6XYv2p/LoNtaNnw$LSn+NE0xsx42p+xgj6Z1nWUSJ/CQ0sxLYxvaDdsJfpw\"\n\
        groups = []\n";

    #[tokio::test]
    async fn a_user_handle_names_the_person_by_their_uuid_or_their_hashed_subject() {
        let directory = Directory::File(FileDirectory::embedded("people", PEOPLE).unwrap());
        let alice = user_handle("d3db2d2a-ab3e-4c29-aa09-ec8911d9b629");
        let found = person_of(&directory, &alice).await.unwrap().unwrap();
        assert_eq!(found.username, "alice");
        let bob = user_handle("bob-0001");
        assert_eq!(bob.get_version_num(), 8);
        let found = person_of(&directory, &bob).await.unwrap().unwrap();
        assert_eq!(found.username, "bob");
        let nobody = user_handle("0b1c7e52-5a8e-4b7c-9a38-0c6c7f5f1d21");
        assert!(person_of(&directory, &nobody).await.unwrap().is_none());
        assert!(
            person_of(&directory, &user_handle("carol"))
                .await
                .unwrap()
                .is_none()
        );
    }
}
