//! The OpenID Connect provider end to end, over TLS against real slapd and Redis, with the
//! `openidconnect` crate as the relying party where it has the flow, and raw requests where a
//! test must send what no well-behaved client would.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use pforte_e2e::browser::{Browser, absolute, hidden_value};
use pforte_e2e::client::{H1, Reply};
use pforte_e2e::gateway::{Gateway, GatewayBuilder, app_toml, pforte_admin_bin};
use pforte_e2e::oidc::{BackchannelRp, rp_http};
use pforte_e2e::pki::TestCa;
use pforte_e2e::upstream::Upstream;
use pforte_e2e::{env, eventually, free_port, unique_prefix};

mod device;
mod exchange;
mod metadata;
mod native_apps;
mod par;
mod private_key_jwt;
mod userinfo;

const ISSUER: &str = "https://login.gw.test";
const CALLBACK: &str = "https://rp.gw.test/callback";
const NATIVE_CALLBACK: &str = "http://127.0.0.1:8765/callback";
const MOBILE_CALLBACK: &str = "de.gw.test.mobile:/callback";
const MOBILE_LOOPBACK: &str = "http://127.0.0.1/callback";
const VAULT_CALLBACK: &str = "https://vault.gw.test/callback";
const PAYROLL_CALLBACK: &str = "https://payroll.gw.test/callback";
const ACR_MFA: &str = "urn:pforte:acr:mfa";
const DOCS_SECRET: &str = "docs-test-secret-0123456789";
const SVC_SECRET: &str = "svc-test-secret-0123456789";

fn hash(secret: &str) -> String {
    pforte_oidc::clients::SecretHash::create(secret, rand_salt()).unwrap()
}

fn rand_salt() -> [u8; 16] {
    let mut salt = [0u8; 16];
    for (i, b) in salt.iter_mut().enumerate() {
        *b = (std::process::id() as u8).wrapping_add(i as u8 * 7);
    }
    salt
}

fn clients(backchannel: &str) -> String {
    format!(
        r#"
[[client]]
id = "docs"
app = "docs"
secret_hash = "{docs}"
redirect_uris = ["{CALLBACK}"]
post_logout_redirect_uris = ["https://rp.gw.test/bye"]
scopes = ["openid", "profile", "email", "groups", "offline_access"]
grant_types = ["authorization_code", "refresh_token"]
backchannel_logout_uri = "{backchannel}"

[[client]]
id = "cli"
app = "docs"
public = true
redirect_uris = ["{NATIVE_CALLBACK}"]
scopes = ["openid", "profile"]

[[client]]
id = "mobile"
app = "docs"
public = true
redirect_uris = ["{MOBILE_CALLBACK}", "{MOBILE_LOOPBACK}"]
scopes = ["openid", "profile"]

[[client]]
id = "svc"
app = "docs"
secret_hash = "{svc}"
grant_types = ["client_credentials"]
scopes = ["profile"]

[[client]]
id = "ledger"
app = "finance"
secret_hash = "{docs}"
redirect_uris = ["https://ledger.gw.test/callback"]
scopes = ["openid", "profile"]

[[client]]
id = "payroll"
app = "docs"
secret_hash = "{docs}"
redirect_uris = ["{PAYROLL_CALLBACK}"]
scopes = ["openid", "profile"]
require_pushed_authorization_requests = true

[[client]]
id = "vault"
app = "vault"
secret_hash = "{docs}"
redirect_uris = ["{VAULT_CALLBACK}"]
scopes = ["openid", "profile"]

[[client]]
id = "room"
app = "docs"
secret_hash = "{docs}"
scopes = ["openid", "profile", "email", "groups", "offline_access"]
grant_types = ["device_code", "refresh_token"]

[[client]]
id = "tv"
app = "finance"
public = true
scopes = ["openid", "profile"]
grant_types = ["device_code"]

[[client]]
id = "console"
app = "vault"
public = true
scopes = ["openid"]
grant_types = ["device_code"]

[[client]]
id = "editor"
app = "docs"
secret_hash = "{docs}"
redirect_uris = ["https://editor.gw.test/callback"]
scopes = ["openid", "profile", "email"]
grant_types = ["authorization_code", "token_exchange"]
exchange_audiences = ["files-api", "ledger"]

[[client]]
id = "scribe"
app = "docs"
secret_hash = "{docs}"
redirect_uris = ["https://scribe.gw.test/callback"]
scopes = ["openid", "profile"]
grant_types = ["authorization_code", "token_exchange"]
exchange_audiences = ["files-api"]
access_token_seconds = 1

[[client]]
id = "files-api"
app = "files"
secret_hash = "{docs}"
scopes = ["openid", "profile", "groups"]
grant_types = ["client_credentials", "token_exchange"]
exchange_audiences = ["docs"]
backchannel_logout_uri = "{backchannel}"
access_token_seconds = 600
"#,
        docs = hash(DOCS_SECRET),
        svc = hash(SVC_SECRET),
    )
}

const POLICY: &str = r#"
[[rule]]
apps = ["docs"]
allow = ["group:staff"]

[[rule]]
apps = ["finance"]
allow = ["group:finance"]

[[rule]]
apps = ["vault"]
allow = ["group:staff"]
login = "mfa"

[[rule]]
apps = ["files"]
allow = ["group:staff"]
"#;

struct Setup {
    gw: Gateway,
    rp: BackchannelRp,
    _upstream: Upstream,
    _dir: tempfile::TempDir,
}

async fn setup(label: &str) -> Setup {
    setup_with(|gw| gw.redis(&unique_prefix(label), "")).await
}

