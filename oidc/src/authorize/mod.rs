//! The authorization endpoint's rules (OIDC Core §3.1.2, RFC 6749 §4.1.1, RFC 9700).
//!
//! ```text
//! Params ─▶ client_id known? ─▶ redirect_uri registered? ─┬─▶ (no)  AuthorizeError::Page
//!                                                          └─▶ (yes) every other rule
//!                                                               ├─▶ AuthorizeError::Redirect
//!                                                               └─▶ AuthorizationRequest
//! ```
//! Until the redirect URI is known to be registered, nothing may be sent to it: an error
//! there is shown on the provider's own page, never redirected (RFC 6749 §4.1.2.1).

mod prompt;
mod response;
mod session;

use crate::clients::{Client, Clients, GrantType};
use crate::error::{ErrorCode, ProtocolError};
use crate::params::Params;
use crate::pkce::CodeChallenge;
use crate::scope::Scopes;

pub use prompt::Prompt;
pub use response::{AuthorizationResponse, RedirectError};
pub use session::{SessionAuth, SessionVerdict};

/// Longest `state`, `nonce` or `login_hint` accepted; they are stored with the code.
const MAX_VALUE_LEN: usize = 2048;

/// Why an authorization request cannot go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizeError {
    /// The client or its redirect URI cannot be trusted: show this on the provider's page.
    #[error("{0}")]
    Page(PageError),
    /// Send the error back to the client's registered redirect URI.
    #[error("{}: {}", .0.error, .0.description)]
    Redirect(RedirectError),
}

/// An error shown on the provider's own page, because nothing proves the redirect URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// No `client_id`, or one sent twice.
    #[error("the request has no single client_id")]
    MissingClientId,
    /// The `client_id` is not registered.
    #[error("unknown client")]
    UnknownClient,
    /// The `redirect_uri` is missing (and the client has several) or sent twice.
    #[error("the request has no single redirect_uri and the client registers several")]
    MissingRedirectUri,
    /// The `redirect_uri` is not exactly one the client registered.
    #[error("redirect_uri is not registered for this client")]
    UnregisteredRedirectUri,
}

/// A validated authorization request: every value checked, ready for login and a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// The client.
    pub client_id: String,
    /// The registered redirect URI the response goes to.
    pub redirect_uri: String,
    /// Whether `redirect_uri` was sent (then the token request must repeat it).
    pub redirect_uri_sent: bool,
    /// Granted scopes (always with `openid`).
    pub scopes: Scopes,
    /// Returned unchanged to the client.
    pub state: Option<String>,
    /// Copied into the ID token.
    pub nonce: Option<String>,
    /// The PKCE challenge; always present for public clients.
    pub code_challenge: Option<CodeChallenge>,
    /// What the client asked about login.
    pub prompt: Prompt,
    /// The oldest login the client accepts, in seconds.
    pub max_age: Option<u64>,
    /// Whether the client asked for a login with a second factor ([`crate::acr::ACR_MFA`] in
    /// `acr_values`, or as an essential `acr` claim): a password session steps up first.
    pub mfa: bool,
    /// A username to prefill on the login page.
    pub login_hint: Option<String>,
    /// Preferred languages for the login page, best first.
    pub ui_locales: Vec<String>,
}

impl AuthorizationRequest {
    /// An error to send to this request's client (e.g. `access_denied` when the access
    /// rules refuse the person this client's app).
    pub fn error(&self, issuer: &str, error: ErrorCode, description: &str) -> RedirectError {
        RedirectError {
            redirect_uri: self.redirect_uri.clone(),
            error,
            description: description.to_owned(),
            state: self.state.clone(),
            iss: issuer.to_owned(),
        }
    }
}

