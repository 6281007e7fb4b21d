//! A provider's discovery document (OpenID Connect Discovery 1.0 §3), read and checked: the
//! issuer it names must be the configured one exactly (§4.3), or an attacker who can answer
//! for one URL could speak for another provider.
//!
//! [`Metadata::parse`] stops at the first problem (the gateway only needs to know the provider
//! is unusable); [`Metadata::review`] names every problem at once, for an administrator mending
//! a provider's setup (`pforte-admin idps test`).

use serde::Deserialize;
use serde_json::Value;
use url::{Host, Url};

/// Why a discovery document cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// Not the JSON of a discovery document.
    #[error("the discovery document is not valid: {0}")]
    Malformed(String),
    /// The document names another issuer.
    #[error("the discovery document names issuer {found:?}, not the configured {expected:?}")]
    WrongIssuer {
        /// The configured issuer.
        expected: String,
        /// The document's.
        found: String,
    },
    /// An endpoint is not `https` (or plain `http` away from a loopback issuer).
    #[error("{field} {url:?} is not an https URL")]
    Insecure {
        /// The metadata field.
        field: &'static str,
        /// Its value.
        url: String,
    },
    /// The provider lists token endpoint authentication methods, none of which Pforte uses.
    #[error(
        "the provider's token endpoint takes neither client_secret_basic nor client_secret_post"
    )]
    NoClientAuth,
    /// The provider lists PKCE methods without S256.
    #[error("the provider does not offer PKCE with S256")]
    NoPkce,
}

/// How Pforte sends its client secret to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// HTTP Basic (RFC 6749 §2.3.1), the default every provider must support.
    Basic,
    /// In the form body, for providers that list only it.
    Post,
}

/// What Pforte uses of a provider's discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The issuer, equal to the configured one.
    pub issuer: String,
    /// Where the browser is sent to log in.
    pub authorization_endpoint: Url,
    /// Where codes are exchanged.
    pub token_endpoint: Url,
    /// The provider's signing keys.
    pub jwks_uri: Url,
    /// Where the claims the ID token leaves out are read (OIDC Core §5.3), if offered.
    pub userinfo_endpoint: Option<Url>,
    /// Where the browser is sent to log out there (RP-Initiated Logout 1.0), if offered.
    pub end_session_endpoint: Option<Url>,
    /// Whether authorization responses carry `iss` (RFC 9207); then one without it is refused.
    pub iss_parameter_supported: bool,
    /// How the client secret is sent.
    pub client_auth: ClientAuth,
    /// Whether the provider can tell Pforte that a session there ended (Back-Channel Logout
    /// 1.0 §2.1, `backchannel_logout_supported`); without it a partner's logout at home leaves
    /// the Pforte session running until it expires.
    pub backchannel_logout_supported: bool,
    /// The algorithms the provider signs ID tokens with
    /// (`id_token_signing_alg_values_supported`), as listed; empty when it lists none.
    pub id_token_signing_algs: Vec<String>,
}

#[derive(Deserialize)]
struct Document {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    userinfo_endpoint: Option<String>,
    end_session_endpoint: Option<String>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    code_challenge_methods_supported: Option<Vec<String>>,
    // Read loosely (any JSON, misfits taken as absent): these two only inform
    // `pforte-admin idps test`, so a document the gateway used before is not refused for them.
    backchannel_logout_supported: Option<Value>,
    id_token_signing_alg_values_supported: Option<Value>,
}

impl Metadata {
    /// Reads the document a provider served for `expected_issuer`; the first problem found.
    pub fn parse(expected_issuer: &str, body: &[u8]) -> Result<Self, MetadataError> {
        check(expected_issuer, body).map_err(|(first, _)| first)
    }

    /// Reads the document like [`Self::parse`], but names every problem, in the order `parse`
    /// meets them (the first is the one `parse` returns).
    pub fn review(expected_issuer: &str, body: &[u8]) -> Result<Self, Vec<MetadataError>> {
        check(expected_issuer, body).map_err(|(first, more)| {
            let mut all = Vec::with_capacity(1 + more.len());
            all.push(first);
            all.extend(more);
            all
        })
    }
}

