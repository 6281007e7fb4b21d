//! One sign-in as the gateway will drive it, through the public API only: authorize,
//! code, token exchange with PKCE, claims, refresh rotation and reuse, logout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use argon2::{Algorithm, Argon2, Params as ArgonParams, PasswordHasher, Version};
use pforte_oidc::authorize::{self, SessionAuth, SessionVerdict};
use pforte_oidc::claims::{Issue, PairwiseSalt, Person, id_token_claims, logout_token_claims};
use pforte_oidc::clients::{BasicCredentials, PresentedCredentials};
use pforte_oidc::end_session::{self, IdTokenHint};
use pforte_oidc::refresh::{RefreshToken, Rotation};
use pforte_oidc::token::exchange_code;
use pforte_oidc::{
    Authentication, AuthorizationCode, Clients, ErrorCode, OpaqueToken, Params, RefreshFamily,
    TokenRequest,
};
use pforte_policy::LoginStrength;

const ISSUER: &str = "https://login.example.org";
const T: u64 = 1_800_000_000;
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn clients() -> Clients {
    let params = ArgonParams::new(256, 1, 1, None).unwrap();
    let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_with_salt(b"op-secret", b"flow-test-salt00")
        .unwrap();
    let text = format!(
        r#"[[client]]
id = "openproject"
app = "projects"
secret_hash = "{hash}"
redirect_uris = ["https://projects.example.org/auth/pforte/callback"]
post_logout_redirect_uris = ["https://projects.example.org/"]
scopes = ["openid", "profile", "email", "groups", "offline_access"]
grant_types = ["authorization_code", "refresh_token"]
backchannel_logout_uri = "https://projects.example.org/auth/pforte/backchannel"
"#
    );
    Clients::parse(Path::new("clients.toml"), &text).unwrap()
}

#[test]
fn a_person_signs_in_refreshes_and_logs_out() {
    let clients = clients();
    let salt = PairwiseSalt::new(b"salt".to_vec());

    // 1. The browser arrives with an authorization request; there is no session yet.
    let query = format!(
        "client_id=openproject&redirect_uri=https%3A%2F%2Fprojects.example.org%2Fauth%2Fpforte%2Fcallback\
         &response_type=code&scope=openid%20email%20offline_access&state=xyz&nonce=n-0S6\
         &code_challenge={CHALLENGE}&code_challenge_method=S256"
    );
    let request = authorize::validate(&Params::parse_urlencoded(&query), &clients, ISSUER).unwrap();
    assert_eq!(
        request.session_verdict(None, T, T, ISSUER),
        SessionVerdict::Login
    );

    // 2. After the login, the session answers and a code is issued.
    let session = Some(SessionAuth {
        auth_time: T + 5,
        login: LoginStrength::Password,
    });
    assert_eq!(
        request.session_verdict(session, T, T + 6, ISSUER),
        SessionVerdict::Proceed
    );
    let authentication = Authentication {
        sid: "sid-42".into(),
        subject: "uuid-alice".into(),
        auth_time: T + 5,
        login: LoginStrength::Password,
        methods: vec![pforte_policy::AuthMethod::Password],
    };
    let code = OpaqueToken::from_random([5; 32]);
    let record = AuthorizationCode::issue(&request, authentication, T + 6);
    let stored = serde_json::to_string(&record).unwrap();
    let location = authorize::AuthorizationResponse {
        redirect_uri: request.redirect_uri.clone(),
        code: code.clone(),
        state: request.state.clone(),
        iss: ISSUER.into(),
    }
    .location();
    assert!(location.contains("state=xyz") && location.contains("iss=https%3A%2F%2Flogin"));

    // 3. The app exchanges the code with client_secret_basic and the PKCE verifier.
    let body = format!(
        "grant_type=authorization_code&code={}&redirect_uri=https%3A%2F%2Fprojects.example.org%2Fauth%2Fpforte%2Fcallback&code_verifier={VERIFIER}",
        code.expose()
    );
    let form = Params::parse_urlencoded(&body);
    let basic = BasicCredentials::parse("Basic b3BlbnByb2plY3Q6b3Atc2VjcmV0");
    let creds = PresentedCredentials::from_request(basic, &form).unwrap();
    let client = clients.authenticate(&creds).unwrap();
    let token_request = TokenRequest::parse(&form).unwrap();
    token_request.check_client(client).unwrap();
    let TokenRequest::AuthorizationCode {
        redirect_uri,
        code_verifier,
        ..
    } = token_request
    else {
        panic!("expected a code grant")
    };
    let taken: AuthorizationCode = serde_json::from_str(&stored).unwrap();
    let granted = exchange_code(
        Some(taken),
        client,
        redirect_uri.as_deref(),
        code_verifier.as_ref(),
        T + 10,
    )
    .unwrap();

    // 4. The ID token says who logged in, with the nonce; the code cannot be used again.
    let at = Issue {
        issuer: ISSUER,
        salt: &salt,
        now: T + 10,
    };
    let alice = Person {
        username: "alice".into(),
        email: Some("alice@example.org".into()),
        email_verified: true,
        ..Person::default()
    };
    let id = id_token_claims(
        at,
        client,
        &granted.authentication,
        &alice,
        granted.scopes,
        granted.nonce.as_deref(),
    );
    assert_eq!(
        (id.sub.as_str(), id.aud.as_str(), id.nonce.as_deref()),
        ("uuid-alice", "openproject", Some("n-0S6"))
    );
    assert_eq!(id.profile.email.as_deref(), Some("alice@example.org"));
    let replay = exchange_code(
        None,
        client,
        redirect_uri.as_deref(),
        code_verifier.as_ref(),
        T + 11,
    );
    assert_eq!(replay.unwrap_err().code, ErrorCode::InvalidGrant);

    // 5. Refresh rotates; the old token, presented again, revokes the family.
    let (family, first) = RefreshFamily::start(
        client,
        granted.authentication.clone(),
        granted.scopes,
        [1; 16],
        [2; 32],
        T + 10,
    );
    let presented = RefreshToken::parse(&first.expose()).unwrap();
    let Rotation::Rotated {
        family,
        token: second,
        ..
    } = family.rotate(&presented, client, None, [3; 32], T + 400)
    else {
        panic!("expected a rotation")
    };
    assert_ne!(second.expose(), first.expose());
    let Rotation::Reused { family } = family.rotate(&presented, client, None, [4; 32], T + 500)
    else {
        panic!("expected reuse detection")
    };
    assert!(matches!(
        family.rotate(&second, client, None, [5; 32], T + 501),
        Rotation::Refused(_)
    ));

    // 6. Logout from the app: back to its registered page, and a logout token for it.
    let hint = IdTokenHint {
        iss: id.iss.clone(),
        aud: id.aud.clone(),
        sid: Some(id.sid.clone()),
    };
    let q = "post_logout_redirect_uri=https%3A%2F%2Fprojects.example.org%2F&state=bye";
    let done =
        end_session::validate(&Params::parse_urlencoded(q), Some(&hint), &clients, ISSUER).unwrap();
    assert_eq!(
        done.redirect.as_deref(),
        Some("https://projects.example.org/?state=bye")
    );
    assert_eq!(done.sid.as_deref(), Some("sid-42"));
    let logout = logout_token_claims(at, client, &granted.authentication, [6; 16]);
    assert_eq!(
        (logout.sid.as_str(), logout.sub.as_str()),
        ("sid-42", "uuid-alice")
    );
}
