//! Passkeys on the login host: the JSON endpoints `assets/passkey.js` talks to, for the three
//! ceremonies of `pforte_factors::passkey`. Each ceremony is two POSTs: the options (the
//! state is kept in the session store, never in the browser) and the browser's answer (the
//! state is taken, read and deleted at once, so it answers one ceremony only).
//!
//! ```text
//! POST /security/passkey/options   session (MFA if they have a factor; a fresh login if not)
//! POST /security/passkey/register  ─ take "reg:<sid>" ─ finish ─ seal ─ directory ─▶ /security
//! POST /mfa/passkey/options        session with passkeys, throttle
//! POST /mfa/passkey/verify         ─ take "auth:<sid>" ─ finish ─ counter back ─ step up ─▶ return_to
//! POST /login/passkey/options      [mfa] passwordless: state under a random id in a cookie
//! POST /login/passkey/verify       ─ take ─ user handle → person ─ throttle ─ finish
//!                                   ─ counter back ─ session (login mfa) ─▶ return_to / hand-over
//! ```
//!
//! Every request: `POST`, `Content-Type: application/json`, at most [`MAX_BODY_BYTES`], the
//! anti-forgery token in `X-CSRF-Token` (the double-submit check of the forms). Every refusal
//! is a 4xx with `{"error": "<sentence in the person's language>"}`, decided in
//! [`Refusal::status`]; only a directory or store that does not answer is a 5xx.
//! Failed assertions count in the brute-force throttle like wrong codes, and are audited and
//! metered as second-factor failures.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use pforte_directory::{Directory, DirectoryError, FactorKind, UserRecord};
use pforte_factors::passkey::{
    CEREMONY_TIMEOUT, CeremonyState, MAX_RESPONSE_BYTES, PasskeyError, Passkeys, StoredPasskey,
    UserHandle, Verified, is_user_handle_of, user_handle,
};
use pforte_factors::seal::Purpose;
use pforte_session::{AuthMethod, RecordKind, Session, StoreError, Throttle, Timestamp};
use serde::{Deserialize, Serialize};

use super::login::{self, Attempt, Proof};
use super::return_to::ReturnTo;
use crate::config::Mfa;
use crate::config::lang::Lang;
use crate::handover::Binding;
use crate::login_host::LoginHost;
use crate::mfa::FactorError;
use crate::mfa::account::{self, Opened, Owner, PersonFactors};
use crate::policy::engine::LoginStrength;
use crate::proxy::body::FromClient;
use crate::telemetry::audit::{self, AuditEvent, FactorEvent, FailureReason};
use crate::telemetry::metrics::{FactorKindLabel, FactorResult, LoginResult};
use crate::visitor::Visitor;
use crate::web::error::GatewayError;
use crate::web::{cookies, csrf, passkey_texts, texts};

/// Registration on the security page: the options.
pub const REGISTER_OPTIONS: &str = "/security/passkey/options";
/// Registration on the security page: the new credential.
pub const REGISTER: &str = "/security/passkey/register";
/// Step-up: the options.
pub const STEP_UP_OPTIONS: &str = "/mfa/passkey/options";
/// Step-up: the assertion.
pub const STEP_UP: &str = "/mfa/passkey/verify";
/// Passwordless login: the options.
pub const LOGIN_OPTIONS: &str = "/login/passkey/options";
/// Passwordless login: the assertion.
pub const LOGIN: &str = "/login/passkey/verify";

/// The largest request body read: the largest browser answer the ceremonies accept, and room
/// for the JSON around it. Larger ones are refused (413) before they are parsed.
pub const MAX_BODY_BYTES: usize = MAX_RESPONSE_BYTES + 4 * 1024;

/// Whether `path` is one of these endpoints.
pub fn is_endpoint(path: &str) -> bool {
    matches!(
        path,
        REGISTER_OPTIONS | REGISTER | STEP_UP_OPTIONS | STEP_UP | LOGIN_OPTIONS | LOGIN
    )
}

