//! Whether the person's SSO session may answer this request, or they must log in (again).

use super::{AuthorizationRequest, Prompt, RedirectError};
use crate::error::ErrorCode;

/// What the gateway knows of the browser's session, if it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionAuth {
    /// When the person last entered credentials (Unix seconds).
    pub auth_time: u64,
}

/// What to do with a validated request given the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionVerdict {
    /// The session is good: go on to the access check and the code.
    Proceed,
    /// Show the login page, then ask again.
    Login,
    /// Send this error to the client (`login_required` for `prompt=none`).
    Refuse(RedirectError),
}

impl AuthorizationRequest {
    /// Applies `prompt` and `max_age` to the session. `received_at` is when this request
    /// first arrived: a login after it satisfies `prompt=login`, so the flow does not loop.
    /// Times are whole seconds, so only a login in a later second counts: a login in the same
    /// second as the request may have come before it, and would let `prompt=login` through
    /// without credentials. A person who answers the form within that second sees it again.
    pub fn session_verdict(
        &self,
        session: Option<SessionAuth>,
        received_at: u64,
        now: u64,
        issuer: &str,
    ) -> SessionVerdict {
        let fresh_enough = session.is_some_and(|s| {
            let young = self
                .max_age
                .is_none_or(|max| now.saturating_sub(s.auth_time) <= max);
            let reentered = self.prompt != Prompt::Login || s.auth_time > received_at;
            young && reentered
        });
        match (fresh_enough, self.prompt) {
            (true, _) => SessionVerdict::Proceed,
            (false, Prompt::None) => SessionVerdict::Refuse(self.error(
                issuer,
                ErrorCode::LoginRequired,
                "the person must log in",
            )),
            (false, _) => SessionVerdict::Login,
        }
    }
}