/// Validates an authorization request against the registered clients.
pub fn validate(
    params: &Params,
    clients: &Clients,
    issuer: &str,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let (client, redirect_uri) = trusted_target(params, clients)?;
    let state = params.get("state").map(str::to_owned);
    let fail = |e: ProtocolError| {
        AuthorizeError::Redirect(RedirectError {
            redirect_uri: redirect_uri.clone(),
            error: e.code,
            description: e.description,
            state: if params.is_repeated("state") {
                None
            } else {
                state.clone()
            },
            iss: issuer.to_owned(),
        })
    };
    rules(params, client)
        .map(|checked| AuthorizationRequest {
            client_id: client.id.clone(),
            redirect_uri: redirect_uri.clone(),
            redirect_uri_sent: params.get("redirect_uri").is_some(),
            scopes: checked.scopes,
            state: state.clone(),
            nonce: params.get("nonce").map(str::to_owned),
            code_challenge: checked.code_challenge,
            prompt: checked.prompt,
            max_age: checked.max_age,
            mfa: checked.mfa,
            login_hint: params.get("login_hint").map(str::to_owned),
            ui_locales: params
                .get("ui_locales")
                .map(|l| {
                    l.split(' ')
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        })
        .map_err(fail)
}

/// The client and the redirect URI that errors may be sent to, or a page error.
/// The client and the redirect URI the answer may go to: the one sent when the client registered
/// it (exactly, or a loopback IP redirect on another port), or the only one registered.
fn trusted_target<'c>(
    params: &Params,
    clients: &'c Clients,
) -> Result<(&'c Client, String), AuthorizeError> {
    if params.is_repeated("client_id") {
        return Err(AuthorizeError::Page(PageError::MissingClientId));
    }
    let id = params
        .get("client_id")
        .ok_or(AuthorizeError::Page(PageError::MissingClientId))?;
    let client = clients
        .get(id)
        .ok_or(AuthorizeError::Page(PageError::UnknownClient))?;
    if params.is_repeated("redirect_uri") {
        return Err(AuthorizeError::Page(PageError::MissingRedirectUri));
    }
    let uri = match (params.get("redirect_uri"), client.redirect_uris.as_slice()) {
        (Some(sent), _) if client.has_redirect_uri(sent) => sent,
        (Some(_), _) => return Err(AuthorizeError::Page(PageError::UnregisteredRedirectUri)),
        (None, [only]) => only.as_str(),
        (None, _) => return Err(AuthorizeError::Page(PageError::MissingRedirectUri)),
    };
    Ok((client, uri.to_owned()))
}

struct Checked {
    scopes: Scopes,
    code_challenge: Option<CodeChallenge>,
    prompt: Prompt,
    max_age: Option<u64>,
    mfa: bool,
}

/// Every rule after the redirect URI is trusted, in the order a client developer would fix
/// them.
fn rules(params: &Params, client: &Client) -> Result<Checked, ProtocolError> {
    use ErrorCode::*;
    if params.repeated().is_some() {
        return Err(ProtocolError::new(
            InvalidRequest,
            "a parameter was sent more than once",
        ));
    }
    if params.get("request").is_some() {
        return Err(ProtocolError::new(
            RequestNotSupported,
            "request objects are not supported",
        ));
    }
    if params.get("request_uri").is_some() {
        return Err(ProtocolError::new(
            RequestUriNotSupported,
            "request_uri is not supported",
        ));
    }
    match params.get("response_type") {
        None => {
            return Err(ProtocolError::new(
                InvalidRequest,
                "response_type is required",
            ));
        }
        Some("code") => {}
        Some(_) => {
            return Err(ProtocolError::new(
                UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    if !client.allows(GrantType::AuthorizationCode) {
        return Err(ProtocolError::new(
            UnauthorizedClient,
            "this client may not use the code flow",
        ));
    }
    if params.get("response_mode").is_some_and(|m| m != "query") {
        return Err(ProtocolError::new(
            InvalidRequest,
            "only response_mode=query is supported",
        ));
    }
    let too_long = ["state", "nonce", "login_hint", "ui_locales"]
        .iter()
        .any(|n| params.get(n).is_some_and(|v| v.len() > MAX_VALUE_LEN));
    if too_long {
        return Err(ProtocolError::new(
            InvalidRequest,
            "a parameter value is too long",
        ));
    }
    let scopes = Scopes::for_person(params.get("scope"), client.scopes)?;
    let code_challenge = CodeChallenge::from_request(
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    )?;
    if client.is_public() && code_challenge.is_none() {
        return Err(ProtocolError::new(
            InvalidRequest,
            "PKCE (code_challenge_method=S256) is required",
        ));
    }
    let prompt = Prompt::parse(params.get("prompt"))?;
    let max_age = params
        .get("max_age")
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                ProtocolError::new(InvalidRequest, "max_age must be a whole number of seconds")
            })
        })
        .transpose()?;
    let mfa = crate::acr::mfa_asked(params)?;
    Ok(Checked {
        scopes,
        code_challenge,
        prompt,
        max_age,
        mfa,
    })
}

#[cfg(test)]
mod tests;
