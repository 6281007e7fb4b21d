//! The discovery document (`/.well-known/openid-configuration`, OIDC Discovery 1.0 §3),
//! built with `openidconnect`'s provider metadata so field names and shapes are the ones
//! relying parties parse.
//!
//! Endpoint paths live here too, so the gateway routes exactly what it advertises.

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthUrl, AuthenticationContextClass, EndSessionUrl,
    IntrospectionUrl, IssuerUrl, JsonWebKeySetUrl, LogoutProviderMetadata, ProviderMetadata,
    ResponseTypes, RevocationUrl, Scope as OidcScope, TokenUrl, UserInfoUrl,
};
use serde::{Deserialize, Serialize};

use crate::acr::ACR_VALUES;
use crate::clients::GrantType;
use crate::scope::Scope;

/// Paths of the provider's endpoints on the login host.
pub mod paths {
    /// The discovery document.
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    /// The same document as OAuth 2.0 authorization server metadata (RFC 8414 §3), for OAuth
    /// clients that look there.
    pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
    /// Authorization endpoint.
    pub const AUTHORIZE: &str = "/oidc/authorize";
    /// Token endpoint.
    pub const TOKEN: &str = "/oidc/token";
    /// Userinfo endpoint.
    pub const USERINFO: &str = "/oidc/userinfo";
    /// The public keys (JWKS).
    pub const JWKS: &str = "/oidc/jwks";
    /// Token introspection (RFC 7662).
    pub const INTROSPECT: &str = "/oidc/introspect";
    /// Token revocation (RFC 7009).
    pub const REVOKE: &str = "/oidc/revoke";
    /// RP-initiated logout.
    pub const END_SESSION: &str = "/oidc/end_session";
    /// Pushed authorization requests (RFC 9126).
    pub const PAR: &str = "/oidc/par";
    /// Device authorization requests (RFC 8628 §3.1).
    pub const DEVICE_AUTHORIZATION: &str = "/oidc/device_authorization";
    /// The page where a person enters a device's user code (RFC 8628 §3.3): short, since
    /// people type it.
    pub const DEVICE_VERIFICATION: &str = "/device";
}

/// Metadata fields `openidconnect` has no typed slot for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PforteMetadata {
    /// RFC 7662.
    pub introspection_endpoint: IntrospectionUrl,
    /// RFC 7009.
    pub revocation_endpoint: RevocationUrl,
    /// Only `S256` (RFC 7636).
    pub code_challenge_methods_supported: Vec<String>,
    /// Responses carry `iss` (RFC 9207).
    pub authorization_response_iss_parameter_supported: bool,
    /// OIDC Back-Channel Logout.
    pub backchannel_logout_supported: bool,
    /// Logout tokens carry `sid`.
    pub backchannel_logout_session_supported: bool,
    /// Where clients push authorization requests (RFC 9126 §5).
    pub pushed_authorization_request_endpoint: String,
    /// Whether every client must push (RFC 9126 §5): no, each client's entry says so.
    pub require_pushed_authorization_requests: bool,
    /// Where devices ask for a device code and a user code (RFC 8628 §4).
    pub device_authorization_endpoint: String,
}

impl AdditionalProviderMetadata for PforteMetadata {}

/// The discovery document's type: the core metadata plus logout and Pforte's fields.
pub type DiscoveryDocument = ProviderMetadata<
    LogoutProviderMetadata<PforteMetadata>,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The issuer is not a URL a provider may use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "issuer \"{0}\" must be an https URL without query or fragment, e.g. https://login.example.org"
)]
pub struct InvalidIssuer(pub String);

/// Checks an issuer identifier (OIDC Discovery §2: https, no query, no fragment).
pub fn check_issuer(issuer: &str) -> Result<IssuerUrl, InvalidIssuer> {
    let invalid = || InvalidIssuer(issuer.to_owned());
    let url = IssuerUrl::new(issuer.to_owned()).map_err(|_| invalid())?;
    let parsed = url.url();
    if parsed.scheme() != "https"
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || issuer.ends_with('/')
    {
        return Err(invalid());
    }
    Ok(url)
}

