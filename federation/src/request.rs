//! The authorization request Pforte sends a person's browser to the provider with: code flow,
//! `state` (bound to the browser by the gateway), `nonce` (bound into the ID token) and PKCE
//! with S256 (RFC 7636; RFC 9700 asks it of confidential clients too). The three secrets come
//! from the openidconnect crate's generators; the gateway keeps them server-side.

use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge};
use url::Url;

use crate::metadata::Metadata;
use crate::providers::Provider;

/// One login's secrets, kept by the gateway until the callback.
#[derive(Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The `state` sent and expected back.
    pub state: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier sent with the code.
    pub verifier: String,
    challenge: String,
}

impl Authorization {
    /// Fresh random values (32 bytes each for state and nonce, PKCE's verifier of 32 bytes).
    pub fn new() -> Self {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        Self {
            state: CsrfToken::new_random().secret().clone(),
            nonce: Nonce::new_random().secret().clone(),
            verifier: verifier.secret().clone(),
            challenge: challenge.as_str().to_owned(),
        }
    }

    /// The provider's authorization URL for this login; `login_hint` is passed on when the
    /// person was picked by it.
    pub fn url(
        &self,
        metadata: &Metadata,
        provider: &Provider,
        redirect_uri: &str,
        login_hint: Option<&str>,
    ) -> Url {
        let mut url = metadata.authorization_endpoint.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &provider.client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("scope", &provider.scopes.join(" "))
                .append_pair("state", &self.state)
                .append_pair("nonce", &self.nonce)
                .append_pair("code_challenge", &self.challenge)
                .append_pair("code_challenge_method", "S256");
            if let Some(hint) = login_hint {
                query.append_pair("login_hint", hint);
            }
        }
        url
    }
}

impl Default for Authorization {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Authorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Authorization(***)")
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::digest::{SHA256, digest};
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;
    use crate::providers::Providers;

    #[test]
    fn the_url_carries_every_parameter_and_a_matching_challenge() {
        let providers = Providers::parse(
            std::path::Path::new("idps.toml"),
            crate::providers::tests::GUEST,
            |_| Ok(()),
        )
        .unwrap();
        let provider = providers.get("partner").unwrap();
        let metadata = Metadata::parse(
            "https://idp.partner.example",
            br#"{"issuer":"https://idp.partner.example","authorization_endpoint":"https://idp.partner.example/auth?x=1",
            "token_endpoint":"https://idp.partner.example/token","jwks_uri":"https://idp.partner.example/jwks"}"#,
        )
        .unwrap();
        let a = Authorization::new();
        assert_ne!(a.state, Authorization::new().state);
        let url = a.url(
            &metadata,
            provider,
            "https://login/cb",
            Some("p@partner.example"),
        );
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["x"], "1");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "pforte");
        assert_eq!(q["redirect_uri"], "https://login/cb");
        assert_eq!(q["scope"], "openid email profile groups");
        assert_eq!(q["state"], a.state);
        assert_eq!(q["nonce"], a.nonce);
        assert_eq!(q["login_hint"], "p@partner.example");
        assert_eq!(q["code_challenge_method"], "S256");
        let expected = URL_SAFE_NO_PAD.encode(digest(&SHA256, a.verifier.as_bytes()));
        assert_eq!(q["code_challenge"], expected);
    }
}
