//! `idps test`'s verdict on one provider, from what was fetched and whether its secret reads:
//! errors (logins through it would fail) and warnings (logins work, with less protection or
//! less logout). Pure, so every verdict is tested without a network.

use pforte_federation::Provider;
use pforte_federation::jwks::{self, KeySetError};
use pforte_federation::metadata::{Metadata, MetadataError};
use serde::Serialize;

use super::fetch::{Discovery, Fetched, KeySet};
use super::secret::SecretInfo;

/// One thing found, with a stable name for scripts and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable name: `unreachable`, `issuer_mismatch`, `no_backchannel_logout`, ...
    pub problem: &'static str,
    /// What is wrong and what it means.
    pub message: String,
}

/// The verdict on one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The provider's id.
    pub id: String,
    /// Its configured issuer.
    pub issuer: String,
    /// True when there is no error (warnings allowed).
    pub passed: bool,
    /// What makes logins through it fail.
    pub errors: Vec<Finding>,
    /// What works, but with less protection or less logout.
    pub warnings: Vec<Finding>,
    /// The key ids that can verify its ID tokens.
    pub signing_keys: Vec<String>,
}

impl Finding {
    fn new(problem: &'static str, message: impl Into<String>) -> Self {
        Self {
            problem,
            message: message.into(),
        }
    }
}

/// Judges `provider` by what was `fetched` from it and by its `secret`.
pub fn judge(provider: &Provider, fetched: &Fetched, secret: &SecretInfo) -> Verdict {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut signing_keys = Vec::new();
    match &fetched.discovery {
        Discovery::Unreachable(why) => errors.push(Finding::new(
            "unreachable",
            format!("discovery document: {why}"),
        )),
        Discovery::Unusable(problems) => errors.extend(problems.iter().map(discovery_problem)),
        Discovery::Usable(metadata) => {
            errors.extend(algorithms(metadata));
            warnings.extend(cautions(provider, metadata));
        }
    }
    match &fetched.keys {
        KeySet::NotFetched => {}
        KeySet::Unreachable(why) => {
            errors.push(Finding::new("jwks_unreachable", format!("key set: {why}")));
        }
        KeySet::Served(set) => match jwks::signing_keys(set) {
            Ok(keys) => signing_keys = keys,
            Err(e) => errors.push(key_set_problem(&e)),
        },
    }
    if let Some(problem) = &secret.problem {
        if secret.unset_here {
            warnings.push(Finding::new(
                "secret_not_set_here",
                format!(
                    "client secret: {problem} for this command; the gateway reads it from its \
                     own environment, check it there"
                ),
            ));
        } else {
            errors.push(Finding::new(
                "secret_unreadable",
                format!("client secret: {problem}"),
            ));
        }
    }
    Verdict {
        id: provider.id.clone(),
        issuer: provider.issuer.clone(),
        passed: errors.is_empty(),
        errors,
        warnings,
        signing_keys,
    }
}

/// A problem of the discovery document, named for scripts.
fn discovery_problem(e: &MetadataError) -> Finding {
    let name = match e {
        MetadataError::Malformed(_) => "discovery_malformed",
        MetadataError::WrongIssuer { .. } => "issuer_mismatch",
        MetadataError::Insecure { .. } => "insecure_endpoint",
        MetadataError::NoClientAuth => "no_client_auth",
        MetadataError::NoPkce => "no_pkce_s256",
    };
    Finding::new(name, e.to_string())
}

/// A key set that cannot verify any ID token.
fn key_set_problem(e: &KeySetError) -> Finding {
    let name = match e {
        KeySetError::Malformed(_) => "jwks_malformed",
        KeySetError::Empty => "jwks_empty",
        KeySetError::NoSigningKey { .. } => "jwks_no_signing_key",
    };
    Finding::new(name, e.to_string())
}

/// The provider signs ID tokens only with algorithms Pforte refuses (when it lists them).
fn algorithms(metadata: &Metadata) -> Option<Finding> {
    let listed = &metadata.id_token_signing_algs;
    (!listed.is_empty() && !listed.iter().any(|alg| jwks::is_accepted(alg))).then(|| {
        Finding::new(
            "no_accepted_algorithm",
            format!(
                "the provider signs ID tokens with {} only; Pforte accepts {}",
                listed.join(","),
                jwks::accepted_algorithms().join(",")
            ),
        )
    })
}

