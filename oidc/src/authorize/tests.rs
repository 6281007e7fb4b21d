use pforte_policy::LoginStrength;
use proptest::prelude::*;

use super::*;
use crate::testing::{ISSUER, clients};

const NC_URI: &str = "https://cloud.example.org/apps/user_oidc/code";
const CLI_URI: &str = "http://127.0.0.1:8400/callback";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn params(pairs: &[(&str, &str)]) -> Params {
    Params::from_pairs(pairs.iter().copied())
}

fn nc(extra: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    let mut p: Vec<(&str, String)> = vec![
        ("client_id", "nextcloud".into()),
        ("redirect_uri", NC_URI.into()),
        ("response_type", "code".into()),
        ("scope", "openid email".into()),
        ("state", "st".into()),
    ];
    for (k, v) in extra {
        let k: &'static str = match *k {
            "client_id" => "client_id",
            "redirect_uri" => "redirect_uri",
            "response_type" => "response_type",
            "scope" => "scope",
            "state" => "state",
            "prompt" => "prompt",
            "max_age" => "max_age",
            "code_challenge" => "code_challenge",
            "code_challenge_method" => "code_challenge_method",
            "request" => "request",
            "response_mode" => "response_mode",
            "acr_values" => "acr_values",
            "claims" => "claims",
            _ => "other",
        };
        p.retain(|(name, _)| *name != k);
        if !v.is_empty() {
            p.push((k, (*v).to_owned()));
        }
    }
    p
}

