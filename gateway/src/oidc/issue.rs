//! Minting the tokens of one token response: an RFC 9068 access token, and for a person an ID
//! token (with `at_hash`) and maybe a refresh token, all signed by the active key.

use pforte_keys::{KeySet, TokenError};
use pforte_oidc::claims::{
    AccessTokenClaims, Issue, JTI_BYTES, Person, access_token_claims, at_hash, id_token_claims,
    service_token_claims,
};
use pforte_oidc::token::exchange::ACCESS_TOKEN_TYPE;
use pforte_oidc::{Authentication, Client, ErrorCode, ProtocolError, RefreshToken, Scopes};
use pforte_session::Session;
use serde::Serialize;

use super::provider::signing_alg;

/// The JSON body of a successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// The access token (a JWT).
    pub access_token: String,
    /// What a token exchange issued (RFC 8693 §2.2.1); absent for the other grants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The granted scopes.
    pub scope: Scopes,
    /// The ID token, for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The next refresh token, when the client may refresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// What a person's tokens say besides the grant.
pub struct PersonGrant<'a> {
    /// Who logged in, and how.
    pub auth: &'a Authentication,
    /// Their claims.
    pub person: &'a Person,
    /// The granted scopes.
    pub scopes: Scopes,
    /// The client's nonce (code grant only).
    pub nonce: Option<&'a str>,
    /// The refresh token to hand out, if any.
    pub refresh: Option<&'a RefreshToken>,
}

/// The access token's `typ` (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// Tokens for a person: access token, ID token, refresh token. Returns the response and the
/// access token's claims (for the redeemed-code record).
pub fn for_person(
    keys: &KeySet,
    at: Issue<'_>,
    client: &Client,
    grant: &PersonGrant<'_>,
) -> Result<(TokenResponse, AccessTokenClaims), TokenError> {
    let access = access_token_claims(at, client, grant.auth, grant.scopes, rand::random());
    let access_token = keys.sign(&access, ACCESS_TOKEN_TYP)?;
    let mut id = id_token_claims(
        at,
        client,
        grant.auth,
        grant.person,
        grant.scopes,
        grant.nonce,
    );
    id.at_hash = at_hash(&access_token, &signing_alg(keys.active().alg()));
    let id_token = keys.sign(&id, "JWT")?;
    let response = TokenResponse {
        access_token,
        issued_token_type: None,
        token_type: "Bearer",
        expires_in: client.lifetimes.access_token,
        scope: grant.scopes,
        id_token: Some(id_token),
        refresh_token: grant.refresh.map(RefreshToken::expose),
    };
    Ok((response, access))
}

/// An access token for a service client acting for itself.
pub fn for_service(
    keys: &KeySet,
    at: Issue<'_>,
    client: &Client,
    scopes: Scopes,
) -> Result<TokenResponse, TokenError> {
    let jti: [u8; JTI_BYTES] = rand::random();
    let access = service_token_claims(at, client, scopes, jti);
    Ok(TokenResponse {
        access_token: keys.sign(&access, ACCESS_TOKEN_TYP)?,
        issued_token_type: None,
        token_type: "Bearer",
        expires_in: client.lifetimes.access_token,
        scope: scopes,
        id_token: None,
        refresh_token: None,
    })
}

/// The answer to a token exchange (RFC 8693 §2.2.1): the access token alone, with its type; no
/// ID token (the actor already knows the person) and no refresh token (the subject token's
/// holder renews its own token and exchanges again).
pub fn for_exchange(
    keys: &KeySet,
    access: &AccessTokenClaims,
    now: u64,
) -> Result<TokenResponse, TokenError> {
    Ok(TokenResponse {
        access_token: keys.sign(access, ACCESS_TOKEN_TYP)?,
        issued_token_type: Some(ACCESS_TOKEN_TYPE),
        token_type: "Bearer",
        expires_in: access.exp.saturating_sub(now),
        scope: access.scope,
        id_token: None,
        refresh_token: None,
    })
}

/// A person's claims as their session holds them (resolved from the directory at login).
pub fn person_of(session: &Session) -> Person {
    Person {
        username: session.username.clone(),
        name: Some(session.display_name.clone()),
        email: session.email.clone(),
        email_verified: session.email.is_some(),
        groups: session.groups.clone(),
    }
}

/// The login of a session, as codes and refresh families carry it.
pub fn authentication_of(session: &Session) -> Authentication {
    Authentication {
        sid: session.sid.to_string(),
        subject: session.subject.clone(),
        auth_time: session.auth_time.unix_secs(),
        login: session.login,
        methods: session.methods.clone(),
    }
}

/// The grant's SSO session has ended: nothing more comes from it.
pub fn session_ended() -> ProtocolError {
    ProtocolError::new(
        ErrorCode::InvalidGrant,
        "the login session this grant came from has ended",
    )
}

/// Signing cannot fail with a loaded key set; if it does, the client is told to try later
/// and the operator finds the cause in the log.
pub fn signing(error: pforte_keys::TokenError) -> ProtocolError {
    tracing::error!(%error, "cannot sign a token");
    ProtocolError::new(
        ErrorCode::InvalidRequest,
        "the provider cannot sign tokens now",
    )
}
