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
//! Modules by ceremony: `register`, `step_up`, `passwordless`; `refusal` holds the
//! refusals and the JSON answers.
//!
//! Every request: `POST`, `Content-Type: application/json`, at most [`MAX_BODY_BYTES`], the
//! anti-forgery token in `X-CSRF-Token` (the double-submit check of the forms). Every refusal
//! is a 4xx with `{"error": "<sentence in the person's language>"}`, decided in
//! [`Refusal::status`]; only a directory or store that does not answer is a 5xx.
//! Failed assertions count in the brute-force throttle like wrong codes, and are audited and
//! metered as second-factor failures.

use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::{BodyExt, Limited};
use pforte_directory::{Directory, FactorKind};
use pforte_factors::passkey::{
    CEREMONY_TIMEOUT, MAX_RESPONSE_BYTES, Passkeys, StoredPasskey, Verified,
};
use pforte_factors::seal::{Purpose, Sealer};
use pforte_session::{AuthMethod, RecordKind, Session, Throttle};
use serde::{Deserialize, Serialize};

use super::throttle::Attempt;
use crate::config::Mfa;
use crate::login_host::LoginHost;
use crate::mfa::FactorError;
use crate::mfa::account::{self, Opened, Owner, PersonFactors};
use crate::proxy::body::FromClient;
use crate::telemetry::audit::{self, AuditEvent, FactorEvent};
use crate::telemetry::metrics::{FactorKindLabel, FactorResult};
use crate::visitor::Visitor;
use crate::web::csrf;
use crate::web::error::GatewayError;
pub use refusal::Refusal;
use refusal::Stop;

mod passwordless;
mod refusal;
mod register;
mod step_up;

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
            REGISTER_OPTIONS => register::options(host, visitor, &body).await,
            REGISTER => register::finish(host, visitor, &body).await,
            STEP_UP_OPTIONS => step_up::options(host, visitor, &body).await,
            STEP_UP => step_up::finish(host, visitor, &body).await,
            LOGIN_OPTIONS => passwordless::options(host, &body).await,
            _ => passwordless::finish(host, &headers, &body).await,
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

/// The relying party made at load (`Snapshot::passkeys`); none when second factors are not set up.
fn relying_party<'h>(host: &'h LoginHost<'_>) -> Result<&'h Passkeys, Refusal> {
    host.snapshot
        .passkeys
        .as_deref()
        .ok_or(Refusal::Unavailable)
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

/// Writes the used passkey back with its new counter and backup state, as a compare-and-set
/// on the value read: losing a race to a concurrent login of the same passkey is fine (the
/// other one wrote a counter at least as new).
async fn write_back(
    directory: &Directory,
    sealer: &Sealer,
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
