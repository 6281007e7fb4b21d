//! Whether the person's SSO session may answer this request, or they must log in (again) or
//! show a second factor first.

use pforte_policy::LoginStrength;

use super::{AuthorizationRequest, Prompt, RedirectError};
use crate::error::ErrorCode;

/// What the gateway knows of the browser's session, if it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionAuth {
    /// When the person last entered credentials or a second factor (Unix seconds).
    pub auth_time: u64,
    /// How strongly they proved who they are.
    pub login: LoginStrength,
}

/// What to do with a validated request given the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionVerdict {
    /// The session is good: go on to the access check and the code.
    Proceed,
    /// Show the login page, then ask again.
    Login,
    /// The session is fresh but a password login, and the client asked for a second factor:
    /// show the second-factor page (step-up), then ask again.
    StepUp,
    /// Send this error to the client (`login_required` or `interaction_required` for
    /// `prompt=none`).
    Refuse(RedirectError),
}

impl AuthorizationRequest {
    /// Applies `prompt`, `max_age` and the asked login strength to the session. `received_at`
    /// is when this request first arrived: a login after it satisfies `prompt=login`, so the
    /// flow does not loop. Times are whole seconds, so only a login in a later second counts: a
    /// login in the same second as the request may have come before it, and would let
    /// `prompt=login` through without credentials. A person who answers the form within that
    /// second sees it again. Logging in comes before a step-up: a second factor raises a
    /// session, it does not replace the login `prompt=login` or `max_age` ask for.
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
        let strong_enough = !self.mfa || session.is_some_and(|s| s.login >= LoginStrength::Mfa);
        match (fresh_enough, strong_enough, self.prompt) {
            (true, true, _) => SessionVerdict::Proceed,
            (false, _, Prompt::None) => SessionVerdict::Refuse(self.error(
                issuer,
                ErrorCode::LoginRequired,
                "the person must log in",
            )),
            (true, false, Prompt::None) => {
                SessionVerdict::Refuse(self.interaction_required(issuer))
            }
            (true, false, _) => SessionVerdict::StepUp,
            (false, _, _) => SessionVerdict::Login,
        }
    }

    /// The answer to `prompt=none` when a second factor is needed (asked by the client, or
    /// by the access rules of its app): the client must send the person without
    /// `prompt=none` to let them show it.
    pub fn interaction_required(&self, issuer: &str) -> RedirectError {
        self.error(
            issuer,
            ErrorCode::InteractionRequired,
            "the person must show a second factor",
        )
    }
}