fn run(pairs: Vec<(&'static str, String)>) -> Result<AuthorizationRequest, AuthorizeError> {
    validate(&Params::from_pairs(pairs), &clients(), ISSUER)
}

fn redirect_error(result: Result<AuthorizationRequest, AuthorizeError>) -> RedirectError {
    match result {
        Err(AuthorizeError::Redirect(e)) => e,
        other => panic!("expected a redirect error, got {other:?}"),
    }
}

fn page_error(result: Result<AuthorizationRequest, AuthorizeError>) -> PageError {
    match result {
        Err(AuthorizeError::Page(e)) => e,
        other => panic!("expected a page error, got {other:?}"),
    }
}

#[test]
fn accepts_a_confidential_client_request_and_keeps_its_values() {
    let mut p = nc(&[("prompt", "login"), ("max_age", "600")]);
    p.push(("nonce", "n-1".into()));
    p.push(("login_hint", "alice".into()));
    p.push(("ui_locales", "de-CH  en".into()));
    let req = run(p).unwrap();
    assert_eq!(req.client_id, "nextcloud");
    assert_eq!(req.redirect_uri, NC_URI);
    assert!(req.redirect_uri_sent);
    assert_eq!(req.scopes.to_string(), "openid email");
    assert_eq!(req.state.as_deref(), Some("st"));
    assert_eq!(req.nonce.as_deref(), Some("n-1"));
    assert_eq!(req.prompt, Prompt::Login);
    assert_eq!(req.max_age, Some(600));
    assert_eq!(req.login_hint.as_deref(), Some("alice"));
    assert_eq!(req.ui_locales, ["de-CH", "en"]);
    assert_eq!(req.code_challenge, None);
}

#[test]
fn redirect_uri_may_be_omitted_only_when_one_is_registered() {
    let req = run(nc(&[("redirect_uri", "")])).unwrap();
    assert_eq!(req.redirect_uri, NC_URI);
    assert!(!req.redirect_uri_sent);
}

#[test]
fn rfc9700_redirect_uri_variants_are_shown_on_a_page() {
    for uri in [
        "https://cloud.example.org/apps/user_oidc/code/extra",
        "https://cloud.example.org/apps/user_oidc/code?x=1",
        "https://cloud.example.org:8443/apps/user_oidc/code",
        "https://Cloud.example.org/apps/user_oidc/code",
        "https://cloud.example.org/apps/user_oidc/Code",
        "https://cloud.example.org/apps/user_oidc/code/",
        "https://cloud.example.org/apps/user_oidc/code#frag",
        "http://cloud.example.org/apps/user_oidc/code",
        "https://evil.example.net/apps/user_oidc/code",
    ] {
        let err = page_error(run(nc(&[("redirect_uri", uri)])));
        assert_eq!(err, PageError::UnregisteredRedirectUri, "{uri}");
    }
}

#[test]
fn a_native_app_s_loopback_redirect_takes_the_port_it_runs_on() {
    let cli = |uri: &str| {
        run(vec![
            ("client_id", "cli".into()),
            ("redirect_uri", uri.into()),
            ("response_type", "code".into()),
            ("scope", "openid".into()),
            ("code_challenge", CHALLENGE.into()),
            ("code_challenge_method", "S256".into()),
        ])
    };
    assert_eq!(CLI_URI, "http://127.0.0.1:8400/callback");
    let req = cli("http://127.0.0.1:51234/callback").unwrap();
    assert_eq!(
        req.redirect_uri, "http://127.0.0.1:51234/callback",
        "the answer goes to the port the app listens on"
    );
    for other in [
        "http://127.0.0.1:51234/other",
        "http://localhost:51234/callback",
        "http://127.0.0.1:51234/callback/../callback",
    ] {
        assert_eq!(
            page_error(cli(other)),
            PageError::UnregisteredRedirectUri,
            "{other}"
        );
    }
}

#[test]
fn untrusted_client_or_uri_is_never_redirected() {
    assert_eq!(
        page_error(run(nc(&[("client_id", "nobody")]))),
        PageError::UnknownClient
    );
    assert_eq!(
        page_error(run(nc(&[("client_id", "")]))),
        PageError::MissingClientId
    );
    let mut twice = nc(&[]);
    twice.push(("redirect_uri", NC_URI.into()));
    assert_eq!(page_error(run(twice)), PageError::MissingRedirectUri);
    let mut twice = nc(&[]);
    twice.push(("client_id", "cli".into()));
    assert_eq!(page_error(run(twice)), PageError::MissingClientId);
}

#[test]
fn errors_go_back_with_state_and_iss() {
    let err = redirect_error(run(nc(&[("response_type", "token")])));
    assert_eq!(err.error, ErrorCode::UnsupportedResponseType);
    assert_eq!(err.redirect_uri, NC_URI);
    assert_eq!(err.state.as_deref(), Some("st"));
    assert_eq!(err.iss, ISSUER);
    assert!(err.location().contains("error=unsupported_response_type"));
    assert!(err.location().contains("state=st"));
}

#[test]
fn each_rule_has_its_rfc_error() {
    let cases: &[(&[(&str, &str)], ErrorCode)] = &[
        (&[("response_type", "")], ErrorCode::InvalidRequest),
        (
            &[("response_type", "code id_token")],
            ErrorCode::UnsupportedResponseType,
        ),
        (&[("scope", "email")], ErrorCode::InvalidScope),
        (&[("scope", "openid admin")], ErrorCode::InvalidScope),
        (&[("request", "eyJ...")], ErrorCode::RequestNotSupported),
        (&[("response_mode", "fragment")], ErrorCode::InvalidRequest),
        (&[("prompt", "select_account")], ErrorCode::InvalidRequest),
        (&[("max_age", "-1")], ErrorCode::InvalidRequest),
        (
            &[
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "plain"),
            ],
            ErrorCode::InvalidRequest,
        ),
        (&[("code_challenge", CHALLENGE)], ErrorCode::InvalidRequest),
        (
            &[
                ("code_challenge", "short"),
                ("code_challenge_method", "S256"),
            ],
            ErrorCode::InvalidRequest,
        ),
    ];
    for (extra, code) in cases {
        assert_eq!(redirect_error(run(nc(extra))).error, *code, "{extra:?}");
    }
    let mut repeated = nc(&[]);
    repeated.push(("scope", "openid".into()));
    assert_eq!(
        redirect_error(run(repeated)).error,
        ErrorCode::InvalidRequest
    );
}