/// The claims an ID token or userinfo response may carry.
const CLAIMS: [&str; 16] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "sid",
    "at_hash",
    "name",
    "preferred_username",
    "email",
    "email_verified",
    "groups",
];

/// Builds the discovery document for `issuer`, advertising `signing_algs` (the algorithms
/// of the published keys, the active one first).
pub fn document(
    issuer: &str,
    signing_algs: Vec<CoreJwsSigningAlgorithm>,
) -> Result<DiscoveryDocument, InvalidIssuer> {
    let issuer_url = check_issuer(issuer)?;
    let at = |path: &str| format!("{issuer}{path}");
    let url_error = |_| InvalidIssuer(issuer.to_owned());
    let extra = LogoutProviderMetadata {
        end_session_endpoint: Some(EndSessionUrl::new(at(paths::END_SESSION)).map_err(url_error)?),
        additional_metadata: PforteMetadata {
            introspection_endpoint: IntrospectionUrl::new(at(paths::INTROSPECT))
                .map_err(url_error)?,
            revocation_endpoint: RevocationUrl::new(at(paths::REVOKE)).map_err(url_error)?,
            code_challenge_methods_supported: vec!["S256".to_owned()],
            authorization_response_iss_parameter_supported: true,
            backchannel_logout_supported: true,
            backchannel_logout_session_supported: true,
            pushed_authorization_request_endpoint: at(paths::PAR),
            require_pushed_authorization_requests: false,
            device_authorization_endpoint: at(paths::DEVICE_AUTHORIZATION),
        },
    };
    let auth_methods = vec![
        CoreClientAuthMethod::ClientSecretBasic,
        CoreClientAuthMethod::ClientSecretPost,
        CoreClientAuthMethod::PrivateKeyJwt,
        CoreClientAuthMethod::None,
    ];
    Ok(DiscoveryDocument::new(
        issuer_url,
        AuthUrl::new(at(paths::AUTHORIZE)).map_err(url_error)?,
        JsonWebKeySetUrl::new(at(paths::JWKS)).map_err(url_error)?,
        vec![ResponseTypes::new(vec![CoreResponseType::Code])],
        vec![
            CoreSubjectIdentifierType::Public,
            CoreSubjectIdentifierType::Pairwise,
        ],
        signing_algs,
        extra,
    )
    .set_token_endpoint(Some(TokenUrl::new(at(paths::TOKEN)).map_err(url_error)?))
    .set_userinfo_endpoint(Some(
        UserInfoUrl::new(at(paths::USERINFO)).map_err(url_error)?,
    ))
    .set_response_modes_supported(Some(vec![CoreResponseMode::Query]))
    .set_grant_types_supported(Some(vec![
        CoreGrantType::AuthorizationCode,
        CoreGrantType::RefreshToken,
        CoreGrantType::ClientCredentials,
        CoreGrantType::DeviceCode,
        CoreGrantType::Extension(GrantType::TokenExchange.wire_name().to_owned()),
    ]))
    .set_token_endpoint_auth_methods_supported(Some(auth_methods))
    .set_token_endpoint_auth_signing_alg_values_supported(Some(assertion_algorithms()))
    .set_scopes_supported(Some(
        Scope::ALL
            .iter()
            .map(|s| OidcScope::new(s.as_str().to_owned()))
            .collect(),
    ))
    .set_claims_supported(Some(
        CLAIMS
            .iter()
            .map(|c| CoreClaimName::new((*c).to_owned()))
            .collect(),
    ))
    .set_acr_values_supported(Some(
        ACR_VALUES
            .iter()
            .map(|v| AuthenticationContextClass::new((*v).to_owned()))
            .collect(),
    ))
    .set_request_parameter_supported(Some(false))
    .set_request_uri_parameter_supported(Some(false)))
}

