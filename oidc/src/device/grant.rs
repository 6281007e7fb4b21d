//! The record of one device authorization, as stored under the digest of its device code from
//! the request until the device has its tokens (or the record expires): which client asked for
//! what, the person's decision, and the device's polling pace.

use serde::{Deserialize, Serialize};

use super::{DEVICE_CODE_SECONDS, EXPIRED_NOTICE_SECONDS, POLL_INTERVAL_SECONDS};
use crate::code::Authentication;
use crate::scope::Scopes;

/// What the person decided on the verification page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Nobody has decided yet: the device keeps polling.
    Pending,
    /// The person approved, and the app's access rules allowed them: the device's next poll
    /// gets tokens for this login.
    Approved {
        /// The person and their login (from the session they approved with).
        authentication: Authentication,
    },
    /// The person refused, or the app's access rules refused the person.
    Denied,
}

/// One device authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceGrant {
    /// The client that asked; no other client may poll with the device code.
    pub client_id: String,
    /// The scopes asked for, checked against the client's.
    pub scopes: Scopes,
    /// When the codes stop working (Unix seconds).
    pub expires_at: u64,
    /// Seconds the device must wait between polls: [`POLL_INTERVAL_SECONDS`], longer after
    /// each `slow_down`.
    pub interval: u64,
    /// When the device last polled (Unix seconds), if it has.
    pub last_poll: Option<u64>,
    /// The person's decision so far.
    pub decision: Decision,
}

impl DeviceGrant {
    /// The record of a device authorization `client_id` asked for at `now`.
    pub fn new(client_id: &str, scopes: Scopes, now: u64) -> Self {
        Self {
            client_id: client_id.to_owned(),
            scopes,
            expires_at: now.saturating_add(DEVICE_CODE_SECONDS),
            interval: POLL_INTERVAL_SECONDS,
            last_poll: None,
            decision: Decision::Pending,
        }
    }

    /// Whether the codes have run out at `now`.
    pub fn is_expired(&self, now: u64) -> bool {
        now >= self.expires_at
    }

    /// Whether a person may still approve or deny it at `now`: not expired, nobody decided.
    pub fn awaits_decision(&self, now: u64) -> bool {
        !self.is_expired(now) && self.decision == Decision::Pending
    }

    /// The record once the person approved with `authentication` (the access rules allowed).
    #[must_use]
    pub fn approve(&self, authentication: Authentication) -> Self {
        Self {
            decision: Decision::Approved { authentication },
            ..self.clone()
        }
    }

    /// The record once the person, or the app's access rules, refused.
    #[must_use]
    pub fn deny(&self) -> Self {
        Self {
            decision: Decision::Denied,
            ..self.clone()
        }
    }

    /// Seconds the record is kept from `now`: until the codes expire, and
    /// [`EXPIRED_NOTICE_SECONDS`] beyond, so a late poll hears `expired_token`.
    pub fn keep_seconds(&self, now: u64) -> u64 {
        self.expires_at
            .saturating_add(EXPIRED_NOTICE_SECONDS)
            .saturating_sub(now)
            .max(1)
    }

    /// Seconds the user code is kept from `now`: exactly until the codes expire, so an expired
    /// code cannot be found on the verification page.
    pub fn user_code_seconds(&self, now: u64) -> u64 {
        self.expires_at.saturating_sub(now).max(1)
    }
}
