//! A device's poll at the token endpoint (RFC 8628 §3.4, §3.5): what the stored record says to
//! a device code presented by a client at a moment.

use super::SLOW_DOWN_SECONDS;
use super::grant::{Decision, DeviceGrant};
use crate::clients::Client;
use crate::code::Authentication;
use crate::error::{ErrorCode, ProtocolError};
use crate::scope::Scopes;

/// The outcome of one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// Nobody has decided yet: store `next` (this poll remembered, and after a poll too soon
    /// the longer interval) and answer `error` (`authorization_pending` or `slow_down`).
    Wait {
        /// The record to write back.
        next: DeviceGrant,
        /// The answer to the device.
        error: ProtocolError,
    },
    /// The person approved: take the record (once, across replicas) and issue tokens for
    /// this login and these scopes, if the app's rules still allow the person.
    Approved {
        /// The person and their login.
        authentication: Authentication,
        /// The scopes the device asked for.
        scopes: Scopes,
    },
    /// Refused for good: `invalid_grant`, `access_denied` or `expired_token`.
    Refused(ProtocolError),
}

/// What a poll by `client` at `now` gets. `stored` is the record found under the presented
/// device code's digest: `None` when it is unknown, long expired, or already used.
pub fn poll(stored: Option<&DeviceGrant>, client: &Client, now: u64) -> Poll {
    let refuse = |code, description: &str| Poll::Refused(ProtocolError::new(code, description));
    let Some(grant) = stored else {
        return refuse(
            ErrorCode::InvalidGrant,
            "the device code is invalid, expired or already used",
        );
    };
    if grant.client_id != client.id {
        return refuse(
            ErrorCode::InvalidGrant,
            "the device code was issued to another client",
        );
    }
    if grant.is_expired(now) {
        return refuse(
            ErrorCode::ExpiredToken,
            "the device code has expired; ask for a new one",
        );
    }
    match &grant.decision {
        Decision::Approved { authentication } => Poll::Approved {
            authentication: authentication.clone(),
            scopes: grant.scopes,
        },
        Decision::Denied => refuse(
            ErrorCode::AccessDenied,
            "the person, or the app's access rules, refused this device",
        ),
        Decision::Pending => waiting(grant, now),
    }
}

/// A poll while nobody has decided: too soon after the last one, the interval grows by
/// [`SLOW_DOWN_SECONDS`] for this and every later poll.
fn waiting(grant: &DeviceGrant, now: u64) -> Poll {
    let too_soon = grant
        .last_poll
        .is_some_and(|last| now < last.saturating_add(grant.interval));
    let mut next = grant.clone();
    next.last_poll = Some(now);
    let error = if too_soon {
        next.interval = grant.interval.saturating_add(SLOW_DOWN_SECONDS);
        ProtocolError::new(
            ErrorCode::SlowDown,
            format!(
                "polled sooner than the interval; wait {} seconds between polls",
                next.interval
            ),
        )
    } else {
        ProtocolError::new(
            ErrorCode::AuthorizationPending,
            "the person has not approved the device yet",
        )
    };
    Poll::Wait { next, error }
}