/// What works with less protection or less logout.
fn cautions(provider: &Provider, metadata: &Metadata) -> Vec<Finding> {
    let mut warnings = Vec::new();
    if !metadata.iss_parameter_supported {
        warnings.push(Finding::new(
            "no_iss_parameter",
            "the provider does not announce RFC 9207 `iss` in its authorization responses \
             (authorization_response_iss_parameter_supported): the callback cannot tell which \
             provider answered, which mix-up attacks use",
        ));
    }
    if provider.logout && metadata.end_session_endpoint.is_none() {
        warnings.push(Finding::new(
            "no_end_session",
            "the provider has no end_session_endpoint: logging out at Pforte cannot log the \
             person out at the provider",
        ));
    }
    if !metadata.backchannel_logout_supported {
        warnings.push(Finding::new(
            "no_backchannel_logout",
            "the provider does not announce back-channel logout (backchannel_logout_supported): \
             logging out at the provider leaves the Pforte session running until it ends",
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use bytes::Bytes;
    use pforte_federation::Providers;

    use super::*;

    const ISSUER: &str = "https://idp.example";

    fn provider(logout: bool) -> Provider {
        let file = format!(
            "[[idp]]\nid = \"partner\"\nname = \"Partner\"\nissuer = \"{ISSUER}\"\n\
             client_id = \"pforte\"\nclient_secret = {{ file = \"s\" }}\nmode = \"guest\"\n\
             logout = {logout}\n[idp.guest]\ndefault_group = \"partners\"\n"
        );
        let providers = Providers::parse(Path::new("idps.toml"), &file, |_| Ok(())).unwrap();
        providers.get("partner").unwrap().clone()
    }

    fn readable() -> SecretInfo {
        SecretInfo {
            source: "file",
            name: "s".into(),
            readable: true,
            problem: None,
            unset_here: false,
        }
    }

    fn metadata(extra: &str) -> Metadata {
        let doc = format!(
            r#"{{"issuer":"{ISSUER}","authorization_endpoint":"{ISSUER}/auth",
            "token_endpoint":"{ISSUER}/token","jwks_uri":"{ISSUER}/jwks"{extra}}}"#
        );
        Metadata::parse(ISSUER, doc.as_bytes()).unwrap()
    }

    const FULL: &str = r#","end_session_endpoint":"https://idp.example/logout",
        "authorization_response_iss_parameter_supported":true,
        "backchannel_logout_supported":true,
        "id_token_signing_alg_values_supported":["ES256"]"#;

    const KEYS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"x","y":"y"}]}"#;

    fn fetched(metadata: Metadata, keys: &'static str) -> Fetched {
        Fetched {
            discovery: Discovery::Usable(Box::new(metadata)),
            keys: KeySet::Served(Bytes::from_static(keys.as_bytes())),
        }
    }

    fn names(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|f| f.problem).collect()
    }

    #[test]
    fn a_complete_provider_passes_without_warnings() {
        let v = judge(&provider(true), &fetched(metadata(FULL), KEYS), &readable());
        assert!(v.passed, "{v:?}");
        assert!(v.errors.is_empty() && v.warnings.is_empty(), "{v:?}");
        assert_eq!(v.signing_keys, ["k1"]);
    }

    #[test]
    fn missing_logout_and_iss_support_are_warnings_only() {
        let v = judge(&provider(true), &fetched(metadata(""), KEYS), &readable());
        assert!(v.passed, "{v:?}");
        assert_eq!(
            names(&v.warnings),
            [
                "no_iss_parameter",
                "no_end_session",
                "no_backchannel_logout"
            ]
        );
        // Without logout at the provider, its missing end_session_endpoint does not matter.
        let v = judge(&provider(false), &fetched(metadata(""), KEYS), &readable());
        assert!(!names(&v.warnings).contains(&"no_end_session"), "{v:?}");
    }

    #[test]
    fn an_unreachable_or_unusable_provider_fails_with_every_problem() {
        let down = Fetched {
            discovery: Discovery::Unreachable("no answer: connection refused".into()),
            keys: KeySet::NotFetched,
        };
        let v = judge(&provider(true), &down, &readable());
        assert!(!v.passed);
        assert_eq!(names(&v.errors), ["unreachable"]);
        assert!(v.errors[0].message.contains("connection refused"), "{v:?}");

        let unusable = Fetched {
            discovery: Discovery::Unusable(vec![
                MetadataError::WrongIssuer {
                    expected: ISSUER.into(),
                    found: "https://other.example".into(),
                },
                MetadataError::NoPkce,
                MetadataError::NoClientAuth,
                MetadataError::Insecure {
                    field: "token_endpoint",
                    url: "http://idp.example/token".into(),
                },
            ]),
            keys: KeySet::NotFetched,
        };
        let v = judge(&provider(true), &unusable, &readable());
        assert_eq!(
            names(&v.errors),
            [
                "issuer_mismatch",
                "no_pkce_s256",
                "no_client_auth",
                "insecure_endpoint"
            ]
        );
        assert!(v.errors[0].message.contains("https://other.example"));
    }

    #[test]
    fn key_sets_and_algorithms_pforte_cannot_use_fail() {
        let v = judge(
            &provider(true),
            &fetched(metadata(FULL), r#"{"keys":[]}"#),
            &readable(),
        );
        assert_eq!(names(&v.errors), ["jwks_empty"]);
        let hmac = r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#;
        let v = judge(&provider(true), &fetched(metadata(FULL), hmac), &readable());
        assert_eq!(names(&v.errors), ["jwks_no_signing_key"]);
        let hs = metadata(r#","id_token_signing_alg_values_supported":["HS256"]"#);
        let v = judge(&provider(true), &fetched(hs, KEYS), &readable());
        assert_eq!(names(&v.errors), ["no_accepted_algorithm"]);
        let keys_down = Fetched {
            discovery: Discovery::Usable(Box::new(metadata(FULL))),
            keys: KeySet::Unreachable("answered 404 Not Found".into()),
        };
        let v = judge(&provider(true), &keys_down, &readable());
        assert_eq!(names(&v.errors), ["jwks_unreachable"]);
    }

    #[test]
    fn an_unreadable_secret_fails_and_an_unset_variable_warns() {
        let missing = SecretInfo {
            readable: false,
            problem: Some("secret file secrets/partner not found".into()),
            ..readable()
        };
        let v = judge(&provider(true), &fetched(metadata(FULL), KEYS), &missing);
        assert!(!v.passed);
        assert_eq!(names(&v.errors), ["secret_unreadable"]);
        assert!(v.errors[0].message.contains("not found"), "{v:?}");
        let unset = SecretInfo {
            source: "env",
            name: "PARTNER_SECRET".into(),
            readable: false,
            problem: Some("environment variable PARTNER_SECRET is not set".into()),
            unset_here: true,
        };
        let v = judge(&provider(true), &fetched(metadata(FULL), KEYS), &unset);
        assert!(v.passed, "{v:?}");
        assert_eq!(names(&v.warnings), ["secret_not_set_here"]);
    }
}
