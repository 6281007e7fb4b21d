//! ID token claims (OIDC Core §2, §3.1.3.6).

use aws_lc_rs::digest::{SHA256, SHA384, SHA512, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::CoreJwsSigningAlgorithm as Alg;
use serde::Serialize;

use super::Issue;
use super::person::{Person, ProfileClaims};
use super::subject::subject_for;
use crate::acr;
use crate::clients::Client;
use crate::code::Authentication;
use crate::scope::Scopes;

/// The claims of an ID token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdTokenClaims {
    /// This provider.
    pub iss: String,
    /// The person, as this client sees them.
    pub sub: String,
    /// The client.
    pub aud: String,
    /// Expiry (Unix seconds).
    pub exp: u64,
    /// Issue time (Unix seconds).
    pub iat: u64,
    /// When the person entered credentials.
    pub auth_time: u64,
    /// The client's nonce, unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// How strong the login was (see [`crate::acr`]).
    pub acr: String,
    /// How the person logged in (RFC 8176, see [`crate::acr::amr`]).
    pub amr: Vec<String>,
    /// The SSO session, for logout.
    pub sid: String,
    /// Hash of the access token issued with it; the signer fills it in (it needs the alg).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// The person's claims the scopes allow.
    #[serde(flatten)]
    pub profile: ProfileClaims,
}

/// The ID token claims for `client` after a login described by `auth`.
pub fn id_token_claims(
    at: Issue<'_>,
    client: &Client,
    auth: &Authentication,
    person: &Person,
    scopes: Scopes,
    nonce: Option<&str>,
) -> IdTokenClaims {
    IdTokenClaims {
        iss: at.issuer.to_owned(),
        sub: subject_for(client, &auth.subject, at.salt),
        aud: client.id.clone(),
        exp: at.now.saturating_add(client.lifetimes.id_token),
        iat: at.now,
        auth_time: auth.auth_time,
        nonce: nonce.map(str::to_owned),
        acr: acr::acr(auth.login).to_owned(),
        amr: acr::amr(&auth.methods),
        sid: auth.sid.clone(),
        at_hash: None,
        profile: ProfileClaims::new(person, scopes),
    }
}

/// The `at_hash` of an access token for an ID token signed with `alg` (OIDC Core §3.1.3.6):
/// the left half of the token's hash, with the hash the algorithm uses (SHA-512 for
/// Ed25519). `None` for `none` and algorithms this provider never signs with.
pub fn at_hash(access_token: &str, alg: &Alg) -> Option<String> {
    let algorithm = match alg {
        Alg::EcdsaP256Sha256 | Alg::RsaSsaPkcs1V15Sha256 | Alg::RsaSsaPssSha256 => &SHA256,
        Alg::EcdsaP384Sha384 | Alg::RsaSsaPkcs1V15Sha384 | Alg::RsaSsaPssSha384 => &SHA384,
        Alg::EcdsaP521Sha512 | Alg::RsaSsaPkcs1V15Sha512 | Alg::RsaSsaPssSha512 | Alg::EdDsa => {
            &SHA512
        }
        _ => return None,
    };
    let hash = digest(algorithm, access_token.as_bytes());
    let bytes = hash.as_ref();
    bytes
        .get(..bytes.len() / 2)
        .map(|half| URL_SAFE_NO_PAD.encode(half))
}