/// A setup whose sessions live where `sessions` puts them.
async fn setup_with(sessions: impl FnOnce(GatewayBuilder) -> GatewayBuilder) -> Setup {
    let upstream = Upstream::start("docs").await;
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let rp = BackchannelRp::start(&ca, dir.path()).await;
    let apps = [
        app_toml("docs", "docs.gw.test", "/", &[upstream.url()], ""),
        app_toml("finance", "finance.gw.test", "/", &[upstream.url()], ""),
        app_toml("vault", "vault.gw.test", "/", &[upstream.url()], ""),
        app_toml("files", "files.gw.test", "/", &[upstream.url()], ""),
    ]
    .concat();
    let gw = sessions(Gateway::builder())
        .apps(apps)
        .policy(POLICY)
        .ldap(&[env("PFORTE_TEST_LDAP_URL")])
        .audit_log()
        .oidc(&clients(&rp.uri()))
        .start_with_ca(ca)
        .await;
    Setup {
        gw,
        rp,
        _upstream: upstream,
        _dir: dir,
    }
}

impl Setup {
    fn browser(&self) -> Browser {
        Browser::new(self.gw.https, self.gw.root())
    }

    /// A browser in which alice has logged in on the login host.
    async fn signed_in(&self) -> Browser {
        let mut browser = self.browser();
        browser
            .login(&format!("{ISSUER}/login"), "alice", "alicepw")
            .await;
        browser
    }

    fn http(
        &self,
    ) -> impl Fn(
        openidconnect::HttpRequest,
    ) -> std::pin::Pin<
        Box<dyn Future<Output = Result<openidconnect::HttpResponse, std::io::Error>> + Send>,
    > {
        rp_http(self.gw.https, self.gw.root())
    }

    /// A raw form POST to an endpoint of the login host.
    async fn post(&self, path: &str, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Reply {
        let mut h1 = H1::connect(self.gw.https, "login.gw.test", &self.gw.root()).await;
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter())
            .finish();
        let mut req = h1
            .request("POST", path)
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some((id, secret)) = basic {
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
            req = req.header("authorization", format!("Basic {encoded}"));
        }
        h1.send(req.body(body.into()).unwrap()).await
    }

    /// A client_credentials grant for the service client, with HTTP Basic.
    async fn service_token(&self) -> Reply {
        self.post(
            "/oidc/token",
            &[("grant_type", "client_credentials")],
            Some(("svc", SVC_SECRET)),
        )
        .await
    }

    async fn userinfo(&self, access_token: &str) -> Reply {
        let mut h1 = H1::connect(self.gw.https, "login.gw.test", &self.gw.root()).await;
        let req = h1
            .request("GET", "/oidc/userinfo")
            .header("authorization", format!("Bearer {access_token}"))
            .body(Default::default())
            .unwrap();
        h1.send(req).await
    }

    async fn introspect(&self, token: &str) -> serde_json::Value {
        let reply = self
            .post(
                "/oidc/introspect",
                &[("token", token)],
                Some(("docs", DOCS_SECRET)),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    }

    async fn rp_client(
        &self,
    ) -> CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        let metadata = CoreProviderMetadata::discover_async(
            IssuerUrl::new(ISSUER.into()).unwrap(),
            &self.http(),
        )
        .await
        .expect("discovery");
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new("docs".into()),
            Some(ClientSecret::new(DOCS_SECRET.into())),
        )
        .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap())
    }
}

