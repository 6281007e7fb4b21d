//! Passkeys and security keys (WebAuthn Level 2) with webauthn-rs: the ceremonies the login host
//! runs, as pure functions of their inputs.
//!
//! ```text
//! registration   start_registration ─ options → browser: navigator.credentials.create
//!                                    └ state  → session store (Ceremony record)
//!                finish_registration(state, answer, name, now) → StoredPasskey → directory
//! second factor  start_authentication(person's passkeys) → options + state
//!                finish_authentication(state, answer, passkeys) → Verified (+ updated passkey)
//! passwordless   start_passwordless → options (conditional mediation) + state
//!                identify_passwordless(answer) → user handle → the person → their passkeys
//!                finish_passwordless(state, answer, passkeys) → Verified
//! ```
//!
//! Every passkey is registered and used with user verification required (PIN or biometrics),
//! as webauthn-rs's passkey flow does: a FIDO2 security key works as soon as it has a PIN (the
//! browser asks to set one), and any verified assertion is a whole multi-factor proof on its
//! own. Keys that cannot verify their user (U2F-only) are refused at registration.
//!
//! What the caller does: keep the state server-side and take it (read and delete at once)
//! before finishing, so that a state answers one ceremony only; keep it no longer than
//! [`CEREMONY_TIMEOUT`]; write back [`Verified::updated`] (compare-and-set) so the signature
//! counter can reveal a cloned credential next time; and, at registration, refuse a credential
//! id that another person already has (the crate cannot see other accounts).

mod ceremony;
mod error;
mod handle;
mod stored;
#[cfg(test)]
mod tests;

use std::time::Duration;

use webauthn_rs::prelude::{
    CredentialID, PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn,
    WebauthnBuilder,
};

use ceremony::Ceremony;
pub use ceremony::{CeremonyState, MAX_STATE_BYTES};
pub use error::PasskeyError;
pub use handle::{UserHandle, is_user_handle_of, user_handle};
pub use stored::{CredentialId, MAX_NAME_CHARS, StoredPasskey};

/// The longest browser answer accepted. Real ones are 1-3 KiB (an RSA key with attestation
/// certificates stays far below this); larger ones are refused before parsing.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// How long the browser may take, told to it in the options (the WebAuthn recommendation);
/// a ceremony state need not be kept longer.
pub const CEREMONY_TIMEOUT: Duration = Duration::from_secs(300);

/// The relying party: the login host, for all three ceremonies.
#[derive(Debug, Clone)]
pub struct Passkeys {
    webauthn: Webauthn,
}

/// A begun ceremony: what goes to the browser and what stays on the server.
#[derive(Debug, Clone)]
pub struct Challenge {
    /// JSON for the browser (`{"publicKey": {...}}`, with `"mediation": "conditional"` for a
    /// passwordless login); binary fields are base64url text.
    pub options: String,
    /// The state to keep in the session store until the browser answers.
    pub state: CeremonyState,
}

impl Challenge {
    /// A registration's options asking the authenticator to make the credential discoverable
    /// where it can (`residentKey: "preferred"`), so that it can log in without a user name
    /// (passwordless). webauthn-rs's passkey flow discourages resident keys (older FIDO2
    /// security keys have few slots); platform authenticators and synced passkeys make them
    /// anyway, and a deployment that offers passwordless logins needs them from the rest.
    /// The state does not depend on it: any credential the person verifies is accepted.
    pub fn preferring_discoverable(self) -> Result<Self, PasskeyError> {
        let mut options: serde_json::Value = serde_json::from_str(&self.options)
            .map_err(|e| PasskeyError::Internal(e.to_string()))?;
        let Some(selection) = options
            .pointer_mut("/publicKey/authenticatorSelection")
            .and_then(serde_json::Value::as_object_mut)
        else {
            return Err(PasskeyError::Internal(
                "registration options without authenticatorSelection".to_owned(),
            ));
        };
        selection.insert("residentKey".to_owned(), "preferred".into());
        selection.insert("requireResidentKey".to_owned(), false.into());
        Ok(Self {
            options: options.to_string(),
            state: self.state,
        })
    }
}