/// The algorithms `private_key_jwt` assertions may use, as discovery names them.
fn assertion_algorithms() -> Vec<CoreJwsSigningAlgorithm> {
    use jsonwebtoken::Algorithm;
    crate::clients::assertion::ALGORITHMS
        .iter()
        .filter_map(|alg| match alg {
            Algorithm::RS256 => Some(CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256),
            Algorithm::RS384 => Some(CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384),
            Algorithm::RS512 => Some(CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512),
            Algorithm::PS256 => Some(CoreJwsSigningAlgorithm::RsaSsaPssSha256),
            Algorithm::PS384 => Some(CoreJwsSigningAlgorithm::RsaSsaPssSha384),
            Algorithm::PS512 => Some(CoreJwsSigningAlgorithm::RsaSsaPssSha512),
            Algorithm::ES256 => Some(CoreJwsSigningAlgorithm::EcdsaP256Sha256),
            Algorithm::ES384 => Some(CoreJwsSigningAlgorithm::EcdsaP384Sha384),
            Algorithm::EdDSA => Some(CoreJwsSigningAlgorithm::EdDsa),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn advertises_what_the_provider_does() {
        let doc = document(
            "https://login.example.org",
            vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256],
        )
        .unwrap();
        let v = serde_json::to_value(&doc).unwrap();
        let expect = json!({
            "issuer": "https://login.example.org",
            "authorization_endpoint": "https://login.example.org/oidc/authorize",
            "token_endpoint": "https://login.example.org/oidc/token",
            "userinfo_endpoint": "https://login.example.org/oidc/userinfo",
            "jwks_uri": "https://login.example.org/oidc/jwks",
            "introspection_endpoint": "https://login.example.org/oidc/introspect",
            "revocation_endpoint": "https://login.example.org/oidc/revoke",
            "end_session_endpoint": "https://login.example.org/oidc/end_session",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": [
                "authorization_code",
                "refresh_token",
                "client_credentials",
                "urn:ietf:params:oauth:grant-type:device_code",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "subject_types_supported": ["public", "pairwise"],
            "scopes_supported": ["openid", "profile", "email", "groups", "offline_access"],
            "authorization_response_iss_parameter_supported": true,
            "backchannel_logout_supported": true,
            "backchannel_logout_session_supported": true,
            "pushed_authorization_request_endpoint": "https://login.example.org/oidc/par",
            "require_pushed_authorization_requests": false,
            "device_authorization_endpoint": "https://login.example.org/oidc/device_authorization",
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "acr_values_supported": ["urn:pforte:acr:password", "urn:pforte:acr:mfa"],
        });
        for (key, value) in expect.as_object().unwrap() {
            assert_eq!(&v[key], value, "{key}");
        }
        assert!(
            v["claims_supported"]
                .as_array()
                .unwrap()
                .contains(&json!("groups"))
        );
        for claim in ["acr", "amr"] {
            assert!(
                v["claims_supported"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(claim))
            );
        }
    }

    #[test]
    fn parses_back_as_the_relying_party_would() {
        let doc = document(
            "https://login.example.org",
            vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256],
        )
        .unwrap();
        let text = serde_json::to_string(&doc).unwrap();
        let back: openidconnect::ProviderMetadataWithLogout = serde_json::from_str(&text).unwrap();
        assert_eq!(back.issuer().as_str(), "https://login.example.org");
        assert!(back.additional_metadata().end_session_endpoint.is_some());
    }

    #[test]
    fn refuses_issuers_a_provider_may_not_use() {
        for bad in [
            "http://login.example.org",
            "https://login.example.org/?x=1",
            "https://login.example.org/#f",
            "https://login.example.org/",
            "login.example.org",
        ] {
            assert!(document(bad, vec![]).is_err(), "{bad}");
        }
        assert!(check_issuer("https://example.org/sso").is_ok());
    }
}
