use pforte_policy::LoginStrength;

use super::*;
use crate::authorize::validate;
use crate::code::{Authentication, AuthorizationCode, CODE_LIFETIME};
use crate::testing::{ISSUER, clients};

const T: u64 = 1_800_000_000;
const NC_URI: &str = "https://cloud.example.org/apps/user_oidc/code";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn authentication() -> Authentication {
    Authentication {
        sid: "sid-1".into(),
        subject: "uuid-alice".into(),
        auth_time: T - 5,
        login: LoginStrength::Password,
        methods: vec![pforte_policy::AuthMethod::Password],
    }
}

fn code_for(query: &str) -> AuthorizationCode {
    let request = validate(&Params::parse_urlencoded(query), &clients(), ISSUER).unwrap();
    AuthorizationCode::issue(&request, authentication(), T)
}

fn pkce_code() -> AuthorizationCode {
    code_for(&format!(
        "client_id=nextcloud&redirect_uri={NC_URI}&response_type=code&scope=openid&nonce=n\
         &code_challenge={CHALLENGE}&code_challenge_method=S256"
    ))
}

fn exchange(
    code: Option<AuthorizationCode>,
    client: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    now: u64,
) -> Result<AuthorizationCode, ProtocolError> {
    let clients = clients();
    let verifier = verifier.map(OpaqueToken::presented);
    exchange_code(
        code,
        clients.get(client).unwrap(),
        redirect_uri,
        verifier.as_ref(),
        now,
    )
}

fn grant_error(result: Result<AuthorizationCode, ProtocolError>) -> String {
    let err = result.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidGrant);
    err.description
}

#[test]
fn a_correct_exchange_returns_the_record() {
    let code = exchange(
        Some(pkce_code()),
        "nextcloud",
        Some(NC_URI),
        Some(VERIFIER),
        T + 1,
    )
    .unwrap();
    assert_eq!(code.nonce.as_deref(), Some("n"));
    assert_eq!(code.authentication.subject, "uuid-alice");
    assert_eq!(code.expires_at, T + CODE_LIFETIME);
}

#[test]
fn pkce_missing_or_wrong_is_invalid_grant() {
    let missing = grant_error(exchange(
        Some(pkce_code()),
        "nextcloud",
        Some(NC_URI),
        None,
        T,
    ));
    assert!(missing.contains("required"));
    let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj";
    let wrong = grant_error(exchange(
        Some(pkce_code()),
        "nextcloud",
        Some(NC_URI),
        Some(wrong),
        T,
    ));
    assert!(wrong.contains("does not match"));
    // The challenge itself is not a verifier (what `plain` would have allowed).
    grant_error(exchange(
        Some(pkce_code()),
        "nextcloud",
        Some(NC_URI),
        Some(CHALLENGE),
        T,
    ));
}

#[test]
fn a_verifier_without_a_challenge_is_refused() {
    let code = code_for(&format!(
        "client_id=nextcloud&redirect_uri={NC_URI}&response_type=code&scope=openid"
    ));
    assert!(exchange(Some(code.clone()), "nextcloud", Some(NC_URI), None, T).is_ok());
    grant_error(exchange(
        Some(code),
        "nextcloud",
        Some(NC_URI),
        Some(VERIFIER),
        T,
    ));
}

#[test]
fn a_code_is_bound_to_its_client_and_redirect_uri() {
    let other = grant_error(exchange(
        Some(pkce_code()),
        "cli",
        Some(NC_URI),
        Some(VERIFIER),
        T,
    ));
    assert!(other.contains("another client"));
    for uri in [
        "https://cloud.example.org/apps/user_oidc/code/",
        "https://cloud.example.org/apps/user_oidc/code?x",
        "http://127.0.0.1:8400/callback",
    ] {
        grant_error(exchange(
            Some(pkce_code()),
            "nextcloud",
            Some(uri),
            Some(VERIFIER),
            T,
        ));
    }
    grant_error(exchange(
        Some(pkce_code()),
        "nextcloud",
        None,
        Some(VERIFIER),
        T,
    ));
}