/// Whether the login page offers a passwordless passkey login: `[mfa] passwordless` (the
/// default) with a directory to find people in.
pub fn passwordless_offered(host: &LoginHost<'_>) -> bool {
    host.shared.directory.is_some() && host.config().mfa.as_ref().is_some_and(|m| m.passwordless)
}

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
enum Stop {
    Refused(Refusal),
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

type Outcome = Result<Response<Bytes>, Stop>;

/// Answers a `POST` to one of the endpoints (see [`is_endpoint`]).
pub async fn answer<B: FromClient>(
    host: &LoginHost<'_>,
    visitor: Option<&Visitor>,
    path: &str,
    req: Request<B>,
) -> Result<Response<Bytes>, GatewayError> {
    let headers = req.headers().clone();
    let lang = host.language(None, &headers);
    let outcome = async {
        let body = read_json(req).await?;
        let token = headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !csrf::check(&headers, token, &host.login_origin()) {
            return Err(Refusal::Forged.into());
        }
        match path {
            REGISTER_OPTIONS => register_options(host, visitor, &body).await,
            REGISTER => register(host, visitor, &body).await,
            STEP_UP_OPTIONS => step_up_options(host, visitor, &body).await,
            STEP_UP => step_up(host, visitor, &body).await,
            LOGIN_OPTIONS => login_options(host, &body).await,
            _ => login_verify(host, &headers, &body).await,
        }
    }
    .await;
    match outcome {
        Ok(response) => Ok(response),
        Err(Stop::Refused(refusal)) => Ok(refusal.respond(lang)),
        Err(Stop::Broken(e)) => Err(e),
    }
}

/// The body as UTF-8 JSON text, refused when it is too large, not declared JSON, or not text.
async fn read_json<B: FromClient>(req: Request<B>) -> Result<String, Refusal> {
    let declared_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
    if !declared_json {
        return Err(Refusal::NotJson);
    }
    let too_long = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > MAX_BODY_BYTES);
    if too_long {
        return Err(Refusal::TooLarge);
    }
    let bytes = Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|_| Refusal::TooLarge)?
        .to_bytes();
    String::from_utf8(bytes.to_vec()).map_err(|_| Refusal::Malformed)
}

/// The fields a page's form sends with the options request; unknown ones are ignored.
#[derive(Debug, Default, Deserialize)]
struct OptionsRequest {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    return_to: Option<String>,
    #[serde(default)]
    handover: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

impl OptionsRequest {
    fn parse(body: &str) -> Result<Self, Refusal> {
        serde_json::from_str(body).map_err(|_| Refusal::Malformed)
    }
}

/// What the session store keeps between the two requests of a ceremony.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    /// The webauthn-rs state.
    state: String,
    /// The subject of the person the ceremony is for (none for a passwordless login).
    #[serde(default)]
    subject: Option<String>,
    /// The new passkey's name (registration).
    #[serde(default)]
    name: String,
    /// Where to go afterwards, as sent (checked again when used).
    #[serde(default)]
    return_to: Option<String>,
    /// The app host's hand-over binding (passwordless login).
    #[serde(default)]
    handover: Option<String>,
}

fn registration_key(session: &Session) -> String {
    format!("reg:{}", session.sid)
}

fn step_up_key(session: &Session) -> String {
    format!("auth:{}", session.sid)
}

fn login_key(id: &str) -> String {
    format!("login:{id}")
}

/// Keeps a ceremony's state for [`CEREMONY_TIMEOUT`].
async fn keep(host: &LoginHost<'_>, key: &str, pending: &Pending) -> Result<(), Stop> {
    let value = serde_json::to_vec(pending).map_err(|e| FactorError::Make(e.to_string()))?;
    host.sessions()
        .put_record(RecordKind::Ceremony, key, &value, CEREMONY_TIMEOUT)
        .await?;
    Ok(())
}

/// Takes a ceremony's state: read and deleted in one step, so it answers one request only.
/// Gone, expired or unreadable is [`Refusal::Expired`].
async fn take(host: &LoginHost<'_>, key: &str) -> Result<Pending, Stop> {
    let Some(bytes) = host
        .sessions()
        .take_record(RecordKind::Ceremony, key)
        .await?
    else {
        return Err(Refusal::Expired.into());
    };
    serde_json::from_slice(&bytes).map_err(|_| Refusal::Expired.into())
}

