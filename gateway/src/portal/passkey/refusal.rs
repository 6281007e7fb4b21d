//! Why a passkey request was refused and how each refusal is answered: the one place where
//! refusals become HTTP ([`Refusal::status`]), the JSON the script reads, and what a refused
//! ceremony of webauthn-rs is told, counted and audited as.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use pforte_directory::DirectoryError;
use pforte_factors::passkey::PasskeyError;
use pforte_session::StoreError;

use crate::config::lang::Lang;
use crate::mfa::FactorError;
use crate::telemetry::metrics::FactorResult;
use crate::web::error::GatewayError;
use crate::web::{passkey_texts, texts};

/// Why a request was refused, as the browser is told (status and sentence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No session (any more).
    NoSession,
    /// The anti-forgery token is missing, wrong, or the request came from another site.
    Forged,
    /// A person with a second factor adds one only from a session that used one.
    StepUpFirst,
    /// A first factor needs a login of the last five minutes.
    LoginAgain,
    /// Passkeys (or passwordless logins) are not offered here.
    Unavailable,
    /// The body is larger than [`MAX_BODY_BYTES`].
    TooLarge,
    /// The body is not JSON.
    NotJson,
    /// The JSON is not what this endpoint takes (or not a WebAuthn credential).
    Malformed,
    /// No ceremony waits for this answer: expired, answered already, or its state unreadable.
    Expired,
    /// The assertion or registration was refused (wrong origin, unknown credential, cloned,
    /// signature, user not verified).
    Refused,
    /// The authenticator is registered already.
    AlreadyRegistered,
    /// The person has as many passkeys as the directory keeps.
    TooMany,
    /// The person has no passkey to authenticate with.
    NoPasskey,
    /// Too many failures: wait.
    Throttled,
}

impl Refusal {
    /// The status of the refusal: the one place refusals become HTTP.
    pub fn status(self) -> StatusCode {
        match self {
            Self::NoSession | Self::Refused => StatusCode::UNAUTHORIZED,
            Self::Forged | Self::StepUpFirst | Self::LoginAgain => StatusCode::FORBIDDEN,
            Self::Unavailable => StatusCode::NOT_FOUND,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Malformed | Self::Expired | Self::NoPasskey => StatusCode::BAD_REQUEST,
            Self::AlreadyRegistered | Self::TooMany => StatusCode::CONFLICT,
            Self::Throttled => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn message(self, lang: Lang) -> &'static str {
        let (p, base) = (passkey_texts::of(lang), texts::of(lang));
        match self {
            Self::NoSession => p.no_session,
            Self::Forged => base.form_expired,
            Self::StepUpFirst => p.step_up_first,
            Self::LoginAgain => p.login_again,
            Self::Unavailable => p.unavailable,
            Self::TooLarge | Self::NotJson | Self::Malformed => p.malformed,
            Self::Expired => p.expired,
            Self::Refused => p.refused,
            Self::AlreadyRegistered => p.exists,
            Self::TooMany => p.too_many,
            Self::NoPasskey => p.no_passkey,
            Self::Throttled => base.throttled,
        }
    }

    /// The JSON answer: `{"error": "..."}` with the status.
    pub fn respond(self, lang: Lang) -> Response<Bytes> {
        json(
            self.status(),
            &serde_json::json!({ "error": self.message(lang) }),
        )
    }
}

/// Why a request ended early: a refusal the browser is told, or a failure of the directory or
/// the session store (answered by the gateway's error page).
pub(super) enum Stop {
    /// Told to the browser.
    Refused(Refusal),
    /// The gateway's error page.
    Broken(GatewayError),
}

impl From<Refusal> for Stop {
    fn from(r: Refusal) -> Self {
        Self::Refused(r)
    }
}

impl From<GatewayError> for Stop {
    fn from(e: GatewayError) -> Self {
        Self::Broken(e)
    }
}

impl From<FactorError> for Stop {
    fn from(e: FactorError) -> Self {
        Self::Broken(e.into())
    }
}

impl From<DirectoryError> for Stop {
    fn from(e: DirectoryError) -> Self {
        Self::Broken(FactorError::Directory(e).into())
    }
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Self::Broken(e.into())
    }
}

pub(super) type Outcome = Result<Response<Bytes>, Stop>;

/// What a refused ceremony is told and counted as; the deployment's own failures stop here.
pub(super) fn judge(e: &PasskeyError) -> Result<(Refusal, FactorResult), Stop> {
    use PasskeyError as P;
    Ok(match e {
        P::TooLarge { .. } => (Refusal::TooLarge, FactorResult::Malformed),
        P::Malformed(_) | P::Name => (Refusal::Malformed, FactorResult::Malformed),
        P::State(_) => (Refusal::Expired, FactorResult::Malformed),
        P::ChallengeMismatch => (Refusal::Refused, FactorResult::Replayed),
        P::AlreadyRegistered => (Refusal::AlreadyRegistered, FactorResult::Wrong),
        P::NoCredentials => (Refusal::NoPasskey, FactorResult::Wrong),
        P::WrongOrigin
        | P::UnknownCredential
        | P::UserNotVerified
        | P::PossibleClone
        | P::BackupFlags
        | P::NoUserHandle
        | P::Refused(_) => (Refusal::Refused, FactorResult::Wrong),
        P::Origin { .. } => return Err(Refusal::Unavailable.into()),
        P::Stored(_) | P::Internal(_) => return Err(internal(e.to_string()).into()),
    })
}