/// The document's metadata, or its first problem and any others.
fn check(
    expected_issuer: &str,
    body: &[u8],
) -> Result<Metadata, (MetadataError, Vec<MetadataError>)> {
    let doc: Document = serde_json::from_slice(body)
        .map_err(|e| (MetadataError::Malformed(e.to_string()), Vec::new()))?;
    let mut problems = Vec::new();
    if doc.issuer != expected_issuer {
        problems.push(MetadataError::WrongIssuer {
            expected: expected_issuer.to_owned(),
            found: doc.issuer.clone(),
        });
    }
    let loopback = Url::parse(expected_issuer).is_ok_and(|u| is_loopback(&u));
    let client_auth = match &doc.token_endpoint_auth_methods_supported {
        None => Some(ClientAuth::Basic),
        Some(methods) if methods.iter().any(|m| m == "client_secret_basic") => {
            Some(ClientAuth::Basic)
        }
        Some(methods) if methods.iter().any(|m| m == "client_secret_post") => {
            Some(ClientAuth::Post)
        }
        Some(_) => {
            problems.push(MetadataError::NoClientAuth);
            None
        }
    };
    if let Some(methods) = &doc.code_challenge_methods_supported
        && !methods.iter().any(|m| m == "S256")
    {
        problems.push(MetadataError::NoPkce);
    }
    let mut endpoint = |field: &'static str, raw: &str| -> Option<Url> {
        let url = Url::parse(raw).ok().filter(|url| match url.scheme() {
            "https" => true,
            "http" => loopback && is_loopback(url),
            _ => false,
        });
        if url.is_none() {
            problems.push(MetadataError::Insecure {
                field,
                url: raw.to_owned(),
            });
        }
        url
    };
    let authorization_endpoint = endpoint("authorization_endpoint", &doc.authorization_endpoint);
    let token_endpoint = endpoint("token_endpoint", &doc.token_endpoint);
    let jwks_uri = endpoint("jwks_uri", &doc.jwks_uri);
    let end_session_endpoint = match doc.end_session_endpoint.as_deref() {
        Some(raw) => endpoint("end_session_endpoint", raw).map(Some),
        None => Some(None),
    };
    let userinfo_endpoint = match doc.userinfo_endpoint.as_deref() {
        Some(raw) => endpoint("userinfo_endpoint", raw).map(Some),
        None => Some(None),
    };
    let mut problems = problems.into_iter();
    if let Some(first) = problems.next() {
        return Err((first, problems.collect()));
    }
    match (
        authorization_endpoint,
        token_endpoint,
        jwks_uri,
        (end_session_endpoint, userinfo_endpoint),
        client_auth,
    ) {
        (
            Some(authorization_endpoint),
            Some(token_endpoint),
            Some(jwks_uri),
            (Some(end_session_endpoint), Some(userinfo_endpoint)),
            Some(client_auth),
        ) => Ok(Metadata {
            issuer: doc.issuer,
            authorization_endpoint,
            token_endpoint,
            jwks_uri,
            userinfo_endpoint,
            end_session_endpoint,
            iss_parameter_supported: doc.authorization_response_iss_parameter_supported,
            client_auth,
            backchannel_logout_supported: doc
                .backchannel_logout_supported
                .as_ref()
                .and_then(Value::as_bool)
                .unwrap_or(false),
            id_token_signing_algs: doc
                .id_token_signing_alg_values_supported
                .as_ref()
                .and_then(Value::as_array)
                .map(|algs| {
                    algs.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        }),
        // Every missing part recorded a problem above.
        _ => Err((
            MetadataError::Malformed("the discovery document is incomplete".into()),
            Vec::new(),
        )),
    }
}

/// Whether the URL's host is a loopback address (or `localhost`).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://idp.example";

    fn doc(extra: &str) -> String {
        format!(
            r#"{{"issuer":"{ISSUER}","authorization_endpoint":"https://idp.example/auth",
            "token_endpoint":"https://idp.example/token","jwks_uri":"https://idp.example/jwks"
            {extra}}}"#
        )
    }

    #[test]
    fn a_plain_document_reads_with_defaults() {
        let m = Metadata::parse(ISSUER, doc("").as_bytes()).unwrap();
        assert_eq!(m.client_auth, ClientAuth::Basic);
        assert!(!m.iss_parameter_supported);
        assert!(m.end_session_endpoint.is_none());
    }

    #[test]
    fn another_issuer_is_refused() {
        let e = Metadata::parse("https://idp.example/other", doc("").as_bytes()).unwrap_err();
        assert!(matches!(e, MetadataError::WrongIssuer { .. }));
        // Not even a trailing slash is forgiven (Discovery §4.3: exactly equal).
        assert!(Metadata::parse("https://idp.example/", doc("").as_bytes()).is_err());
    }

    #[test]
    fn insecure_endpoints_and_missing_methods_are_refused() {
        let http_logout = doc(r#","end_session_endpoint":"http://idp.example/logout""#);
        assert!(matches!(
            Metadata::parse(ISSUER, http_logout.as_bytes()),
            Err(MetadataError::Insecure {
                field: "end_session_endpoint",
                ..
            })
        ));
        let jwt_only = doc(r#","token_endpoint_auth_methods_supported":["private_key_jwt"]"#);
        assert_eq!(
            Metadata::parse(ISSUER, jwt_only.as_bytes()),
            Err(MetadataError::NoClientAuth)
        );
        let plain = doc(r#","code_challenge_methods_supported":["plain"]"#);
        assert_eq!(
            Metadata::parse(ISSUER, plain.as_bytes()),
            Err(MetadataError::NoPkce)
        );
        assert!(matches!(
            Metadata::parse(ISSUER, b"{}"),
            Err(MetadataError::Malformed(_))
        ));
    }

    #[test]
    fn post_is_used_only_when_basic_is_not_offered() {
        let post = doc(r#","token_endpoint_auth_methods_supported":["client_secret_post"]"#);
        assert_eq!(
            Metadata::parse(ISSUER, post.as_bytes())
                .unwrap()
                .client_auth,
            ClientAuth::Post
        );
    }

    #[test]
    fn a_review_names_every_problem_in_the_order_parse_meets_them() {
        let bad = r#"{"issuer":"https://elsewhere.example","authorization_endpoint":"http://idp.example/auth",
            "token_endpoint":"https://idp.example/token","jwks_uri":"ftp://idp.example/jwks",
            "token_endpoint_auth_methods_supported":["private_key_jwt"],
            "code_challenge_methods_supported":["plain"]}"#;
        let problems = Metadata::review(ISSUER, bad.as_bytes()).unwrap_err();
        assert_eq!(
            problems,
            [
                MetadataError::WrongIssuer {
                    expected: ISSUER.into(),
                    found: "https://elsewhere.example".into(),
                },
                MetadataError::NoClientAuth,
                MetadataError::NoPkce,
                MetadataError::Insecure {
                    field: "authorization_endpoint",
                    url: "http://idp.example/auth".into(),
                },
                MetadataError::Insecure {
                    field: "jwks_uri",
                    url: "ftp://idp.example/jwks".into(),
                },
            ]
        );
        assert_eq!(
            Metadata::parse(ISSUER, bad.as_bytes()).unwrap_err(),
            problems[0]
        );
        let good = Metadata::review(ISSUER, doc("").as_bytes()).unwrap();
        assert_eq!(good, Metadata::parse(ISSUER, doc("").as_bytes()).unwrap());
    }

    #[test]
    fn back_channel_logout_and_signing_algorithms_are_read() {
        let m = Metadata::parse(ISSUER, doc("").as_bytes()).unwrap();
        assert!(!m.backchannel_logout_supported);
        assert!(m.id_token_signing_algs.is_empty());
        let listed = doc(r#","backchannel_logout_supported":true,
            "id_token_signing_alg_values_supported":["RS256","ES256"]"#);
        let m = Metadata::parse(ISSUER, listed.as_bytes()).unwrap();
        assert!(m.backchannel_logout_supported);
        assert_eq!(m.id_token_signing_algs, ["RS256", "ES256"]);
        // Misfits count as absent: they never make a usable document unusable.
        let odd = doc(r#","backchannel_logout_supported":"yes",
            "id_token_signing_alg_values_supported":null"#);
        let m = Metadata::parse(ISSUER, odd.as_bytes()).unwrap();
        assert!(!m.backchannel_logout_supported);
        assert!(m.id_token_signing_algs.is_empty());
    }

    #[test]
    fn http_endpoints_pass_only_for_a_loopback_issuer() {
        let local = r#"{"issuer":"http://127.0.0.1:4000","authorization_endpoint":"http://127.0.0.1:4000/auth",
            "token_endpoint":"http://127.0.0.1:4000/token","jwks_uri":"http://127.0.0.1:4000/jwks",
            "authorization_response_iss_parameter_supported":true}"#;
        let m = Metadata::parse("http://127.0.0.1:4000", local.as_bytes()).unwrap();
        assert!(m.iss_parameter_supported);
    }
}
