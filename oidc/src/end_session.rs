//! RP-Initiated Logout 1.0 (`end_session`): who is logging out, and where to send the
//! browser afterwards.
//!
//! The gateway verifies the `id_token_hint`'s signature (expiry does not matter: a logout
//! with an old ID token is normal) and passes in its claims; this module checks that the
//! hint is ours, names a known client, and that `post_logout_redirect_uri` is exactly one
//! that client registered. Without a valid hint and URI, the browser stays on Pforte's
//! logged-out page: nothing here can turn logout into an open redirect.

use crate::clients::{Client, Clients};
use crate::params::Params;

/// The claims of a verified `id_token_hint` that logout needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenHint {
    /// Issuer; must be this provider.
    pub iss: String,
    /// Audience; the client the token was issued to.
    pub aud: String,
    /// The session it was issued in.
    pub sid: Option<String>,
}

/// A validated logout request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndSession {
    /// The client that asked, when it could be told.
    pub client_id: Option<String>,
    /// The session the hint names; the gateway ends the browser's session only if it is
    /// this one (or if there is no hint, after asking the person).
    pub sid: Option<String>,
    /// Where to send the browser afterwards, with `state` appended.
    pub redirect: Option<String>,
    /// Whether the person must confirm (no valid hint proves the request came from an app
    /// they use, so a stray link cannot log them out silently).
    pub confirm: bool,
}

/// Why a logout request is refused (shown on a page, never redirected).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndSessionError {
    /// The hint was issued by someone else.
    #[error("id_token_hint was not issued by this provider")]
    ForeignHint,
    /// The hint or `client_id` names no registered client, or they disagree.
    #[error("the client of this logout request is unknown")]
    UnknownClient,
    /// `post_logout_redirect_uri` is not exactly one the client registered, or no client
    /// was named to check it against.
    #[error("post_logout_redirect_uri is not registered for this client")]
    UnregisteredRedirectUri,
    /// A parameter was repeated.
    #[error("a parameter was sent more than once")]
    RepeatedParameter,
}

/// Validates an end_session request; `hint` is the verified `id_token_hint`, if one came.
pub fn validate(
    params: &Params,
    hint: Option<&IdTokenHint>,
    clients: &Clients,
    issuer: &str,
) -> Result<EndSession, EndSessionError> {
    if params.repeated().is_some() {
        return Err(EndSessionError::RepeatedParameter);
    }
    if hint.is_some_and(|h| h.iss != issuer) {
        return Err(EndSessionError::ForeignHint);
    }
    let client = client(params.get("client_id"), hint, clients)?;
    let redirect = match (params.get("post_logout_redirect_uri"), client) {
        (None, _) => None,
        (Some(uri), Some(c)) if c.has_post_logout_redirect_uri(uri) => {
            Some(with_state(uri, params.get("state")))
        }
        (Some(_), _) => return Err(EndSessionError::UnregisteredRedirectUri),
    };
    Ok(EndSession {
        client_id: client.map(|c| c.id.clone()),
        sid: hint.and_then(|h| h.sid.clone()),
        redirect,
        confirm: hint.is_none(),
    })
}

fn client<'c>(
    client_id: Option<&str>,
    hint: Option<&IdTokenHint>,
    clients: &'c Clients,
) -> Result<Option<&'c Client>, EndSessionError> {
    let id = match (client_id, hint) {
        (Some(id), Some(h)) if id != h.aud => return Err(EndSessionError::UnknownClient),
        (Some(id), _) => id,
        (None, Some(h)) => h.aud.as_str(),
        (None, None) => return Ok(None),
    };
    clients
        .get(id)
        .map(Some)
        .ok_or(EndSessionError::UnknownClient)
}

fn with_state(uri: &str, state: Option<&str>) -> String {
    match state {
        None => uri.to_owned(),
        Some(state) => {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("state", state)
                .finish();
            let separator = if uri.contains('?') { '&' } else { '?' };
            format!("{uri}{separator}{query}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{ISSUER, clients};

    fn hint(aud: &str) -> IdTokenHint {
        IdTokenHint {
            iss: ISSUER.into(),
            aud: aud.into(),
            sid: Some("sid-1".into()),
        }
    }

    fn run(query: &str, hint: Option<&IdTokenHint>) -> Result<EndSession, EndSessionError> {
        validate(&Params::parse_urlencoded(query), hint, &clients(), ISSUER)
    }

    #[test]
    fn a_valid_hint_and_registered_uri_redirect_with_state() {
        let q = "post_logout_redirect_uri=https%3A%2F%2Fcloud.example.org%2F&state=a%20b";
        let done = run(q, Some(&hint("nextcloud"))).unwrap();
        assert_eq!(
            done.redirect.as_deref(),
            Some("https://cloud.example.org/?state=a+b")
        );
        assert_eq!(done.sid.as_deref(), Some("sid-1"));
        assert_eq!(done.client_id.as_deref(), Some("nextcloud"));
        assert!(!done.confirm);
    }

    #[test]
    fn post_logout_redirect_uri_must_match_exactly() {
        for uri in [
            "https%3A%2F%2Fcloud.example.org",
            "https%3A%2F%2Fcloud.example.org%2Fx",
            "https%3A%2F%2Fevil.example.net%2F",
            "https%3A%2F%2Fcloud.example.org%2F%3Fx%3D1",
        ] {
            let q = format!("post_logout_redirect_uri={uri}");
            assert_eq!(
                run(&q, Some(&hint("nextcloud"))),
                Err(EndSessionError::UnregisteredRedirectUri),
                "{uri}"
            );
        }
        // No client named: nothing to check the URI against.
        let q = "post_logout_redirect_uri=https%3A%2F%2Fcloud.example.org%2F";
        assert_eq!(run(q, None), Err(EndSessionError::UnregisteredRedirectUri));
        let q = "post_logout_redirect_uri=https%3A%2F%2Fcloud.example.org%2F&client_id=nextcloud";
        assert!(run(q, None).unwrap().confirm);
    }

    #[test]
    fn hints_must_be_ours_and_agree_with_client_id() {
        let mut foreign = hint("nextcloud");
        foreign.iss = "https://other.example.org".into();
        assert_eq!(run("", Some(&foreign)), Err(EndSessionError::ForeignHint));
        assert_eq!(
            run("client_id=cli", Some(&hint("nextcloud"))),
            Err(EndSessionError::UnknownClient)
        );
        assert_eq!(
            run("", Some(&hint("gone"))),
            Err(EndSessionError::UnknownClient)
        );
        assert_eq!(
            run("state=a&state=b", None),
            Err(EndSessionError::RepeatedParameter)
        );
    }

    #[test]
    fn no_hint_means_the_person_confirms_and_stays_on_pforte() {
        let done = run("", None).unwrap();
        assert!(done.confirm);
        assert_eq!(done.redirect, None);
        assert_eq!(done.sid, None);
    }
}