/// The relying party: the login host's origin, the theme's product name.
fn relying_party(host: &LoginHost<'_>) -> Result<Passkeys, Refusal> {
    Passkeys::new(
        &host.login_origin(),
        &host.config().portal.theme.product_name,
    )
    .map_err(|e| {
        tracing::warn!(error = %e, "passkeys are not offered");
        Refusal::Unavailable
    })
}

/// A signed-in person with second factors set up: their session, the directory, the key, and
/// their factors with the passkeys opened.
struct Person<'a> {
    session: &'a Session,
    directory: &'a Directory,
    mfa: &'a Mfa,
    factors: PersonFactors,
    passkeys: Vec<(Opened<serde_json::Value>, StoredPasskey)>,
}

impl<'a> Person<'a> {
    async fn of(host: &'a LoginHost<'a>, visitor: Option<&'a Visitor>) -> Result<Self, Stop> {
        let session = &visitor.ok_or(Refusal::NoSession)?.session;
        let (Some(directory), Some(mfa)) =
            (host.shared.directory.as_ref(), host.config().mfa.as_ref())
        else {
            return Err(Refusal::Unavailable.into());
        };
        let factors = account::load(directory, &mfa.sealer, owner(session))
            .await?
            .ok_or(Refusal::NoSession)?;
        let passkeys = opened_passkeys(&factors);
        Ok(Self {
            session,
            directory,
            mfa,
            factors,
            passkeys,
        })
    }

    fn stored(&self) -> Vec<StoredPasskey> {
        self.passkeys.iter().map(|(_, p)| p.clone()).collect()
    }
}

fn owner(session: &Session) -> Owner<'_> {
    Owner {
        username: &session.username,
        subject: &session.subject,
    }
}

/// The person's passkeys read as such; a record that is not one is logged and left out.
fn opened_passkeys(factors: &PersonFactors) -> Vec<(Opened<serde_json::Value>, StoredPasskey)> {
    factors
        .passkeys
        .iter()
        .filter_map(|opened| {
            match serde_json::from_value::<StoredPasskey>(opened.value.clone()) {
                Ok(passkey) => Some((opened.clone(), passkey)),
                Err(e) => {
                    tracing::warn!(factor = %opened.handle(), error = %e, "a stored passkey is unreadable; it is ignored");
                    None
                }
            }
        })
        .collect()
}

/// Who may add a passkey from this session: a person with a second factor only from a session
/// that used one; a person without, only right after their login (as the authenticator-app
/// enrolment).
fn may_register(person: &Person<'_>, now: Timestamp) -> Result<(), Refusal> {
    if person.factors.has_second_factor() {
        if person.session.login != LoginStrength::Mfa {
            return Err(Refusal::StepUpFirst);
        }
    } else if super::security::confirmation_needed(person.session, &person.factors, now) {
        return Err(Refusal::LoginAgain);
    }
    Ok(())
}

