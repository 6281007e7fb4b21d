//! Sending a person on to the provider's own logout after Pforte's (RP-Initiated Logout 1.0
//! §2): the provider's `end_session_endpoint` with the ID token it issued as `id_token_hint`,
//! Pforte's client id, and the page the provider sends the person back to.

use url::Url;

use crate::metadata::Metadata;
use crate::providers::Provider;

/// The provider's logout URL for a session whose login brought `id_token`; `None` when the
/// provider offers no logout endpoint or the file turned it off (`logout = false`).
pub fn end_session_url(
    metadata: &Metadata,
    provider: &Provider,
    id_token: &str,
    post_logout_redirect_uri: &str,
) -> Option<Url> {
    if !provider.logout {
        return None;
    }
    let mut url = metadata.end_session_endpoint.clone()?;
    url.query_pairs_mut()
        .append_pair("id_token_hint", id_token)
        .append_pair("client_id", &provider.client_id)
        .append_pair("post_logout_redirect_uri", post_logout_redirect_uri);
    Some(url)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::providers::Providers;

    #[test]
    fn the_url_carries_the_hint_and_the_way_back_unless_turned_off() {
        let providers = Providers::parse(
            Path::new("idps.toml"),
            crate::providers::tests::GUEST,
            |_| Ok(()),
        )
        .unwrap();
        let metadata = |logout: &str| {
            Metadata::parse(
                "https://idp.partner.example",
                format!(
                    r#"{{"issuer":"https://idp.partner.example","authorization_endpoint":"https://idp.partner.example/a",
                    "token_endpoint":"https://idp.partner.example/t","jwks_uri":"https://idp.partner.example/k"{logout}}}"#
                )
                .as_bytes(),
            )
            .unwrap()
        };
        let with = metadata(r#","end_session_endpoint":"https://idp.partner.example/logout""#);
        let partner = providers.get("partner").unwrap();
        let url = end_session_url(&with, partner, "h.p.s", "https://login/back").unwrap();
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["id_token_hint"], "h.p.s");
        assert_eq!(q["client_id"], "pforte");
        assert_eq!(q["post_logout_redirect_uri"], "https://login/back");
        assert!(end_session_url(&metadata(""), partner, "h", "b").is_none());
        let land = providers.get("land").unwrap();
        assert!(
            end_session_url(&with, land, "h", "b").is_none(),
            "logout = false"
        );
    }
}