#[test]
fn scopes_beyond_the_clients_are_refused() {
    let p = params(&[
        ("client_id", "cli"),
        ("response_type", "code"),
        ("scope", "openid groups"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    let err = redirect_error(validate(&p, &clients(), ISSUER));
    assert_eq!(err.error, ErrorCode::InvalidScope);
    assert_eq!(err.redirect_uri, CLI_URI);
}

#[test]
fn public_clients_need_s256_pkce_and_confidential_ones_may_use_it() {
    let base = [
        ("client_id", "cli"),
        ("response_type", "code"),
        ("scope", "openid"),
    ];
    let err = redirect_error(validate(&params(&base), &clients(), ISSUER));
    assert_eq!(err.error, ErrorCode::InvalidRequest);
    assert!(err.description.contains("PKCE"));
    let mut with = base.to_vec();
    with.extend([
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    let req = validate(&params(&with), &clients(), ISSUER).unwrap();
    assert_eq!(req.code_challenge.unwrap().as_str(), CHALLENGE);

    let req = run(nc(&[
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]))
    .unwrap();
    assert!(req.code_challenge.is_some());
}

#[test]
fn service_clients_cannot_use_the_code_flow() {
    let p = params(&[("client_id", "backup-job"), ("response_type", "code")]);
    // A client without redirect URIs has nowhere trusted to send an error.
    assert_eq!(
        page_error(validate(&p, &clients(), ISSUER)),
        PageError::MissingRedirectUri
    );
}

const T: u64 = 1_800_000_000;

fn request(prompt: &str, max_age: &str) -> AuthorizationRequest {
    run(nc(&[("prompt", prompt), ("max_age", max_age)])).unwrap()
}

/// A password session that logged in at `auth_time`.
fn password(auth_time: u64) -> Option<SessionAuth> {
    Some(SessionAuth {
        auth_time,
        login: LoginStrength::Password,
    })
}

/// A session that showed a second factor at `auth_time`.
fn mfa(auth_time: u64) -> Option<SessionAuth> {
    Some(SessionAuth {
        auth_time,
        login: LoginStrength::Mfa,
    })
}

/// A request asking for MFA through `acr_values`.
fn asking_mfa(prompt: &str, max_age: &str) -> AuthorizationRequest {
    run(nc(&[
        ("prompt", prompt),
        ("max_age", max_age),
        ("acr_values", crate::acr::ACR_MFA),
    ]))
    .unwrap()
}

#[test]
fn acr_values_for_mfa_step_a_password_session_up() {
    let req = asking_mfa("", "");
    assert!(req.mfa);
    assert_eq!(
        req.session_verdict(password(T - 10), T, T, ISSUER),
        SessionVerdict::StepUp
    );
    assert_eq!(
        req.session_verdict(mfa(T - 10), T, T, ISSUER),
        SessionVerdict::Proceed
    );
    assert_eq!(
        req.session_verdict(None, T, T, ISSUER),
        SessionVerdict::Login,
        "no session: log in first, step up after"
    );
    assert!(!request("", "").mfa);
    assert_eq!(
        request("", "").session_verdict(password(T - 10), T, T, ISSUER),
        SessionVerdict::Proceed
    );
}

#[test]
fn an_essential_acr_claim_for_mfa_steps_up_too() {
    let claims = format!(
        r#"{{"id_token":{{"acr":{{"essential":true,"values":["{}"]}}}}}}"#,
        crate::acr::ACR_MFA
    );
    let req = run(nc(&[("claims", &claims)])).unwrap();
    assert!(req.mfa);
    let bad = run(nc(&[("claims", "{")]));
    assert_eq!(redirect_error(bad).error, ErrorCode::InvalidRequest);
}

#[test]
fn max_age_still_means_log_in_again_before_any_step_up() {
    let req = asking_mfa("", "600");
    assert_eq!(
        req.session_verdict(mfa(T - 601), T, T, ISSUER),
        SessionVerdict::Login
    );
    assert_eq!(
        req.session_verdict(password(T - 601), T, T, ISSUER),
        SessionVerdict::Login
    );
    assert_eq!(
        req.session_verdict(password(T - 60), T, T, ISSUER),
        SessionVerdict::StepUp
    );
}

#[test]
fn prompt_none_that_needs_a_second_factor_is_interaction_required() {
    let verdict = asking_mfa("none", "").session_verdict(password(T - 10), T, T, ISSUER);
    let SessionVerdict::Refuse(err) = verdict else {
        panic!("expected interaction_required, got {verdict:?}")
    };
    assert_eq!(err.error, ErrorCode::InteractionRequired);
    assert_eq!(
        asking_mfa("none", "").session_verdict(mfa(T - 10), T, T, ISSUER),
        SessionVerdict::Proceed
    );
    assert!(matches!(
        asking_mfa("none", "").session_verdict(None, T, T, ISSUER),
        SessionVerdict::Refuse(e) if e.error == ErrorCode::LoginRequired
    ));
}

#[test]
fn prompt_none_without_a_session_is_login_required() {
    let verdict = request("none", "").session_verdict(None, T, T, ISSUER);
    let SessionVerdict::Refuse(err) = verdict else {
        panic!("expected login_required, got {verdict:?}")
    };
    assert_eq!(err.error, ErrorCode::LoginRequired);
    assert_eq!(err.state.as_deref(), Some("st"));
    let session = password(T - 10);
    assert_eq!(
        request("none", "").session_verdict(session, T, T, ISSUER),
        SessionVerdict::Proceed
    );
    assert_eq!(
        request("", "").session_verdict(None, T, T, ISSUER),
        SessionVerdict::Login
    );
}

#[test]
fn max_age_sends_an_old_session_back_to_login() {
    let session = password(T - 601);
    assert_eq!(
        request("", "600").session_verdict(session, T, T, ISSUER),
        SessionVerdict::Login
    );
    assert!(matches!(
        request("none", "600").session_verdict(session, T, T, ISSUER),
        SessionVerdict::Refuse(e) if e.error == ErrorCode::LoginRequired
    ));
    let young = password(T - 600);
    assert_eq!(
        request("", "600").session_verdict(young, T, T, ISSUER),
        SessionVerdict::Proceed
    );
}

#[test]
fn prompt_login_is_satisfied_by_a_login_after_the_request() {
    let req = request("login", "");
    let before = password(T - 1);
    assert_eq!(
        req.session_verdict(before, T, T + 5, ISSUER),
        SessionVerdict::Login
    );
    let after = password(T + 3);
    assert_eq!(
        req.session_verdict(after, T, T + 5, ISSUER),
        SessionVerdict::Proceed
    );
}

#[test]
fn prompt_login_is_not_satisfied_by_a_login_in_the_same_second_as_the_request() {
    let req = request("login", "");
    let same_second = password(T);
    assert_eq!(
        req.session_verdict(same_second, T, T, ISSUER),
        SessionVerdict::Login
    );
}

#[test]
fn access_denied_goes_back_to_the_client() {
    let req = request("", "");
    let err = req.error(ISSUER, ErrorCode::AccessDenied, "not allowed");
    assert!(
        err.location()
            .starts_with(&format!("{NC_URI}?error=access_denied"))
    );
}

proptest! {
    #[test]
    fn only_the_exact_registered_redirect_uri_is_accepted(
        uri in prop_oneof![
            any::<String>(),
            "https://cloud\\.example\\.org/apps/user_oidc/code[a-zA-Z0-9/?#.:%_-]{0,4}",
            "[hH][tT][tT][pP][sS]?://[cC]loud\\.example\\.org(:[0-9]{1,4})?/apps/user_oidc/[cC]ode/?",
        ]
    ) {
        let result = run(nc(&[("redirect_uri", &uri)]));
        if uri == NC_URI {
            prop_assert!(result.is_ok());
        } else if uri.is_empty() {
            // Omitted: the single registered URI is used.
            prop_assert_eq!(result.map(|r| r.redirect_uri).ok(), Some(NC_URI.to_owned()));
        } else {
            prop_assert_eq!(page_error(result), PageError::UnregisteredRedirectUri);
        }
    }
}