#[test]
fn redirect_uri_may_be_left_out_when_the_request_left_it_out() {
    let code = code_for("client_id=nextcloud&response_type=code&scope=openid");
    assert!(exchange(Some(code), "nextcloud", None, None, T).is_ok());
}

#[test]
fn expired_or_used_codes_are_invalid_grant() {
    grant_error(exchange(
        Some(pkce_code()),
        "nextcloud",
        Some(NC_URI),
        Some(VERIFIER),
        T + CODE_LIFETIME,
    ));
    grant_error(exchange(None, "nextcloud", Some(NC_URI), Some(VERIFIER), T));
}

#[test]
fn code_records_survive_serde() {
    let code = pkce_code();
    let json = serde_json::to_string(&code).unwrap();
    assert_eq!(
        serde_json::from_str::<AuthorizationCode>(&json).unwrap(),
        code
    );
}

fn parse(body: &str) -> Result<TokenRequest, ProtocolError> {
    TokenRequest::parse(&Params::parse_urlencoded(body))
}

#[test]
fn parses_grants_with_rfc_errors() {
    let req =
        parse("grant_type=authorization_code&code=abc&redirect_uri=x&code_verifier=v").unwrap();
    assert_eq!(req.grant_type(), GrantType::AuthorizationCode);
    assert!(
        !format!("{req:?}").contains("abc"),
        "codes stay out of Debug output"
    );
    assert!(matches!(
        parse("grant_type=refresh_token&refresh_token=r&scope=openid"),
        Ok(TokenRequest::RefreshToken { scope: Some(_), .. })
    ));
    assert!(matches!(
        parse("grant_type=client_credentials"),
        Ok(TokenRequest::ClientCredentials { scope: None })
    ));
    for (body, code) in [
        ("", ErrorCode::InvalidRequest),
        (
            "grant_type=password&username=a",
            ErrorCode::UnsupportedGrantType,
        ),
        ("grant_type=authorization_code", ErrorCode::InvalidRequest),
        ("grant_type=refresh_token", ErrorCode::InvalidRequest),
        (
            "grant_type=client_credentials&scope=admin",
            ErrorCode::InvalidScope,
        ),
        (
            "grant_type=authorization_code&code=a&code=b",
            ErrorCode::InvalidRequest,
        ),
    ] {
        assert_eq!(parse(body).unwrap_err().code, code, "{body}");
    }
}

#[test]
fn clients_only_use_their_grants() {
    let c = clients();
    let cc = parse("grant_type=client_credentials").unwrap();
    assert_eq!(
        cc.check_client(c.get("nextcloud").unwrap())
            .unwrap_err()
            .code,
        ErrorCode::UnauthorizedClient
    );
    assert!(cc.check_client(c.get("backup-job").unwrap()).is_ok());
    let refresh = parse("grant_type=refresh_token&refresh_token=r").unwrap();
    assert_eq!(
        refresh
            .check_client(c.get("cli").unwrap())
            .unwrap_err()
            .code,
        ErrorCode::UnauthorizedClient
    );
}

#[test]
fn client_credentials_never_grant_person_scopes() {
    let c = clients();
    let nc = c.get("nextcloud").unwrap();
    assert_eq!(
        client_credentials(nc, None).unwrap().to_string(),
        "profile email groups"
    );
    let groups = Scopes::parse("groups").unwrap();
    assert_eq!(client_credentials(nc, Some(groups)).unwrap(), groups);
    for bad in ["openid", "offline_access"] {
        let err = client_credentials(nc, Some(Scopes::parse(bad).unwrap())).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidScope, "{bad}");
    }
    let job = c.get("backup-job").unwrap();
    assert!(client_credentials(job, None).unwrap().is_empty());
    assert_eq!(
        client_credentials(job, Some(groups)).unwrap_err().code,
        ErrorCode::InvalidScope
    );
}
