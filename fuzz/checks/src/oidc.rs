//! The OpenID Connect provider's request parameters: the authorization request
//! (`pforte_oidc::authorize::validate`), the token request (`TokenRequest::parse`), client
//! credentials (`BasicCredentials::parse`, `PresentedCredentials::from_request`), PKCE and a
//! device's user code (`device::UserCode::parse`), as the gateway's `oidc` module hands them the
//! query string, the form body, the `Authorization` header and the typed code.

use std::sync::OnceLock;

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use pforte_oidc::authorize::{AuthorizeError, validate};
use pforte_oidc::clients::{BasicCredentials, PresentedCredentials};
use pforte_oidc::device::{USER_CODE_ALPHABET, USER_CODE_LEN, UserCode};
use pforte_oidc::token::exchange::ACCESS_TOKEN_TYPE;
use pforte_oidc::{Clients, CodeChallenge, Params, Scope, TokenRequest};

const ISSUER: &str = "https://login.example.org";

/// The demo's clients (`policies/clients.toml`), read once.
fn clients() -> &'static Clients {
    static CLIENTS: OnceLock<Clients> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        let path = crate::repo_root().join("policies/clients.toml");
        Clients::load(&path).expect("policies/clients.toml loads")
    })
}

/// The input's lines are an authorization query, a token form body, an `Authorization` header,
/// a PKCE verifier and a typed user code. An authorization request that passes names a registered client and one
/// of its registered redirect URIs, asks for `openid` within the client's scopes, carries PKCE
/// when the client is public; an error is redirected only to a URI the client registered, and
/// the redirect keeps that URI as its prefix. A token request names its grant and the
/// parameters the grant needs, sent once. Basic credentials decode to what was encoded, and a
/// PKCE challenge is met by its verifier only.
pub fn oidc_params(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let query = lines.next().unwrap_or_default();
    let form = lines.next().unwrap_or_default();
    let authorization = lines.next().unwrap_or_default();
    let verifier = lines.next().unwrap_or_default();
    let user_code = lines.next().unwrap_or_default();

    authorize_holds(&Params::parse_urlencoded(query));
    let form = Params::parse_urlencoded(form);
    token_holds(&form);
    credentials_hold(authorization, &form);
    pkce_holds(verifier);
    user_code_holds(user_code);
}

/// A typed device user code (RFC 8628) that passes is eight letters of the alphabet, whatever
/// case, dashes and spaces it came with, and reads back from its display form as itself.
fn user_code_holds(typed: &str) {
    let Some(code) = UserCode::parse(typed) else {
        return;
    };
    assert_eq!(code.as_str().len(), USER_CODE_LEN);
    assert!(
        code.as_str()
            .bytes()
            .all(|b| USER_CODE_ALPHABET.contains(&b))
    );
    assert_eq!(UserCode::parse(&code.display()), Some(code.clone()));
    assert_eq!(UserCode::parse(&typed.to_lowercase()), Some(code));
}

fn authorize_holds(params: &Params) {
    for (name, value) in params.iter() {
        assert!(!value.is_empty(), "{name} kept an empty value");
        assert_eq!(params.get(name), Some(value));
    }
    let clients = clients();
    match validate(params, clients, ISSUER) {
        Ok(request) => {
            let client = clients
                .get(&request.client_id)
                .expect("a registered client");
            assert!(client.has_redirect_uri(&request.redirect_uri));
            assert!(request.scopes.contains(Scope::Openid));
            assert!(request.scopes.is_subset_of(client.scopes));
            assert!(!client.is_public() || request.code_challenge.is_some());
            assert!(params.repeated().is_none(), "a repeated parameter passed");
            assert!(request.state.as_ref().is_none_or(|s| s.len() <= 2048));
        }
        Err(AuthorizeError::Redirect(error)) => {
            let client = params
                .get("client_id")
                .and_then(|id| clients.get(id))
                .expect("an error is redirected only for a registered client");
            assert!(
                client.has_redirect_uri(&error.redirect_uri),
                "an error went to {:?}, which the client did not register",
                error.redirect_uri
            );
            let location = error.location();
            assert!(location.starts_with(&error.redirect_uri));
            let url = url::Url::parse(&location).expect("the error's location parses");
            let registered = url::Url::parse(&error.redirect_uri).expect("a registered URI parses");
            assert_eq!(
                url.origin(),
                registered.origin(),
                "the error left the client's origin"
            );
            assert_eq!(
                url.path(),
                registered.path(),
                "the error went to another path"
            );
        }
        Err(AuthorizeError::Page(_)) => {}
    }
}

fn token_holds(form: &Params) {
    let Ok(request) = TokenRequest::parse(form) else {
        return;
    };
    assert!(form.repeated().is_none(), "a repeated parameter passed");
    assert_eq!(
        form.get("grant_type"),
        Some(request.grant_type().wire_name())
    );
    match request {
        TokenRequest::AuthorizationCode { code, .. } => {
            assert_eq!(form.get("code"), Some(code.expose()));
        }
        TokenRequest::RefreshToken { refresh_token, .. } => {
            assert_eq!(form.get("refresh_token"), Some(refresh_token.expose()));
        }
        TokenRequest::ClientCredentials { .. } => {}
        TokenRequest::DeviceCode { device_code } => {
            assert_eq!(form.get("device_code"), Some(device_code.expose()));
        }
        TokenRequest::TokenExchange(exchange) => {
            assert_eq!(
                form.get("subject_token"),
                Some(exchange.subject_token.expose())
            );
            assert_eq!(form.get("audience"), Some(exchange.audience.as_str()));
            assert_eq!(form.get("subject_token_type"), Some(ACCESS_TOKEN_TYPE));
            assert!(form.get("actor_token").is_none(), "an actor token passed");
        }
    }
}

fn credentials_hold(authorization: &str, form: &Params) {
    let basic = BasicCredentials::parse(authorization);
    if let Ok(presented) = PresentedCredentials::from_request(basic.clone(), form) {
        match basic {
            Some(basic) => {
                assert_eq!(presented.client_id, basic.client_id);
                assert!(form.get("client_secret").is_none(), "two methods at once");
            }
            None => assert_eq!(Some(presented.client_id.as_str()), form.get("client_id")),
        }
    }
    // decode(encode(id, secret)) == (id, secret), ':' and all, as RFC 6749 §2.3.1 encodes them.
    let middle = authorization
        .char_indices()
        .nth(authorization.chars().count() / 2)
        .map_or(authorization.len(), |(at, _)| at);
    let (id, secret) = authorization.split_at(middle);
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let header = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(id), encode(secret)))
    );
    let decoded = BasicCredentials::parse(&header).expect("encoded credentials parse");
    assert_eq!(
        (decoded.client_id.as_str(), decoded.secret.as_str()),
        (id, secret)
    );
}

fn pkce_holds(verifier: &str) {
    let challenge = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()));
    let Ok(Some(pkce)) = CodeChallenge::from_request(Some(&challenge), Some("S256")) else {
        panic!("an S256 challenge was refused");
    };
    let verifier_is_valid = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    assert_eq!(
        pkce.is_satisfied_by(verifier),
        verifier_is_valid,
        "verifier {verifier:?}"
    );
    assert!(!pkce.is_satisfied_by(&format!("{verifier}A")) || verifier.len() >= 128);
}