/// Follows `url` with `browser` (logging in as `user` when the form appears) until the
/// provider redirects to `callback`; returns that redirect's query parameters. The callback
/// itself is not visited: it belongs to the relying party.
async fn authorize_as(
    browser: &mut Browser,
    url: &str,
    user: Option<(&str, &str)>,
    callback: &str,
) -> Vec<(String, String)> {
    let mut current = url.to_string();
    let mut user = user;
    for _ in 0..12 {
        let reply = browser.get(&current).await;
        let login_form =
            reply.header("location").is_none() && reply.text().contains("name=\"password\"");
        let reply = match user.filter(|_| login_form) {
            Some((name, password)) => {
                user = None;
                let page = reply.text();
                let csrf = hidden_value(&page, "csrf").expect("a csrf field");
                let mut fields = vec![("username", name), ("password", password), ("csrf", &csrf)];
                let return_to = hidden_value(&page, "return_to");
                if let Some(rt) = &return_to {
                    fields.push(("return_to", rt));
                }
                current = absolute(&current, "/login");
                browser.post(&current, &fields).await
            }
            None => reply,
        };
        let Some(location) = reply.header("location") else {
            panic!(
                "stopped at {current} with {}: {}",
                reply.status,
                reply.text()
            );
        };
        // A native app's private-use scheme (de.example.app:/callback) is no web address.
        current = if location.starts_with(callback) {
            location.to_owned()
        } else {
            absolute(&current, location)
        };
        if current.starts_with(callback) {
            let query = current.split_once('?').map(|(_, q)| q).unwrap_or_default();
            return form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
        }
    }
    panic!("no redirect to {callback} from {url}");
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn claims_of(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn header_of(jwt: &str) -> serde_json::Value {
    let header = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

/// A PKCE pair by hand, for raw requests.
fn pkce() -> (String, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    (challenge.as_str().to_owned(), verifier.secret().clone())
}

fn authorize_url(client: &str, redirect: &str, extra: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", client)
        .append_pair("redirect_uri", redirect)
        .append_pair("scope", "openid profile")
        .append_pair("state", "st-1");
    for (k, v) in extra {
        query.append_pair(k, v);
    }
    format!("{ISSUER}/oidc/authorize?{}", query.finish())
}

/// A code for `docs` after alice logs in (if she has not yet), with the PKCE `challenge`.
/// An authorization request with an S256 PKCE challenge and nothing else of note.
fn pkce_url(client: &str, redirect: &str, challenge: &str) -> String {
    authorize_url(
        client,
        redirect,
        &[
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ],
    )
}

async fn code_for(browser: &mut Browser, challenge: &str) -> String {
    let url = pkce_url("docs", CALLBACK, challenge);
    let user = browser
        .cookie("login.gw.test", "__Host-pforte")
        .is_none()
        .then_some(("alice", "alicepw"));
    let params = authorize_as(browser, &url, user, CALLBACK).await;
    param(&params, "code").expect("a code").to_owned()
}

/// alice's tokens for `docs` from a whole code flow with PKCE.
async fn tokens_for_alice(setup: &Setup, browser: &mut Browser) -> serde_json::Value {
    let (challenge, verifier) = pkce();
    let code = code_for(browser, &challenge).await;
    let reply = exchange(setup, &code, Some(&verifier)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

async fn refresh_with(setup: &Setup, token: &str) -> Reply {
    setup
        .post(
            "/oidc/token",
            &[("grant_type", "refresh_token"), ("refresh_token", token)],
            Some(("docs", DOCS_SECRET)),
        )
        .await
}

async fn exchange(setup: &Setup, code: &str, verifier: Option<&str>) -> Reply {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CALLBACK),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    setup
        .post("/oidc/token", &form, Some(("docs", DOCS_SECRET)))
        .await
}

#[tokio::test]
async fn code_flow_with_pkce_gives_verified_tokens_userinfo_and_rotating_refresh() {
    let setup = setup("oidc-flow").await;
    let http = setup.http();
    let client = setup.rp_client().await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("groups".into()))
        .set_pkce_challenge(challenge)
        .url();
    let mut browser = setup.browser();
    let params = authorize_as(
        &mut browser,
        url.as_str(),
        Some(("alice", "alicepw")),
        CALLBACK,
    )
    .await;
    assert_eq!(param(&params, "state"), Some(state.secret().as_str()));
    assert_eq!(
        param(&params, "iss"),
        Some(ISSUER),
        "RFC 9207 iss in the response"
    );
    let code = param(&params, "code").unwrap().to_owned();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let id_verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    let claims = id_token
        .claims(&id_verifier, &nonce)
        .expect("signature, iss, aud, nonce and expiry verify");
    assert_eq!(claims.issuer().as_str(), ISSUER);
    assert_eq!(claims.audiences()[0].as_str(), "docs");
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash), "at_hash");
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str()),
        Some("alice")
    );
    let raw = claims_of(&id_token.to_string());
    assert_eq!(raw["email"], "alice@example.org");
    assert!(
        raw["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == "staff")
    );
    assert_eq!(raw["acr"], "urn:pforte:acr:password");
    assert_eq!(
        raw["amr"],
        serde_json::json!(["pwd"]),
        "a password login, nothing more"
    );
    assert!(raw["sid"].is_string() && raw["auth_time"].is_u64());
    let sub = raw["sub"].as_str().unwrap().to_owned();

    let access = tokens.access_token().secret().clone();
    assert_eq!(header_of(&access)["typ"], "at+jwt", "RFC 9068 access token");
    let info = setup.userinfo(&access).await;
    assert_eq!(info.status, 200, "{}", info.text());
    let info = info.json();
    assert_eq!(info["sub"], sub.as_str());
    assert_eq!(info["preferred_username"], "alice");
    assert!(
        info["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == "admins")
    );

    let introspected = setup.introspect(&access).await;
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["client_id"], "docs");

    // Refresh rotates; the old token, used again, revokes the whole family.
    let first = tokens.refresh_token().expect("a refresh token").clone();
    let renewed = client
        .exchange_refresh_token(&first)
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    let second = renewed.refresh_token().unwrap().clone();
    assert_ne!(first.secret(), second.secret(), "rotated");
    assert!(renewed.id_token().is_some());
    let reuse = refresh_with(&setup, first.secret()).await;
    assert_eq!(reuse.status, 400);
    assert_eq!(reuse.json()["error"], "invalid_grant");
    let after = refresh_with(&setup, second.secret()).await;
    assert_eq!(
        after.json()["error"],
        "invalid_grant",
        "the family is revoked after reuse"
    );
    assert!(
        setup
            .gw
            .audit()
            .iter()
            .any(|e| e["event"] == "oidc_refresh_reuse"),
        "reuse audited"
    );

    // Revocation (RFC 7009) of the access token: introspection and userinfo refuse it.
    let revoked = setup
        .post(
            "/oidc/revoke",
            &[("token", &access)],
            Some(("docs", DOCS_SECRET)),
        )
        .await;
    assert_eq!(revoked.status, 200);
    assert_eq!(setup.introspect(&access).await["active"], false);
    assert_eq!(setup.userinfo(&access).await.status, 401);
}