/// `POST /security/passkey/options`: `{"name": "..."}`.
async fn register_options(host: &LoginHost<'_>, visitor: Option<&Visitor>, body: &str) -> Outcome {
    let request = OptionsRequest::parse(body)?;
    let person = Person::of(host, visitor).await?;
    may_register(&person, host.ctx.now)?;
    let lang = host.language(request.lang.as_deref(), &HeaderMap::new());
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
    let challenge = if passwordless_offered(host) {
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
    Ok(options(challenge.options))
}

/// `POST /security/passkey/register`: the new credential.
async fn register(host: &LoginHost<'_>, visitor: Option<&Visitor>, body: &str) -> Outcome {
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

/// `POST /mfa/passkey/options`: `{"return_to": "..."}`.
async fn step_up_options(host: &LoginHost<'_>, visitor: Option<&Visitor>, body: &str) -> Outcome {
    let request = OptionsRequest::parse(body)?;
    let person = Person::of(host, visitor).await?;
    let stored = person.stored();
    if stored.is_empty() {
        return Err(Refusal::NoPasskey.into());
    }
    let session = person.session;
    throttle(host, &Attempt::of(host, &session.username, host.ctx.now)).await?;
    let challenge = relying_party(host)?
        .start_authentication(&stored)
        .map_err(internal)?;
    let pending = Pending {
        state: challenge.state.as_str().to_owned(),
        subject: Some(session.subject.clone()),
        name: String::new(),
        return_to: request.return_to,
        handover: None,
    };
    keep(host, &step_up_key(session), &pending).await?;
    Ok(options(challenge.options))
}

/// `POST /mfa/passkey/verify`: the assertion; the session is stepped up in place.
async fn step_up(host: &LoginHost<'_>, visitor: Option<&Visitor>, body: &str) -> Outcome {
    let person = Person::of(host, visitor).await?;
    let session = person.session;
    let now = host.ctx.now;
    let attempt = Attempt::of(host, &session.username, now);
    throttle(host, &attempt).await?;
    let pending = match take(host, &step_up_key(session)).await {
        Ok(p) if p.subject.as_deref() == Some(session.subject.as_str()) => p,
        Ok(_) | Err(Stop::Refused(_)) => {
            // No ceremony waits: expired, or this answer was used already (a replay).
            failed(
                host,
                &session.username,
                FactorResult::Replayed,
                "no_ceremony",
            );
            login::record_failure(host, &attempt.account, &attempt.source, now).await?;
            return Err(Refusal::Expired.into());
        }
        Err(e) => return Err(e),
    };
    let state = CeremonyState::from_stored(pending.state);
    let verified = match relying_party(host)?.finish_authentication(&state, body, &person.stored())
    {
        Ok(verified) => verified,
        Err(e) => {
            let (refusal, result) = judge(&e)?;
            failed(host, &session.username, result, reason(&e));
            login::record_failure(host, &attempt.account, &attempt.source, now).await?;
            return Err(refusal.into());
        }
    };
    write_back(
        person.directory,
        &person.mfa.sealer,
        owner(session),
        &person.passkeys,
        &verified,
    )
    .await?;
    let method = method_of(verified.backup_eligible);
    if host
        .sessions()
        .step_up(&session.sid, method, now)
        .await?
        .is_none()
    {
        return Err(Refusal::NoSession.into());
    }
    host.shared
        .metrics
        .record_second_factor(FactorKindLabel::Passkey, FactorResult::Success);
    audit_factor(
        host,
        &session.username,
        FactorEvent::Verified,
        &session.sid.to_string(),
    );
    let next = pending
        .return_to
        .as_deref()
        .and_then(|raw| super::check_return_to(host, raw));
    Ok(redirect(next.as_ref().map_or("/", ReturnTo::as_str)))
}

/// `POST /login/passkey/options`: `{"return_to": "...", "handover": "..."}`; the ceremony's id
/// goes into a short-lived cookie.
async fn login_options(host: &LoginHost<'_>, body: &str) -> Outcome {
    if !passwordless_offered(host) {
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
    let mut response = options(challenge.options);
    if let Some(cookie) = cookies::set(cookies::PASSKEY, &id, CEREMONY_TIMEOUT) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// `POST /login/passkey/verify`: the assertion names its person by the user handle; a verified
/// one opens a session as a whole MFA login, with the cookies of a password login.
async fn login_verify(host: &LoginHost<'_>, headers: &HeaderMap, body: &str) -> Outcome {
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
            super::refused(host, "", FailureReason::BadInput, LoginResult::BadInput);
            return Err(refusal.into());
        }
    };
    let Some(user) = person_of(directory, &handle).await? else {
        let unknown = format!("passkey:{handle}");
        super::refused(
            host,
            "",
            FailureReason::UnknownUser,
            LoginResult::BadCredentials,
        );
        let attempt = Attempt::of(host, &unknown, now);
        login::record_failure(host, &attempt.account, &attempt.source, now).await?;
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
            login::record_failure(host, &attempt.account, &attempt.source, now).await?;
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
        .and_then(|raw| super::check_return_to(host, raw));
    let binding = pending.handover.as_deref().and_then(Binding::parse);
    let proof = Proof {
        login: LoginStrength::Mfa,
        methods: vec![method_of(verified.backup_eligible)],
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

/// Writes the used passkey back with its new counter and backup state, as a compare-and-set
/// on the value read: losing a race to a concurrent login of the same passkey is fine (the
/// other one wrote a counter at least as new).
async fn write_back(
    directory: &Directory,
    sealer: &pforte_factors::seal::Sealer,
    owner: Owner<'_>,
    passkeys: &[(Opened<serde_json::Value>, StoredPasskey)],
    verified: &Verified,
) -> Result<(), FactorError> {
    let Some(updated) = &verified.updated else {
        return Ok(());
    };
    let Some((opened, _)) = passkeys
        .iter()
        .find(|(_, p)| p.credential_id() == verified.credential_id)
    else {
        return Ok(());
    };
    let sealed = account::seal(sealer, Purpose::Passkey, owner.subject, updated)?;
    if !directory
        .replace_factor(owner.username, FactorKind::Passkey, &opened.sealed, &sealed)
        .await?
    {
        tracing::debug!(factor = %opened.handle(), "a passkey's counter was written by another request first");
    }
    Ok(())
}

/// The session method a verified passkey is: a synced passkey (`swk`) or a device-bound key
/// (`hwk`).
fn method_of(backup_eligible: bool) -> AuthMethod {
    if backup_eligible {
        AuthMethod::Passkey
    } else {
        AuthMethod::SecurityKey
    }
}

/// What a refused ceremony is told and counted as; the deployment's own failures stop here.
fn judge(e: &PasskeyError) -> Result<(Refusal, FactorResult), Stop> {
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
fn reason(e: &PasskeyError) -> &'static str {
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

fn internal(e: impl std::fmt::Display) -> GatewayError {
    GatewayError::SecondFactor(FactorError::Make(e.to_string()))
}

/// The brute-force throttle, as for codes: per account and per address.
async fn throttle(host: &LoginHost<'_>, attempt: &Attempt<'_>) -> Result<(), Stop> {
    let verdict = host
        .sessions()
        .login_check(&attempt.account, &attempt.source, attempt.now)
        .await?
        .verdict;
    if verdict != Throttle::Allowed {
        failed(host, attempt.username, FactorResult::Throttled, "throttled");
        return Err(Refusal::Throttled.into());
    }
    Ok(())
}

/// A refused passkey: audited with its reason and metered.
fn failed(host: &LoginHost<'_>, username: &str, result: FactorResult, detail: &str) {
    host.shared
        .metrics
        .record_second_factor(FactorKindLabel::Passkey, result);
    audit_factor(host, username, FactorEvent::Failed, detail);
}

fn audit_factor(host: &LoginHost<'_>, username: &str, event: FactorEvent, detail: &str) {
    audit::record(
        host.audit_context(),
        AuditEvent::SecondFactor {
            event,
            username,
            kind: FactorKindLabel::Passkey.label(),
            detail,
        },
    );
}

/// The WebAuthn options for the browser.
fn options(options_json: String) -> Response<Bytes> {
    json_text(StatusCode::OK, Bytes::from(options_json))
}

/// `{"redirect": location}`: where the script sends the browser.
fn redirect(location: &str) -> Response<Bytes> {
    json(StatusCode::OK, &serde_json::json!({ "redirect": location }))
}

/// A login's `303` as the script's JSON, with the same cookies.
fn as_json_redirect(logged_in: &Response<Bytes>) -> Response<Bytes> {
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

fn json(status: StatusCode, value: &serde_json::Value) -> Response<Bytes> {
    json_text(status, Bytes::from(value.to_string()))
}

/// A JSON answer for the login host's own script: never cached, never sniffed.
fn json_text(status: StatusCode, body: Bytes) -> Response<Bytes> {
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
        assert!(is_endpoint(LOGIN) && !is_endpoint("/login"));
    }
}
