//! What a ceremony keeps between its two halves: the challenge and what the answer must match,
//! as text for the session store (so a ceremony begun on one replica finishes on another).
//!
//! webauthn-rs refuses to serialise this state unless `danger-allow-state-serialisation` is on,
//! because a state kept by the browser could be replayed. Here it never leaves the server: the
//! login host keeps it as a `Ceremony` record under a random id, and takes it (read and delete in
//! one step) before finishing, so each state is answered at most once.

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PasskeyAuthentication, PasskeyRegistration,
};

use super::error::PasskeyError;

/// The longest ceremony state read back. A real one is a few KiB (the challenge and, for an
/// authentication, the person's credentials); anything larger was not written by us.
pub const MAX_STATE_BYTES: usize = 64 * 1024;

/// A begun ceremony's server-side state, opaque text to keep in the session store until the
/// browser answers. Never send it to the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeremonyState(String);

impl CeremonyState {
    /// The text to store.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A state as read back from the store; it is checked when a ceremony is finished with it.
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }
}

/// The three ceremonies, tagged so that a state cannot finish another kind of ceremony.
#[derive(Serialize, Deserialize)]
#[serde(tag = "ceremony", content = "state", rename_all = "snake_case")]
pub(super) enum Ceremony {
    /// Registering a new passkey for a known person.
    Registration(PasskeyRegistration),
    /// A passkey as second factor (or step-up) for a person with a password session.
    SecondFactor(PasskeyAuthentication),
    /// A discoverable passkey that names its person (passwordless login).
    Passwordless(DiscoverableAuthentication),
}

impl Ceremony {
    pub(super) fn to_state(&self) -> Result<CeremonyState, PasskeyError> {
        serde_json::to_string(self)
            .map(CeremonyState)
            .map_err(|e| PasskeyError::Internal(e.to_string()))
    }

    pub(super) fn from_state(state: &CeremonyState) -> Result<Self, PasskeyError> {
        if state.0.len() > MAX_STATE_BYTES {
            return Err(PasskeyError::TooLarge {
                limit: MAX_STATE_BYTES,
            });
        }
        serde_json::from_str(&state.0).map_err(|_| PasskeyError::State("not a ceremony state"))
    }

    pub(super) fn into_registration(self) -> Result<PasskeyRegistration, PasskeyError> {
        match self {
            Self::Registration(s) => Ok(s),
            _ => Err(PasskeyError::State("not a registration")),
        }
    }

    pub(super) fn into_second_factor(self) -> Result<PasskeyAuthentication, PasskeyError> {
        match self {
            Self::SecondFactor(s) => Ok(s),
            _ => Err(PasskeyError::State("not a second-factor authentication")),
        }
    }

    pub(super) fn into_passwordless(self) -> Result<DiscoverableAuthentication, PasskeyError> {
        match self {
            Self::Passwordless(s) => Ok(s),
            _ => Err(PasskeyError::State("not a passwordless login")),
        }
    }
}