/// The audit detail of a refusal: which condition, never the answer itself.
pub(super) fn reason(e: &PasskeyError) -> &'static str {
    use PasskeyError as P;
    match e {
        P::TooLarge { .. } => "too_large",
        P::Malformed(_) => "malformed",
        P::Name => "bad_name",
        P::State(_) => "bad_state",
        P::ChallengeMismatch => "challenge_mismatch",
        P::AlreadyRegistered => "already_registered",
        P::NoCredentials => "no_passkey",
        P::WrongOrigin => "wrong_origin",
        P::UnknownCredential => "unknown_credential",
        P::UserNotVerified => "user_not_verified",
        P::PossibleClone => "possible_clone",
        P::BackupFlags => "backup_flags",
        P::NoUserHandle => "no_user_handle",
        P::Refused(_) => "refused",
        P::Origin { .. } | P::Stored(_) | P::Internal(_) => "internal",
    }
}

pub(super) fn internal(e: impl std::fmt::Display) -> GatewayError {
    GatewayError::SecondFactor(FactorError::Make(e.to_string()))
}

/// The WebAuthn options for the browser.
pub(super) fn options(options_json: String) -> Response<Bytes> {
    json_text(StatusCode::OK, Bytes::from(options_json))
}

/// `{"redirect": location}`: where the script sends the browser.
pub(super) fn redirect(location: &str) -> Response<Bytes> {
    json(StatusCode::OK, &serde_json::json!({ "redirect": location }))
}

/// A login's `303` as the script's JSON, with the same cookies.
pub(super) fn as_json_redirect(logged_in: &Response<Bytes>) -> Response<Bytes> {
    let location = logged_in
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("/");
    let mut response = redirect(location);
    for cookie in logged_in.headers().get_all(header::SET_COOKIE) {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookie.clone());
    }
    response
}

pub(super) fn json(status: StatusCode, value: &serde_json::Value) -> Response<Bytes> {
    json_text(status, Bytes::from(value.to_string()))
}

/// A JSON answer for the login host's own script: never cached, never sniffed.
pub(super) fn json_text(status: StatusCode, body: Bytes) -> Response<Bytes> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_is_a_client_error_with_a_sentence_in_both_languages() {
        let all = [
            Refusal::NoSession,
            Refusal::Forged,
            Refusal::StepUpFirst,
            Refusal::LoginAgain,
            Refusal::Unavailable,
            Refusal::TooLarge,
            Refusal::NotJson,
            Refusal::Malformed,
            Refusal::Expired,
            Refusal::Refused,
            Refusal::AlreadyRegistered,
            Refusal::TooMany,
            Refusal::NoPasskey,
            Refusal::Throttled,
        ];
        for refusal in all {
            assert!(refusal.status().is_client_error(), "{refusal:?}");
            for lang in [Lang::En, Lang::De] {
                let response = refusal.respond(lang);
                let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
                assert!(!body["error"].as_str().unwrap().is_empty());
                assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
            }
        }
        assert_eq!(Refusal::AlreadyRegistered.status(), StatusCode::CONFLICT);
        assert_eq!(Refusal::TooLarge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn bad_input_is_refused_and_only_the_deployment_is_a_server_error() {
        let bad = [
            PasskeyError::TooLarge { limit: 1 },
            PasskeyError::Malformed("x".into()),
            PasskeyError::State("x"),
            PasskeyError::WrongOrigin,
            PasskeyError::ChallengeMismatch,
            PasskeyError::PossibleClone,
            PasskeyError::UnknownCredential,
        ];
        for e in &bad {
            let (refusal, _) = judge(e).ok().unwrap();
            assert!(refusal.status().is_client_error());
        }
        assert!(matches!(
            judge(&PasskeyError::Internal("x".into())),
            Err(Stop::Broken(_))
        ));
    }

    #[test]
    fn a_login_redirect_keeps_its_cookies() {
        let mut logged_in = crate::web::reply::see_other("https://mail.example.org/");
        logged_in
            .headers_mut()
            .append(header::SET_COOKIE, HeaderValue::from_static("a=1"));
        logged_in
            .headers_mut()
            .append(header::SET_COOKIE, HeaderValue::from_static("b=2"));
        let json = as_json_redirect(&logged_in);
        assert_eq!(json.status(), StatusCode::OK);
        assert_eq!(json.headers().get_all(header::SET_COOKIE).iter().count(), 2);
        let body: serde_json::Value = serde_json::from_slice(json.body()).unwrap();
        assert_eq!(body["redirect"], "https://mail.example.org/");
        assert!(super::super::is_endpoint(super::super::LOGIN));
        assert!(!super::super::is_endpoint("/login"));
    }
}