/// A passkey assertion that checked out.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The credential that was used.
    pub credential_id: CredentialId,
    /// The authenticator verified its user (PIN or biometrics): always true with the
    /// ceremonies here, which require it; kept so the caller states `user` in `amr` from what
    /// was checked rather than from what was asked.
    pub user_verified: bool,
    /// The credential may be copied to other devices (a synced passkey, `swk` in `amr`)
    /// rather than bound to one piece of hardware (a security key or platform TPM, `hwk`).
    pub backup_eligible: bool,
    /// The passkey with its new counter or backup state, when either changed: write it back in
    /// place of the one used. `None` for most synced passkeys, which have no counter.
    pub updated: Option<StoredPasskey>,
}

impl Passkeys {
    /// The relying party for the login host at `origin` (`https://login.example.org:8443`).
    ///
    /// The relying-party id is the host name (credentials are bound to it: changing the login
    /// host's name orphans every passkey); answers are accepted from exactly this origin,
    /// port included, and no subdomain. `display_name` is what some authenticators show.
    pub fn new(origin: &str, display_name: &str) -> Result<Self, PasskeyError> {
        let bad = |reason| PasskeyError::Origin {
            origin: origin.to_owned(),
            reason,
        };
        let url = Url::parse(origin).map_err(|_| bad("not a URL"))?;
        let host = url.domain().ok_or(bad("the host must be a DNS name"))?;
        let secure = url.scheme() == "https" || (url.scheme() == "http" && host == "localhost");
        if !secure {
            return Err(bad("passkeys need https (or http://localhost)"));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(bad("an origin has no path, query or fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("an origin has no user name or password"));
        }
        let webauthn = WebauthnBuilder::new(host, &url)
            .and_then(|b| {
                b.rp_name(display_name)
                    .timeout(CEREMONY_TIMEOUT)
                    .allow_subdomains(false)
                    .allow_any_port(false)
                    .build()
            })
            .map_err(|_| bad("not accepted as a relying party"))?;
        Ok(Self { webauthn })
    }

    /// Begins registering a passkey for the person with user handle `user` (see
    /// [`user_handle`]), excluding the authenticators they already registered.
    pub fn start_registration(
        &self,
        user: Uuid,
        username: &str,
        display_name: &str,
        existing: &[StoredPasskey],
    ) -> Result<Challenge, PasskeyError> {
        let exclude: Vec<CredentialID> = existing
            .iter()
            .map(|p| p.passkey().cred_id().clone())
            .collect();
        let (options, state) = self.webauthn.start_passkey_registration(
            user,
            username,
            display_name,
            Some(exclude),
        )?;
        challenge(&options, &Ceremony::Registration(state))
    }

    /// Finishes a registration with the browser's answer: the new passkey, named `name`, made
    /// at `now_unix`. The caller must refuse it if another person already has its credential id.
    pub fn finish_registration(
        &self,
        state: &CeremonyState,
        response_json: &str,
        name: &str,
        now_unix: u64,
    ) -> Result<StoredPasskey, PasskeyError> {
        let state = Ceremony::from_state(state)?.into_registration()?;
        let answer: RegisterPublicKeyCredential = parse(response_json)?;
        let passkey = self.webauthn.finish_passkey_registration(&answer, &state)?;
        StoredPasskey::new(name, now_unix, passkey)
    }

    /// Begins a second-factor authentication with any of the person's passkeys.
    pub fn start_authentication(&self, creds: &[StoredPasskey]) -> Result<Challenge, PasskeyError> {
        if creds.is_empty() {
            return Err(PasskeyError::NoCredentials);
        }
        let passkeys: Vec<_> = creds.iter().map(|c| c.passkey().clone()).collect();
        let (options, state) = self.webauthn.start_passkey_authentication(&passkeys)?;
        challenge(&options, &Ceremony::SecondFactor(state))
    }

    /// Finishes a second-factor authentication. `creds` are the person's passkeys as stored
    /// now: one removed since the ceremony began is refused.
    pub fn finish_authentication(
        &self,
        state: &CeremonyState,
        response_json: &str,
        creds: &[StoredPasskey],
    ) -> Result<Verified, PasskeyError> {
        let state = Ceremony::from_state(state)?.into_second_factor()?;
        let answer: PublicKeyCredential = parse(response_json)?;
        let stored = find(creds, &answer)?;
        let result = self
            .webauthn
            .finish_passkey_authentication(&answer, &state)?;
        verified(stored, &result)
    }

    /// Begins a passwordless login: the browser offers the discoverable passkeys it has for
    /// this site (in the username field's autofill where it supports conditional mediation).
    pub fn start_passwordless(&self) -> Result<Challenge, PasskeyError> {
        let (options, state) = self.webauthn.start_discoverable_authentication()?;
        challenge(&options, &Ceremony::Passwordless(state))
    }

    /// The user handle a passwordless answer names, to find the person (see [`user_handle`])
    /// and their passkeys. Nothing is verified yet: finish with [`Passkeys::finish_passwordless`].
    pub fn identify_passwordless(&self, response_json: &str) -> Result<Uuid, PasskeyError> {
        let answer: PublicKeyCredential = parse(response_json)?;
        let (user, _) = self
            .webauthn
            .identify_discoverable_authentication(&answer)?;
        Ok(user)
    }

    /// Finishes a passwordless login against the passkeys of the person the answer named.
    /// User verification is required, so a success is a whole multi-factor login.
    pub fn finish_passwordless(
        &self,
        state: &CeremonyState,
        response_json: &str,
        creds: &[StoredPasskey],
    ) -> Result<Verified, PasskeyError> {
        let state = Ceremony::from_state(state)?.into_passwordless()?;
        let answer: PublicKeyCredential = parse(response_json)?;
        let stored = find(creds, &answer)?;
        let result = self.webauthn.finish_discoverable_authentication_v2(
            &answer,
            state,
            stored.passkey(),
        )?;
        verified(stored, &result)
    }
}

/// The options as JSON and the state as text.
fn challenge(
    options: &impl serde::Serialize,
    ceremony: &Ceremony,
) -> Result<Challenge, PasskeyError> {
    Ok(Challenge {
        options: serde_json::to_string(options)
            .map_err(|e| PasskeyError::Internal(e.to_string()))?,
        state: ceremony.to_state()?,
    })
}

/// Parses a browser answer, refusing oversized ones before reading them.
fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, PasskeyError> {
    if json.len() > MAX_RESPONSE_BYTES {
        return Err(PasskeyError::TooLarge {
            limit: MAX_RESPONSE_BYTES,
        });
    }
    serde_json::from_str(json).map_err(|e| PasskeyError::Malformed(e.to_string()))
}

/// The person's passkey that made `answer`.
fn find<'a>(
    creds: &'a [StoredPasskey],
    answer: &PublicKeyCredential,
) -> Result<&'a StoredPasskey, PasskeyError> {
    creds
        .iter()
        .find(|c| c.has_raw_id(answer.get_credential_id()))
        .ok_or(PasskeyError::UnknownCredential)
}

/// What a checked assertion tells the caller, with the passkey updated as the crate documents
/// (counter forward, backup state as now, backup eligibility only ever gained). User
/// verification is checked here again, so that no ceremony can count without it.
fn verified(
    stored: &StoredPasskey,
    result: &webauthn_rs::prelude::AuthenticationResult,
) -> Result<Verified, PasskeyError> {
    if !result.user_verified() {
        return Err(PasskeyError::UserNotVerified);
    }
    let mut credential = stored.passkey().clone();
    let changed = result.needs_update() && credential.update_credential(result) == Some(true);
    Ok(Verified {
        credential_id: CredentialId::from_raw(result.cred_id()),
        user_verified: result.user_verified(),
        backup_eligible: result.backup_eligible(),
        updated: changed.then(|| stored.with_credential(credential)),
    })
}