#[tokio::test]
async fn silent_login_needs_a_session_and_client_credentials_need_no_person() {
    let setup = setup("oidc-silent").await;
    let mut browser = setup.browser();
    let (challenge, _) = pkce();
    let silent = authorize_url(
        "docs",
        CALLBACK,
        &[
            ("prompt", "none"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let params = authorize_as(&mut browser, &silent, None, CALLBACK).await;
    assert_eq!(param(&params, "error"), Some("login_required"));
    assert_eq!(param(&params, "state"), Some("st-1"));
    browser
        .login(&format!("{ISSUER}/login"), "alice", "alicepw")
        .await;
    let params = authorize_as(&mut browser, &silent, None, CALLBACK).await;
    assert!(
        param(&params, "code").is_some(),
        "silent SSO with a session: {params:?}"
    );

    let service = setup.service_token().await;
    assert_eq!(service.status, 200, "{}", service.text());
    let body = service.json();
    assert!(body.get("id_token").is_none() && body.get("refresh_token").is_none());
    let claims = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "svc");
    assert_eq!(claims["scope"], "profile");
    // client_secret_post works as well as Basic.
    let post = setup
        .post(
            "/oidc/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "svc"),
                ("client_secret", SVC_SECRET),
            ],
            None,
        )
        .await;
    assert_eq!(post.status, 200);
}

#[tokio::test]
async fn a_person_the_policy_denies_gets_access_denied_and_an_audit_entry() {
    let setup = setup("oidc-denied").await;
    let mut browser = setup.browser();
    let callback = "https://ledger.gw.test/callback";
    let (challenge, _) = pkce();
    let url = pkce_url("ledger", callback, &challenge);
    let params = authorize_as(&mut browser, &url, Some(("alice", "alicepw")), callback).await;
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert!(param(&params, "code").is_none());
    assert!(
        setup
            .gw
            .audit()
            .iter()
            .any(|e| e["event"] == "oidc_access_denied" && e["client"] == "ledger")
    );
    // carol (finance) may.
    let mut carol = setup.browser();
    let params = authorize_as(&mut carol, &url, Some(("carol", "carolpw")), callback).await;
    assert!(param(&params, "code").is_some());
}

/// Where the provider sent the browser for a second factor: the login host's `/mfa`, and the
/// authorization request it is to come back to, as sorted query pairs.
fn step_up_target(reply: &Reply) -> Vec<(String, String)> {
    assert_eq!(reply.status, 302, "{}", reply.text());
    let location = reply.header("location").expect("a redirect");
    let (page, query) = location.split_once('?').expect("a query");
    assert_eq!(page, format!("{ISSUER}/mfa"), "the second-factor page");
    let return_to = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "return_to")
        .map(|(_, v)| v.into_owned())
        .expect("return_to");
    sorted_query(&return_to)
}

/// The query pairs of an authorization URL, sorted (the provider may rebuild them in another
/// order), after checking that it is this provider's authorization endpoint.
fn sorted_query(url: &str) -> Vec<(String, String)> {
    let (endpoint, query) = url.split_once('?').expect("a query");
    assert_eq!(endpoint, format!("{ISSUER}/oidc/authorize"));
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    pairs.sort();
    pairs
}

#[tokio::test]
async fn a_client_asking_for_mfa_sends_a_password_session_to_the_second_factor_page() {
    let setup = setup("oidc-acr").await;
    let (challenge, _) = pkce();
    let pkce_params = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let asking = |extra: &[(&str, &str)]| {
        let mut all = pkce_params.to_vec();
        all.extend_from_slice(extra);
        authorize_url("docs", CALLBACK, &all)
    };

    // Without a session the login form comes first.
    let by_acr_values = asking(&[("acr_values", ACR_MFA)]);
    let anonymous = setup.browser().get(&by_acr_values).await;
    assert_eq!(anonymous.status, 302);
    assert!(
        anonymous.header("location").unwrap().starts_with("/login?"),
        "{:?}",
        anonymous.header("location")
    );

    // With a password session: to /mfa, and back to this very request afterwards.
    let mut browser = setup.signed_in().await;
    let reply = browser.get(&by_acr_values).await;
    assert_eq!(step_up_target(&reply), sorted_query(&by_acr_values));

    let essential =
        format!(r#"{{"id_token":{{"acr":{{"essential":true,"values":["{ACR_MFA}"]}}}}}}"#);
    let by_claims = asking(&[("claims", &essential)]);
    let reply = browser.get(&by_claims).await;
    assert_eq!(step_up_target(&reply), sorted_query(&by_claims));

    // Silent SSO cannot show the page: the client hears interaction_required.
    let silent = asking(&[("acr_values", ACR_MFA), ("prompt", "none")]);
    let params = authorize_as(&mut browser, &silent, None, CALLBACK).await;
    assert_eq!(param(&params, "error"), Some("interaction_required"));
    assert!(param(&params, "code").is_none());

    // Asking for the password class, or a class Pforte does not know, asks for nothing more.
    let plain = asking(&[("acr_values", "urn:pforte:acr:password urn:example:gold")]);
    let params = authorize_as(&mut browser, &plain, None, CALLBACK).await;
    assert!(param(&params, "code").is_some(), "{params:?}");

    // A claims parameter that is not a claims request is refused, not ignored.
    let params = authorize_as(&mut browser, &asking(&[("claims", "[1]")]), None, CALLBACK).await;
    assert_eq!(param(&params, "error"), Some("invalid_request"));

    let discovery = browser
        .get(&format!("{ISSUER}/.well-known/openid-configuration"))
        .await
        .json();
    assert_eq!(
        discovery["acr_values_supported"],
        serde_json::json!(["urn:pforte:acr:password", ACR_MFA])
    );
    for claim in ["acr", "amr"] {
        assert!(
            discovery["claims_supported"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == claim),
            "{claim}"
        );
    }
}

#[tokio::test]
async fn a_client_whose_app_needs_mfa_steps_a_password_session_up_instead_of_refusing() {
    let setup = setup("oidc-policy-mfa").await;
    let (challenge, _) = pkce();
    let url = pkce_url("vault", VAULT_CALLBACK, &challenge);
    let mut browser = setup.signed_in().await;
    let reply = browser.get(&url).await;
    assert_eq!(step_up_target(&reply), sorted_query(&url));
    assert!(
        !setup
            .gw
            .audit()
            .iter()
            .any(|e| e["event"] == "oidc_access_denied" && e["client"] == "vault"),
        "a step-up is not a denial"
    );

    let silent = authorize_url(
        "vault",
        VAULT_CALLBACK,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("prompt", "none"),
        ],
    );
    let params = authorize_as(&mut browser, &silent, None, VAULT_CALLBACK).await;
    assert_eq!(param(&params, "error"), Some("interaction_required"));
}

