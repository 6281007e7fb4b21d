//! A registered passkey as it is kept with the person: its name, when it was added, and the
//! credential (public key, counter, backup flags) in webauthn-rs's own serialised form.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::Passkey;

use super::error::PasskeyError;

/// The longest name a person may give a passkey, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// A passkey registered for a person.
///
/// Its JSON form (what [`StoredPasskey::to_json`] gives and the directory keeps, sealed) is
/// `{"name": "...", "created": <unix seconds>, "credential": <webauthn-rs Passkey>}`; the
/// credential part is webauthn-rs's documented, persistable form of a [`Passkey`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredPasskey {
    name: String,
    created: u64,
    credential: Passkey,
}

/// A credential id in base64url without padding, as browsers and the WebAuthn JSON spell it:
/// what the security page shows and sends back to remove a passkey.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialId(String);

impl StoredPasskey {
    /// A newly registered credential; the name is checked as [`StoredPasskey::rename`] does.
    pub(super) fn new(name: &str, created: u64, credential: Passkey) -> Result<Self, PasskeyError> {
        Ok(Self {
            name: checked_name(name)?,
            created,
            credential,
        })
    }

    /// Reads a passkey back from its JSON form.
    pub fn from_json(json: &str) -> Result<Self, PasskeyError> {
        serde_json::from_str(json).map_err(|e| PasskeyError::Stored(e.to_string()))
    }

    /// The JSON form to keep (sealed) in the directory.
    pub fn to_json(&self) -> Result<String, PasskeyError> {
        serde_json::to_string(self).map_err(|e| PasskeyError::Internal(e.to_string()))
    }

    /// The name the person gave it ("YubiKey 5", "Laptop").
    pub fn name(&self) -> &str {
        &self.name
    }

    /// When it was registered, in Unix seconds.
    pub fn created(&self) -> u64 {
        self.created
    }

    /// Its credential id, to show and to name it when removing it.
    pub fn credential_id(&self) -> CredentialId {
        CredentialId(URL_SAFE_NO_PAD.encode(self.credential.cred_id()))
    }

    /// Gives it another name: trimmed, 1 to [`MAX_NAME_CHARS`] characters, no control
    /// characters (it is shown on pages and in the admin CLI's tables).
    pub fn rename(&mut self, name: &str) -> Result<(), PasskeyError> {
        self.name = checked_name(name)?;
        Ok(())
    }

    /// Whether the credential may be copied to other devices (a synced passkey, `swk`) rather
    /// than bound to one piece of hardware (`hwk`), as its authenticator said at registration.
    /// Read from the credential's documented persisted form (`cred.backup_eligible`), since
    /// webauthn-rs shows the flag only with its credential-internals feature.
    pub fn backup_eligible(&self) -> bool {
        serde_json::to_value(&self.credential)
            .ok()
            .and_then(|v| v.pointer("/cred/backup_eligible").and_then(|b| b.as_bool()))
            .unwrap_or(false)
    }

    /// The webauthn-rs credential, for the ceremonies.
    pub(super) fn passkey(&self) -> &Passkey {
        &self.credential
    }

    /// Whether this is the credential with raw id `raw_id`.
    pub(super) fn has_raw_id(&self, raw_id: &[u8]) -> bool {
        self.credential.cred_id().as_slice() == raw_id
    }

    /// A copy with the credential's counter and backup flags updated.
    pub(super) fn with_credential(&self, credential: Passkey) -> Self {
        Self {
            credential,
            ..self.clone()
        }
    }
}

impl CredentialId {
    /// The base64url text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of the credential with raw id `raw`.
    pub(super) fn from_raw(raw: &[u8]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(raw))
    }
}

impl std::fmt::Display for CredentialId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn checked_name(name: &str) -> Result<String, PasskeyError> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(PasskeyError::Name);
    }
    Ok(name.to_owned())
}
