//! Federation's parsers of what partners' providers send and of the file an operator writes:
//! `idps.toml` (`Providers::parse`), the callback query (`Callback::parse` and `check`), a
//! discovery document (`Metadata::parse`), a token endpoint's answer (`tokens_of`), an ID
//! token (`id_token::verify`) and a back-channel logout token (`logout_token::verify`) against a
//! fixed key set.

use std::path::Path;

use chrono::{TimeZone, Utc};
use pforte_federation::id_token::{self, Expected};
use pforte_federation::metadata::Metadata;
use pforte_federation::response::Callback;
use pforte_federation::token::tokens_of;
use pforte_federation::{Providers, logout_token};

const ISSUER: &str = "https://idp.partner.example";
/// A key set of one EC key, the shape a provider publishes.
const JWKS: &[u8] = br#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","use":"sig","alg":"ES256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;

/// The input's sections, split at lines of `---`: an `idps.toml`, a callback query, a discovery
/// document, a token response, an ID token and a logout token. An accepted providers file has
/// valid ids and https (or loopback http) issuers, a hint picks only a provider of its domain;
/// an accepted callback names the expected state and, when present, the issuer; accepted
/// metadata names exactly the expected issuer with https endpoints; nothing signed by a key
/// outside the set is accepted.
pub fn federation(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split("\n---\n");
    let idps = parts.next().unwrap_or_default();
    let query = parts.next().unwrap_or_default();
    let discovery = parts.next().unwrap_or_default();
    let token_response = parts.next().unwrap_or_default();
    let id_token = parts.next().unwrap_or_default().trim();
    let logout = parts.next().unwrap_or_default().trim();

    providers_hold(idps);
    callback_holds(query);
    metadata_holds(discovery);
    let _ = tokens_of(200, token_response.as_bytes());
    let _ = tokens_of(400, token_response.as_bytes());
    let now = Utc
        .timestamp_opt(1_800_000_000, 0)
        .single()
        .unwrap_or_default();
    let expected = Expected {
        issuer: ISSUER,
        client_id: "pforte",
        nonce: "n",
    };
    // No input can carry a valid signature of the fixed key (its private half is unknown), so
    // nothing may verify.
    assert!(id_token::verify(id_token, expected, JWKS, now).is_err());
    assert!(logout_token::verify(logout, ISSUER, "pforte", JWKS, 1_800_000_000).is_err());
}

fn providers_hold(text: &str) {
    match Providers::parse(Path::new("/nonexistent/idps.toml"), text, |_| Ok(())) {
        Ok(providers) => {
            for p in providers.iter() {
                assert!(!p.id.is_empty() && p.id.len() <= 32);
                assert!(
                    p.id.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                );
                assert!(
                    p.issuer.starts_with("https://") || p.issuer.starts_with("http://"),
                    "{}",
                    p.issuer
                );
                assert_eq!(p.scopes.first().map(String::as_str), Some("openid"));
                for domain in &p.domains {
                    let hint = format!("someone@{domain}");
                    assert_eq!(
                        providers.for_hint(&hint).map(|q| q.id.as_str()),
                        Some(p.id.as_str())
                    );
                }
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

fn callback_holds(query: &str) {
    let callback = Callback::parse(Some(query));
    for required in [false, true] {
        if let Ok(code) = callback.check("the-state", ISSUER, required) {
            assert_eq!(callback.state.as_deref(), Some("the-state"));
            assert!(!code.is_empty());
            assert!(callback.error.is_none());
            match callback.iss.as_deref() {
                Some(iss) => assert_eq!(iss, ISSUER),
                None => assert!(!required),
            }
        }
    }
}

fn metadata_holds(document: &str) {
    if let Ok(m) = Metadata::parse(ISSUER, document.as_bytes()) {
        assert_eq!(m.issuer, ISSUER);
        for url in [&m.authorization_endpoint, &m.token_endpoint, &m.jwks_uri] {
            assert_eq!(url.scheme(), "https");
        }
        if let Some(url) = &m.end_session_endpoint {
            assert_eq!(url.scheme(), "https");
        }
    }
}