#[tokio::test]
async fn codes_are_single_use_bound_to_pkce_and_replay_revokes_their_tokens() {
    let setup = setup("oidc-codes").await;
    let mut browser = setup.browser();

    // PKCE missing, wrong; the code is used up by a failed attempt too.
    let (challenge, verifier) = pkce();
    let code = code_for(&mut browser, &challenge).await;
    let missing = exchange(&setup, &code, None).await;
    assert_eq!(missing.json()["error"], "invalid_grant");
    let code = code_for(&mut browser, &challenge).await;
    let wrong = exchange(
        &setup,
        &code,
        Some("not-the-verifier-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
    )
    .await;
    assert_eq!(wrong.json()["error"], "invalid_grant");

    // A good exchange, then a replay: refused, and what the first exchange issued is revoked.
    let code = code_for(&mut browser, &challenge).await;
    let good = exchange(&setup, &code, Some(&verifier)).await;
    assert_eq!(good.status, 200, "{}", good.text());
    let access = good.json()["access_token"].as_str().unwrap().to_owned();
    let refresh = good.json()["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(setup.introspect(&access).await["active"], true);
    let replay = exchange(&setup, &code, Some(&verifier)).await;
    assert_eq!(replay.json()["error"], "invalid_grant");
    assert_eq!(
        setup.introspect(&access).await["active"],
        false,
        "replay revokes the access token"
    );
    let refreshed = refresh_with(&setup, &refresh).await;
    assert_eq!(
        refreshed.json()["error"],
        "invalid_grant",
        "and its refresh family"
    );
    assert!(
        setup
            .gw
            .audit()
            .iter()
            .any(|e| e["event"] == "oidc_code_replay")
    );

    // `plain` PKCE is refused at the authorization endpoint.
    let plain = authorize_url(
        "docs",
        CALLBACK,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "plain"),
        ],
    );
    let params = authorize_as(&mut browser, &plain, None, CALLBACK).await;
    assert_eq!(param(&params, "error"), Some("invalid_request"));

    // A public client must use PKCE.
    let no_pkce = authorize_url("cli", NATIVE_CALLBACK, &[]);
    let params = authorize_as(&mut browser, &no_pkce, None, NATIVE_CALLBACK).await;
    assert_eq!(param(&params, "error"), Some("invalid_request"));

    // Wrong or missing client secret.
    let code = code_for(&mut browser, &challenge).await;
    let bad = setup
        .post(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", &verifier),
            ],
            Some(("docs", "wrong-secret")),
        )
        .await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["error"], "invalid_client");
    let none = setup
        .post(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "docs"),
            ],
            None,
        )
        .await;
    assert_eq!(none.json()["error"], "invalid_client");
}

#[tokio::test]
async fn redirect_uris_must_match_exactly_and_bad_ones_stay_on_our_page() {
    let setup = setup("oidc-redirects").await;
    let mut browser = setup.signed_in().await;
    let (challenge, _) = pkce();
    for bad in [
        "https://rp.gw.test/callback/more",
        "https://rp.gw.test/callback?x=1",
        "https://rp.gw.test:8443/callback",
        "https://RP.gw.test/callback",
        "https://rp.gw.test/Callback",
        "https://evil.example/callback",
    ] {
        let url = pkce_url("docs", bad, &challenge);
        let reply = browser.get(&url).await;
        assert_eq!(reply.status, 400, "{bad} must be refused on our page");
        assert!(reply.header("location").is_none(), "no redirect to {bad}");
    }
}

#[tokio::test]
async fn forged_tokens_are_refused_at_userinfo() {
    let setup = setup("oidc-forged").await;
    let claims = URL_SAFE_NO_PAD.encode(
        serde_json::json!({"iss": ISSUER, "sub": "x", "aud": "docs", "exp": 4_000_000_000u64,
            "iat": 1, "jti": "j", "client_id": "docs", "scope": "openid profile"})
        .to_string(),
    );
    let none = format!(
        "{}.{claims}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#)
    );
    assert_eq!(setup.userinfo(&none).await.status, 401);
    // HMAC signed with the public key as the secret, naming our kid.
    let jwks = setup.gw.get("login.gw.test", "/oidc/jwks").await.json();
    let kid = jwks["keys"][0]["kid"].as_str().unwrap().to_owned();
    let header =
        URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"HS256","typ":"at+jwt","kid":"{kid}"}}"#));
    let signing_input = format!("{header}.{claims}");
    let key = aws_lc_rs::hmac::Key::new(
        aws_lc_rs::hmac::HMAC_SHA256,
        jwks["keys"][0].to_string().as_bytes(),
    );
    let tag = aws_lc_rs::hmac::sign(&key, signing_input.as_bytes());
    let hmac = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
    let reply = setup.userinfo(&hmac).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["error"], "invalid_token");
}

#[tokio::test]
async fn end_session_logs_out_everywhere_and_calls_back_channel_logout() {
    let setup = setup("oidc-logout").await;
    let mut browser = setup.browser();
    let tokens = tokens_for_alice(&setup, &mut browser).await;
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let sid = claims_of(&id_token)["sid"].as_str().unwrap().to_owned();

    let url = format!(
        "{ISSUER}/oidc/end_session?id_token_hint={id_token}&post_logout_redirect_uri={}&state=bye-1",
        form_urlencoded::byte_serialize(b"https://rp.gw.test/bye").collect::<String>()
    );
    let reply = browser.get(&url).await;
    assert_eq!(reply.status, 302, "{}", reply.text());
    assert_eq!(
        reply.header("location"),
        Some("https://rp.gw.test/bye?state=bye-1")
    );

    assert!(
        eventually(Duration::from_secs(5), async || !setup
            .rp
            .received()
            .is_empty())
        .await,
        "the back-channel logout token arrives"
    );
    let logout_token = setup.rp.received()[0].clone();
    assert_eq!(header_of(&logout_token)["typ"], "logout+jwt");
    let claims = claims_of(&logout_token);
    assert_eq!(claims["sid"], sid.as_str());
    assert_eq!(claims["aud"], "docs");
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());

    let refreshed = refresh_with(&setup, &refresh).await;
    assert_eq!(
        refreshed.json()["error"],
        "invalid_grant",
        "refresh ends with the session"
    );
    assert_eq!(setup.userinfo(&access).await.status, 401);
    let portal = browser.get(&format!("{ISSUER}/")).await;
    assert_eq!(portal.status, 303, "the browser's session is gone");

    // A logout link without a hint asks first.
    let mut other = setup.signed_in().await;
    let ask = other.get(&format!("{ISSUER}/oidc/end_session")).await;
    assert_eq!(ask.status, 200);
    assert!(ask.text().contains("confirm"));
    assert_eq!(
        other.get(&format!("{ISSUER}/")).await.status,
        200,
        "still signed in"
    );
}

#[tokio::test]
async fn key_rotation_keeps_outstanding_tokens_valid() {
    let setup = setup("oidc-rotation").await;
    let mut browser = setup.browser();
    let before = tokens_for_alice(&setup, &mut browser).await;
    let old_access = before["access_token"].as_str().unwrap().to_owned();
    let old_kid = header_of(&old_access)["kid"].as_str().unwrap().to_owned();

    let keys = setup.gw.path("keys");
    for step in [["keys", "generate"], ["keys", "rotate"]] {
        let out = std::process::Command::new(pforte_admin_bin())
            .args(step)
            .arg("--dir")
            .arg(&keys)
            .arg("--yes")
            .env_remove("PFORTE_CONFIG")
            .output()
            .unwrap();
        assert!(out.status.success(), "{step:?}: {out:?}");
    }
    assert!(
        eventually(Duration::from_secs(10), async || {
            let jwks = setup.gw.get("login.gw.test", "/oidc/jwks").await.json();
            jwks["keys"][0]["kid"] != old_kid.as_str()
        })
        .await,
        "the gateway reloads the rotated keys"
    );
    let after = tokens_for_alice(&setup, &mut browser).await;
    let new_kid = header_of(after["access_token"].as_str().unwrap())["kid"].clone();
    assert_ne!(new_kid, old_kid.as_str(), "new tokens use the new key");
    assert_eq!(
        setup.userinfo(&old_access).await.status,
        200,
        "old tokens still verify"
    );
}

#[tokio::test]
async fn an_admin_revocation_reaches_clients_by_back_channel_logout() {
    let setup = setup("oidc-admin-revoke").await;
    let mut browser = setup.browser();
    let tokens = tokens_for_alice(&setup, &mut browser).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(setup.introspect(&refresh).await["active"], true);

    // pforte-admin is another process that only talks to Redis: the notice it queues with the
    // revocation is delivered by the gateway.
    let out = std::process::Command::new(pforte_admin_bin())
        .arg("--config")
        .arg(&setup.gw.config_path)
        .args(["sessions", "revoke", "--user", "alice", "--yes"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        eventually(Duration::from_secs(5), async || !setup
            .rp
            .received()
            .is_empty())
        .await,
        "the logout token arrives"
    );
    assert_eq!(claims_of(&setup.rp.received()[0])["aud"], "docs");
    assert!(
        eventually(Duration::from_secs(5), async || {
            setup.introspect(&refresh).await["active"] == false
        })
        .await,
        "the session's refresh family is revoked"
    );
}

#[tokio::test]
async fn prompt_login_asks_again_and_login_hint_fills_in_the_name() {
    let setup = setup("oidc-prompt").await;
    // Straight after the login, maybe in the same second: that login came before this request,
    // so it must not count as the new one prompt=login asks for.
    let mut browser = setup.signed_in().await;
    let (challenge, _) = pkce();
    let url = authorize_url(
        "docs",
        CALLBACK,
        &[
            ("prompt", "login"),
            ("login_hint", "alice"),
            ("ui_locales", "de"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let hops = browser.follow(&url).await;
    let form = &hops[0].reply;
    assert_eq!(form.status, 200, "the form, although a session exists");
    let page = form.text();
    assert!(page.contains("name=\"password\""));
    assert!(
        page.contains("value=\"alice\""),
        "login_hint fills in the name"
    );
    assert!(
        page.contains("lang=\"de\""),
        "ui_locales picks the language"
    );
    // Login times are whole seconds: only a login in a later second than the request counts.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let csrf = hidden_value(&page, "csrf").expect("a csrf field");
    let return_to = hidden_value(&page, "return_to").expect("the way back to authorize");
    let login = absolute(&url, "/login");
    let fields = [
        ("username", "alice"),
        ("password", "alicepw"),
        ("csrf", csrf.as_str()),
        ("return_to", return_to.as_str()),
    ];
    let reply = browser.post(&login, &fields).await;
    let back = reply.header("location").expect("back to authorize");
    let back = absolute(&login, back);
    let params = authorize_as(&mut browser, &back, None, CALLBACK).await;
    assert!(
        param(&params, "code").is_some(),
        "a fresh login satisfies prompt=login: {params:?}"
    );
}

/// A Redis of the test's own, which it can stop without disturbing the other tests.
struct OwnRedis {
    child: std::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl OwnRedis {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server (tests/run installs it)");
        let up = eventually(Duration::from_secs(10), async || {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        })
        .await;
        assert!(up, "the test's own redis-server did not start");
        Self {
            child,
            url: format!("redis://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn endpoints_for_programs_answer_failures_in_json() {
    let mut redis = OwnRedis::start().await;
    let setup = setup_with(|gw| {
        gw.sessions(&format!(
            "store = \"redis\"\n[sessions.redis]\nurl = {:?}\n",
            redis.url
        ))
    })
    .await;
    let mut browser = setup.signed_in().await;
    let tokens = tokens_for_alice(&setup, &mut browser).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();

    // Not a form: the OAuth error shape, not the browser's error page.
    let mut h1 = H1::connect(setup.gw.https, "login.gw.test", &setup.gw.root()).await;
    let req = h1
        .request("POST", "/oidc/token")
        .header("content-type", "application/json")
        .body("{}".into())
        .unwrap();
    let not_a_form = h1.send(req).await;
    assert_eq!(not_a_form.status, 400);
    assert_eq!(not_a_form.header("content-type"), Some("application/json"));
    assert_eq!(not_a_form.json()["error"], "invalid_request");
    let wrong_method = h1.get("/oidc/token").await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.header("allow"), Some("POST"));
    assert_eq!(wrong_method.json()["error"], "invalid_request");

    // The session store goes away: clients are told to retry, in JSON.
    redis.stop();
    let refreshed = refresh_with(&setup, refresh).await;
    assert_eq!(refreshed.status, 503, "{}", refreshed.text());
    assert_eq!(refreshed.json()["error"], "temporarily_unavailable");
    assert_eq!(refreshed.header("retry-after"), Some("5"));
    assert_eq!(refreshed.header("cache-control"), Some("no-store"));
    let access = tokens["access_token"].as_str().unwrap();
    let userinfo = setup.userinfo(access).await;
    assert_eq!(userinfo.status, 503, "{}", userinfo.text());
    assert_eq!(userinfo.json()["error"], "temporarily_unavailable");
    // A service's token needs no store.
    let service = setup.service_token().await;
    assert_eq!(service.status, 200, "{}", service.text());
}

#[tokio::test]
async fn browser_apps_may_call_the_token_endpoint_from_their_own_origin_only() {
    let setup = setup("oidc-cors").await;
    let mut h1 = H1::connect(setup.gw.https, "login.gw.test", &setup.gw.root()).await;
    let preflight = |origin: &str, path: &str| {
        http::Request::builder()
            .method("OPTIONS")
            .uri(path)
            .header("host", "login.gw.test")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .body(Default::default())
            .unwrap()
    };
    // The docs client's redirect URI lives at https://rp.gw.test.
    let ours = h1
        .send(preflight("https://rp.gw.test", "/oidc/token"))
        .await;
    assert_eq!(ours.status, 204);
    assert_eq!(
        ours.header("access-control-allow-origin"),
        Some("https://rp.gw.test")
    );
    assert_eq!(ours.header("access-control-allow-methods"), Some("POST"));
    assert!(ours.header("access-control-allow-credentials").is_none());
    let theirs = h1.send(preflight("https://evil.test", "/oidc/token")).await;
    assert!(
        theirs.header("access-control-allow-origin").is_none(),
        "an unregistered origin gets no permission"
    );
    let introspect = h1
        .send(preflight("https://rp.gw.test", "/oidc/introspect"))
        .await;
    assert_eq!(introspect.status, 405, "introspection is not for browsers");

    // The real call: the app's script may read the answer, an error included.
    let token_call = |origin: &str| {
        http::Request::builder()
            .method("POST")
            .uri("/oidc/token")
            .header("host", "login.gw.test")
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=refresh_token&refresh_token=forged&client_id=cli".into())
            .unwrap()
    };
    let refused = h1.send(token_call("https://rp.gw.test")).await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert_eq!(
        refused.json()["error"],
        "unauthorized_client",
        "cli may not refresh"
    );
    assert_eq!(
        refused.header("access-control-allow-origin"),
        Some("https://rp.gw.test")
    );
    let theirs = h1.send(token_call("https://evil.test")).await;
    assert!(theirs.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn clients_reload_like_policies_and_a_broken_file_keeps_the_last_good_one() {
    let setup = setup("oidc-reload").await;
    let mut browser = setup.signed_in().await;
    let (challenge, _) = pkce();
    let wiki = pkce_url("wiki", "https://wiki.gw.test/cb", &challenge);
    assert_eq!(browser.get(&wiki).await.status, 400, "not registered yet");

    setup
        .gw
        .replace_file("clients.toml", "[[client]]\nid = \"broken\"\n");
    assert!(
        setup
            .gw
            .wait_for_log("reload refused", Duration::from_secs(10))
            .await,
        "the broken file is refused"
    );
    assert!(setup.gw.log().contains("clients.toml"), "naming the file");
    let docs = pkce_url("docs", CALLBACK, &challenge);
    let params = authorize_as(&mut browser, &docs, None, CALLBACK).await;
    assert!(
        param(&params, "code").is_some(),
        "the last good clients stay"
    );

    let added = format!(
        "{}\n[[client]]\nid = \"wiki\"\napp = \"docs\"\npublic = true\nredirect_uris = [\"https://wiki.gw.test/cb\"]\nscopes = [\"openid\", \"profile\"]\n",
        clients(&setup.rp.uri())
    );
    setup.gw.replace_file("clients.toml", added);
    assert!(
        eventually(Duration::from_secs(10), async || {
            browser.get(&wiki).await.status == 302
        })
        .await,
        "the new client is served without a restart"
    );
}

#[tokio::test]
async fn a_client_added_by_pforte_admin_completes_a_code_flow() {
    let setup = setup("oidc-admin-add").await;
    let out = std::process::Command::new(pforte_admin_bin())
        .arg("--config")
        .arg(&setup.gw.config_path)
        .args([
            "clients",
            "add",
            "notes",
            "--app",
            "docs",
            "--redirect-uri",
            "https://notes.gw.test/cb",
            "--scope",
            "openid,profile",
            "--yes",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let secret = stdout
        .lines()
        .find_map(|line| line.strip_prefix("client_secret:"))
        .expect("the secret, printed once")
        .trim()
        .to_owned();

    let mut browser = setup.signed_in().await;
    let (challenge, verifier) = pkce();
    let url = pkce_url("notes", "https://notes.gw.test/cb", &challenge);
    let mut code = None;
    // The gateway picks the edited clients.toml up by its file watch.
    for _ in 0..40 {
        let reply = browser.get(&url).await;
        if let Some(location) = reply.header("location")
            && location.starts_with("https://notes.gw.test/cb")
        {
            let query = location.split_once('?').unwrap().1;
            code = form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let code = code.expect("the new client gets a code once the gateway has reloaded");
    let tokens = setup
        .post(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://notes.gw.test/cb"),
                ("code_verifier", &verifier),
            ],
            Some(("notes", &secret)),
        )
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.text());
    assert_eq!(
        claims_of(tokens.json()["id_token"].as_str().unwrap())["aud"],
        "notes"
    );
}

#[tokio::test]
async fn a_back_channel_logout_the_client_refuses_is_given_up_audited_and_counted() {
    let setup = setup("oidc-backchannel-refused").await;
    // The relying party refuses the token (400): no retry can help.
    setup.rp.refuse_next(1, 400);
    let mut browser = setup.browser();
    let tokens = tokens_for_alice(&setup, &mut browser).await;
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let url = format!(
        "{ISSUER}/oidc/end_session?id_token_hint={id_token}&post_logout_redirect_uri={}",
        form_urlencoded::byte_serialize(b"https://rp.gw.test/bye").collect::<String>()
    );
    assert_eq!(browser.get(&url).await.status, 302);
    let given_up = "pforte_oidc_backchannel_logout_given_up_total";
    assert!(
        eventually(Duration::from_secs(10), async || {
            setup.gw.metric(given_up).await == Some(1.0)
        })
        .await,
        "given up and counted: {:?}",
        setup.gw.metric(given_up).await
    );
    assert_eq!(setup.rp.received().len(), 1, "no retry after a refusal");
    assert!(
        setup
            .gw
            .audit()
            .iter()
            .any(|e| e["event"] == "oidc_backchannel_failed"),
        "audited"
    );
}

#[tokio::test]
async fn a_back_channel_logout_the_client_could_not_take_is_retried_with_a_fresh_token() {
    let setup = setup("oidc-backchannel-retry").await;
    // The relying party is restarting: it answers its first call 503.
    setup.rp.fail_next(1);
    let mut browser = setup.browser();
    let tokens = tokens_for_alice(&setup, &mut browser).await;
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let sid = claims_of(&id_token)["sid"].as_str().unwrap().to_owned();
    let url = format!(
        "{ISSUER}/oidc/end_session?id_token_hint={id_token}&post_logout_redirect_uri={}",
        form_urlencoded::byte_serialize(b"https://rp.gw.test/bye").collect::<String>()
    );
    assert_eq!(browser.get(&url).await.status, 302);

    let success = "pforte_oidc_backchannel_logout_total{result=\"success\"}";
    assert!(
        eventually(Duration::from_secs(10), async || {
            setup.gw.metric(success).await == Some(1.0)
        })
        .await,
        "the retry a second after the 503 is delivered"
    );
    let received = setup.rp.received();
    assert_eq!(received.len(), 2, "one failed call, one retry");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let keyset = pforte_keys::KeyDir::new(setup.gw.path("keys"))
        .load(now)
        .unwrap();
    let options = pforte_keys::VerifyOptions::new(ISSUER, ["docs"]).with_typ("logout+jwt");
    let claims: Vec<serde_json::Value> = received
        .iter()
        .map(|token| keyset.verify(token, &options, now).unwrap())
        .collect();
    for claims in &claims {
        assert_eq!(claims["sid"], sid.as_str());
        assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    }
    assert_ne!(
        claims[0]["jti"], claims[1]["jti"],
        "each attempt signs a fresh token"
    );
    assert_eq!(
        setup
            .gw
            .metric("pforte_oidc_backchannel_logout_total{result=\"error\"}")
            .await,
        Some(1.0)
    );
    assert!(
        !setup
            .gw
            .audit()
            .iter()
            .any(|e| e["event"] == "oidc_backchannel_failed"),
        "a call delivered on retry is not audited as failed"
    );
}
