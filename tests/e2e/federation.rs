//! Federation's happy paths against a provider nobody here wrote: panva's certified
//! `oidc-provider` (tests/upstream-idp), with Pforte as its confidential client. A partner's
//! guest logs in there and gets the local group her upstream group maps to; a directory person
//! logs in there and is herself; the login page offers the provider and sends a partner's
//! domain to it; Pforte's tokens say `fed`; logging out at Pforte goes on to the provider, and
//! logging out at the provider ends Pforte's session by back-channel logout. The demo people
//! file is the directory and the sessions live in memory: no slapd or Redis needed, only Node.

use std::time::Duration;

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use pforte_e2e::browser::{Browser, Hop, absolute, hidden_value};
use pforte_e2e::client::{H1, Reply};
use pforte_e2e::eventually;
use pforte_e2e::gateway::{Gateway, GatewayBuilder, app_toml};
use pforte_e2e::pki::TestCa;
use pforte_e2e::upstream::Upstream;
use pforte_e2e::upstream_idp::{IdpAccount, IdpClient, IdpConfig, UpstreamIdp};

const LOGIN: &str = "https://login.gw.test";
const VIDEO: &str = "https://video.gw.test";
const MAIL: &str = "https://mail.gw.test";

/// Partners see video calls; staff see both apps.
const POLICY: &str = r#"[[rule]]
apps = ["video"]
allow = ["group:partners", "group:staff"]

[[rule]]
apps = ["mail"]
allow = ["group:staff"]
"#;

/// Pforte's client secret at the providers.
const SECRET: &str = "pforte-at-the-partner-0123456789";

/// Paula, a partner ministry's employee: a guest at Pforte.
const PAULA: &str = "paula@partner.example";
const PAULA_PW: &str = "paula-upstream-pw";
const PAULA_SUB: &str = "7f3a9c1e-partner-paula";

/// Carol of the demo directory, with an account at the state administration's provider too.
const CAROL_AT_LAND: &str = "cdanvers";
const CAROL_PW: &str = "carol-upstream-pw";
const CAROL_SUBJECT: &str = "c35642e0-999f-4794-96fc-d00f8b04f5fd";

/// Which provider a test logs in at.
#[derive(Clone, Copy)]
enum Partner {
    /// `partner`: guests, `partner-ministry/staff` → `partners`, domain partner.example, RS256.
    Guests,
    /// `land`: directory people linked by a verified e-mail, domain land.example, ES256.
    Linked,
}

impl Partner {
    fn id(self) -> &'static str {
        match self {
            Self::Guests => "partner",
            Self::Linked => "land",
        }
    }

    fn idps_toml(self, issuer: &str) -> String {
        match self {
            Self::Guests => format!(
                r#"[[idp]]
id = "partner"
name = "Partner ministry"
issuer = "{issuer}"
client_id = "pforte"
client_secret = {{ file = "partner-secret" }}
scopes = ["openid", "profile", "email", "groups"]
domains = ["partner.example"]
mode = "guest"

[idp.guest]
[[idp.guest.rule]]
upstream = "partner-ministry/staff"
local = "partners"
"#
            ),
            Self::Linked => format!(
                r#"[[idp]]
id = "land"
name = "State administration"
issuer = "{issuer}"
client_id = "pforte"
client_secret = {{ file = "land-secret" }}
domains = ["land.example"]
mode = "link"

[idp.link]
claim = "email"
match = "mail"
"#
            ),
        }
    }

    /// The provider with Pforte as its client and this partner's people.
    fn provider(self) -> IdpConfig {
        let config = IdpConfig::new().client(IdpClient::pforte(self.id(), LOGIN, "pforte", SECRET));
        match self {
            Self::Guests => config.account(IdpAccount::new(
                PAULA_SUB,
                PAULA,
                PAULA_PW,
                serde_json::json!({
                    "preferred_username": "paula",
                    "name": "Paula Partner",
                    "email": PAULA,
                    "email_verified": true,
                    "groups": ["partner-ministry/staff", "partner-ministry/all"],
                }),
            )),
            Self::Linked => config.id_token_alg("ES256").account(IdpAccount::new(
                "land-4711",
                CAROL_AT_LAND,
                CAROL_PW,
                serde_json::json!({
                    "preferred_username": CAROL_AT_LAND,
                    "name": "C. Danvers (Land)",
                    "email": "carol@example.org",
                    "email_verified": true,
                }),
            )),
        }
    }
}

struct Setup {
    gw: Gateway,
    idp: UpstreamIdp,
    partner: Partner,
    video: Upstream,
    mail: Upstream,
}

/// A gateway federated with `partner`'s provider (which reaches the gateway's back-channel
/// logout endpoint), apps `video` and `mail`, the demo people, the audit log, and what `more`
/// adds.
async fn start(partner: Partner, more: impl FnOnce(GatewayBuilder) -> GatewayBuilder) -> Setup {
    start_with(partner, partner.provider(), more).await
}

/// [`start`] with the provider configured as `provider` says.
async fn start_with(
    partner: Partner,
    provider: IdpConfig,
    more: impl FnOnce(GatewayBuilder) -> GatewayBuilder,
) -> Setup {
    let video = Upstream::start("video").await;
    let mail = Upstream::start("mail").await;
    let ca = TestCa::new();
    let apps = app_toml(
        "video",
        "video.gw.test",
        "/",
        &[video.url()],
        "display_name = \"Video calls\"",
    ) + &app_toml(
        "mail",
        "mail.gw.test",
        "/",
        &[mail.url()],
        "display_name = \"Team Mail\"",
    );
    let builder = Gateway::builder()
        .apps(apps)
        .policy(POLICY)
        .demo_people()
        .audit_log()
        .file(&format!("{}-secret", partner.id()), format!("{SECRET}\n"))
        .federation(&partner.idps_toml(&provider.issuer()));
    let gw = more(builder).start_with_ca(ca.clone()).await;
    let idp = UpstreamIdp::start(&ca, provider.reach("login.gw.test", gw.https)).await;
    Setup {
        gw,
        idp,
        partner,
        video,
        mail,
    }
}

impl Setup {
    fn browser(&self) -> Browser {
        let mut browser = Browser::new(self.gw.https, self.gw.root());
        self.idp.known_to(&mut browser);
        browser
    }

    fn start_url(&self) -> String {
        format!("{LOGIN}/federation/{}/start", self.partner.id())
    }

    /// Logs in at the provider from Pforte's start page; the hops, the last one first.
    async fn log_in(&self, browser: &mut Browser, login: &str, password: &str) -> Vec<Hop> {
        self.idp
            .log_in_through(browser, &self.start_url(), login, password)
            .await
    }

    fn events(&self, event: &str) -> Vec<serde_json::Value> {
        self.gw
            .audit()
            .into_iter()
            .filter(|e| e["event"] == event)
            .collect()
    }

    /// What the test's servers said, for a failure's message.
    fn logs(&self) -> String {
        format!(
            "--- pforte:\n{}\n--- provider:\n{}",
            self.gw.log(),
            self.idp.log()
        )
    }
}

/// The query parameters of a URL.
fn query(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The first hop (in the order they happened) whose URL begins with `prefix`.
fn hop<'a>(hops: &'a [Hop], prefix: &str) -> &'a Hop {
    hops.iter()
        .rev()
        .find(|h| h.url.starts_with(prefix))
        .unwrap_or_else(|| {
            let urls: Vec<&str> = hops.iter().rev().map(|h| h.url.as_str()).collect();
            panic!("no hop at {prefix}; the way was {urls:#?}")
        })
}

/// A JWT's claims (not verified: the test only reads what the gateway or provider put there).
fn claims_of(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
        .expect("a JSON payload")
}

/// The link of the login page's button for provider `id`, as the browser follows it.
fn federation_button(page: &str, id: &str) -> Option<String> {
    let marker = format!("<a class=\"federation\" href=\"/federation/{id}/start");
    let start = page.find(&marker)? + "<a class=\"federation\" href=\"".len();
    let end = start + page[start..].find('"')?;
    Some(page[start..end].replace("&amp;", "&"))
}

/// A guest's local subject as the spec defines it: `guest-` and base64url(SHA-256(issuer, LF,
/// sub)).
fn guest_subject(issuer: &str, sub: &str) -> String {
    let hash = digest(&SHA256, format!("{issuer}\n{sub}").as_bytes());
    format!("guest-{}", URL_SAFE_NO_PAD.encode(hash.as_ref()))
}

/// A portal page's anti-forgery token.
async fn portal_csrf(browser: &mut Browser) -> String {
    let portal = browser.get(&format!("{LOGIN}/")).await;
    assert_eq!(portal.status, 200, "{}", portal.text());
    hidden_value(&portal.text(), "csrf").expect("the portal's logout form has a csrf field")
}

#[tokio::test]
async fn a_partners_guest_logs_in_at_her_provider_and_gets_the_mapped_group() {
    let s = start(Partner::Guests, |b| b).await;
    let mut b = s.browser();

    // The app sends her to the login page, which offers her provider.
    let hops = b.follow(&format!("{VIDEO}/room/7")).await;
    let login_page = &hops[0];
    assert_eq!(login_page.reply.status, 200, "{}", login_page.reply.text());
    let page = login_page.reply.text();
    assert!(page.contains(">Log in with Partner ministry</a>"), "{page}");
    let start = federation_button(&page, "partner").expect("a button for the partner");
    assert!(start.contains("return_to="), "{start}");

    let hops = s
        .idp
        .log_in_through(&mut b, &absolute(&login_page.url, &start), PAULA, PAULA_PW)
        .await;
    let landed = &hops[0];
    assert_eq!(
        landed.reply.status,
        200,
        "{}\n{}",
        landed.reply.text(),
        s.logs()
    );
    assert_eq!(landed.url, format!("{VIDEO}/room/7"));
    let seen = landed.reply.json();
    assert_eq!(seen["upstream"], "video");
    assert_eq!(
        seen["headers"]["x-forwarded-user"],
        serde_json::json!(["paula@partner"])
    );
    assert_eq!(
        seen["headers"]["x-forwarded-groups"],
        serde_json::json!(["partners"])
    );
    assert_eq!(
        seen["headers"]["x-forwarded-name"],
        serde_json::json!(["Paula Partner"])
    );
    assert_eq!(
        seen["headers"]["x-forwarded-email"],
        serde_json::json!([PAULA])
    );

    // Pforte asked for a code with PKCE (S256), a nonce and a state, and the provider answered
    // with its issuer (RFC 9207).
    let authorize = query(&hop(&hops, &format!("{}/auth?", s.idp.issuer())).url);
    assert_eq!(param(&authorize, "response_type"), Some("code"));
    assert_eq!(param(&authorize, "client_id"), Some("pforte"));
    assert_eq!(
        param(&authorize, "redirect_uri"),
        Some(format!("{LOGIN}/federation/partner/callback").as_str())
    );
    assert_eq!(param(&authorize, "code_challenge_method"), Some("S256"));
    for name in ["code_challenge", "state", "nonce"] {
        assert!(
            param(&authorize, name).is_some_and(|v| v.len() >= 22),
            "{name}: {authorize:?}"
        );
    }
    let scope = param(&authorize, "scope").unwrap_or_default();
    assert!(scope.split(' ').any(|s| s == "groups"), "{scope}");
    let callback = hop(&hops, &format!("{LOGIN}/federation/partner/callback?"));
    assert_eq!(callback.reply.status, 303, "{}", callback.reply.text());
    assert_eq!(param(&query(&callback.url), "iss"), Some(s.idp.issuer()));
    assert!(
        b.cookie("login.gw.test", "__Host-pforte").is_some(),
        "a session at the login host"
    );
    assert!(
        b.cookie("login.gw.test", "__Host-pforte-federation")
            .is_none(),
        "the binding cookie served its one login"
    );

    // Mail is for staff only; the portal shows video calls alone.
    let mail = b.follow(&format!("{MAIL}/")).await;
    assert_eq!(mail[0].reply.status, 403, "{}", mail[0].reply.text());
    assert_eq!(s.mail.count(), 0);
    let portal = b.get(&format!("{LOGIN}/")).await;
    let page = portal.text();
    assert!(
        page.contains("https://video.gw.test/\">Video calls</a>"),
        "{page}"
    );
    assert!(!page.contains("Team Mail"), "{page}");
    assert!(page.contains("Paula Partner"), "{page}");

    let logins = s.events("federated_login");
    assert_eq!(logins.len(), 1, "{logins:?}");
    assert_eq!(logins[0]["provider"], "partner");
    assert_eq!(logins[0]["mode"], "guest");
    assert_eq!(logins[0]["username"], "paula@partner");
    assert_eq!(
        logins[0]["subject"],
        guest_subject(s.idp.issuer(), PAULA_SUB).as_str()
    );
    assert!(s.video.count() >= 1);
}

/// The harness's provider checks passwords (oidc-provider's own dev pages would not): a wrong
/// one leaves the person at its form, and Pforte opens nothing.
#[tokio::test]
async fn a_wrong_password_at_the_provider_opens_no_session_at_pforte() {
    let s = start(Partner::Guests, |b| b).await;
    let mut b = s.browser();
    let hops = s.log_in(&mut b, PAULA, "not-her-password").await;
    let last = &hops[0];
    assert_eq!(last.reply.status, 401, "{}", last.reply.text());
    assert!(s.idp.serves(&last.url), "{}", last.url);
    assert!(last.reply.text().contains("Wrong login or password"));
    assert!(b.cookie("login.gw.test", "__Host-pforte").is_none());
    assert!(s.events("federated_login").is_empty());
}

#[tokio::test]
async fn a_partners_login_hint_or_user_name_goes_straight_to_the_provider() {
    let s = start(Partner::Guests, |b| b).await;
    let mut b = s.browser();

    let hinted = b
        .get(&format!("{LOGIN}/login?login_hint=paula%40partner.example"))
        .await;
    assert_eq!(hinted.status, 303, "{}", hinted.text());
    let start = hinted.header("location").unwrap_or_default().to_owned();
    assert!(start.starts_with("/federation/partner/start?"), "{start}");
    assert_eq!(param(&query(&start), "login_hint"), Some(PAULA));

    // The provider gets the hint and puts it in its login form.
    let hops = s
        .idp
        .log_in_through(&mut b, &absolute(LOGIN, &start), PAULA, PAULA_PW)
        .await;
    let authorize = query(&hop(&hops, &format!("{}/auth?", s.idp.issuer())).url);
    assert_eq!(param(&authorize, "login_hint"), Some(PAULA));
    let form = hop(&hops, &format!("{}/interaction/", s.idp.issuer()));
    assert!(
        form.reply.text().contains(&format!("value=\"{PAULA}\"")),
        "{}",
        form.reply.text()
    );
    assert_eq!(hops[0].url, format!("{LOGIN}/"), "{}", s.logs());
    assert_eq!(hops[0].reply.status, 200);

    // A partner's address typed into the password form goes there too.
    let mut other = s.browser();
    let page = other.get(&format!("{LOGIN}/login")).await.text();
    let csrf = hidden_value(&page, "csrf").expect("a csrf field");
    let typed = other
        .post(
            &format!("{LOGIN}/login"),
            &[("username", PAULA), ("password", ""), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(typed.status, 303, "{}", typed.text());
    let location = typed.header("location").unwrap_or_default();
    assert!(
        location.starts_with("/federation/partner/start?"),
        "{location}"
    );
}

#[tokio::test]
async fn a_linked_person_logs_in_at_the_provider_as_herself() {
    let s = start(Partner::Linked, |b| b).await;
    let mut b = s.browser();
    let hops = s.log_in(&mut b, CAROL_AT_LAND, CAROL_PW).await;
    assert_eq!(hops[0].url, format!("{LOGIN}/"), "{}", s.logs());
    let portal = hops[0].reply.text();
    assert_eq!(hops[0].reply.status, 200, "{portal}");
    // The directory's Carol, not the provider's name for her.
    assert!(portal.contains("Carol Danvers"), "{portal}");
    assert!(
        portal.contains("https://mail.gw.test/\">Team Mail</a>"),
        "{portal}"
    );

    let hops = b.follow(&format!("{MAIL}/inbox")).await;
    assert_eq!(hops[0].reply.status, 200, "{}", hops[0].reply.text());
    let seen = hops[0].reply.json();
    assert_eq!(
        seen["headers"]["x-forwarded-user"],
        serde_json::json!(["carol"])
    );
    assert_eq!(
        seen["headers"]["x-forwarded-groups"],
        serde_json::json!(["finance,staff"])
    );
    assert_eq!(
        seen["headers"]["x-forwarded-email"],
        serde_json::json!(["carol@example.org"])
    );

    let logins = s.events("federated_login");
    assert_eq!(logins.len(), 1, "{logins:?}");
    assert_eq!(logins[0]["provider"], "land");
    assert_eq!(logins[0]["mode"], "link");
    assert_eq!(logins[0]["subject"], CAROL_SUBJECT);
    assert_eq!(logins[0]["username"], "carol");

    // Her next login (another browser, the provider remembers her) is the same person.
    let mut again = s.browser();
    let hops = s.log_in(&mut again, CAROL_AT_LAND, CAROL_PW).await;
    assert_eq!(hops[0].reply.status, 200, "{}", s.logs());
    let logins = s.events("federated_login");
    assert_eq!(logins.len(), 2);
    assert_eq!(logins[1]["subject"], CAROL_SUBJECT);
}

const RP_CALLBACK: &str = "https://rp.gw.test/callback";
const RP_SECRET: &str = "video-rp-secret-0123456789";

#[tokio::test]
async fn the_tokens_pforte_issues_to_a_guest_say_fed() {
    let salt: [u8; 16] = *b"federation-salt!";
    let clients = format!(
        r#"[[client]]
id = "video-rp"
app = "video"
secret_hash = "{hash}"
redirect_uris = ["{RP_CALLBACK}"]
scopes = ["openid", "profile", "email", "groups"]
"#,
        hash = pforte_oidc::clients::SecretHash::create(RP_SECRET, salt).expect("a secret hash")
    );
    let s = start(Partner::Guests, |b| b.oidc(&clients)).await;
    let mut b = s.browser();
    let hops = s.log_in(&mut b, PAULA, PAULA_PW).await;
    assert_eq!(hops[0].reply.status, 200, "{}", s.logs());

    // A code flow of an app of Pforte's own, for the guest's session.
    let verifier = URL_SAFE_NO_PAD.encode([7u8; 32]);
    let challenge = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()).as_ref());
    let mut authorize = form_urlencoded::Serializer::new(String::new());
    authorize
        .append_pair("response_type", "code")
        .append_pair("client_id", "video-rp")
        .append_pair("redirect_uri", RP_CALLBACK)
        .append_pair("scope", "openid profile groups")
        .append_pair("state", "st-fed")
        .append_pair("nonce", "n-fed")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let mut url = format!("{LOGIN}/oidc/authorize?{}", authorize.finish());
    let code = loop {
        let reply = b.get(&url).await;
        let location = reply
            .header("location")
            .unwrap_or_else(|| panic!("stopped at {url}: {} {}", reply.status, reply.text()))
            .to_owned();
        if location.starts_with(RP_CALLBACK) {
            let params = query(&location);
            break param(&params, "code").expect("a code").to_owned();
        }
        url = absolute(&url, &location);
    };
    let tokens = token_request(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", RP_CALLBACK),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(tokens.status, 200, "{}", tokens.text());
    let id_token = claims_of(tokens.json()["id_token"].as_str().expect("an ID token"));
    let amr = id_token["amr"].as_array().expect("amr").clone();
    assert!(amr.iter().any(|m| m == "fed"), "{id_token}");
    assert_eq!(
        id_token["sub"],
        guest_subject(s.idp.issuer(), PAULA_SUB).as_str()
    );
    assert_eq!(id_token["preferred_username"], "paula@partner");
    assert_eq!(id_token["groups"], serde_json::json!(["partners"]));
}

/// A token request of `video-rp` with its secret (HTTP Basic).
async fn token_request(s: &Setup, form: &[(&str, &str)]) -> Reply {
    let mut h1 = H1::connect(s.gw.https, "login.gw.test", &s.gw.root()).await;
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter())
        .finish();
    let basic = STANDARD.encode(format!("video-rp:{RP_SECRET}"));
    let req = h1
        .request("POST", "/oidc/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", format!("Basic {basic}"))
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .expect("a token request");
    h1.send(req).await
}

#[tokio::test]
async fn logging_out_at_pforte_goes_on_to_the_providers_logout() {
    let s = start(Partner::Guests, |b| b).await;
    let mut b = s.browser();
    let hops = s.log_in(&mut b, PAULA, PAULA_PW).await;
    assert_eq!(hops[0].reply.status, 200, "{}", s.logs());

    let csrf = portal_csrf(&mut b).await;
    let out = b.post(&format!("{LOGIN}/logout"), &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303, "{}", out.text());
    let location = out.header("location").unwrap_or_default().to_owned();
    assert!(
        location.starts_with(&format!("{}/session/end?", s.idp.issuer())),
        "{location}"
    );
    let params = query(&location);
    assert_eq!(param(&params, "client_id"), Some("pforte"));
    assert_eq!(
        param(&params, "post_logout_redirect_uri"),
        Some(format!("{LOGIN}/federation/partner/logged-out").as_str())
    );
    let hint = claims_of(param(&params, "id_token_hint").expect("an id_token_hint"));
    assert_eq!(hint["iss"], s.idp.issuer());
    assert_eq!(hint["sub"], PAULA_SUB);
    // Pforte's session ended before the browser left.
    assert_eq!(b.get(&format!("{LOGIN}/")).await.status, 303);
    assert_eq!(b.get(&format!("{VIDEO}/")).await.status, 302);

    // The provider asks, signs her out, tells Pforte by back-channel (nothing left to end)
    // and sends her back through Pforte's logged-out page to the login page.
    let page = b.get(&location).await;
    let hops = s.idp.confirm_logout(&mut b, &location, page).await;
    assert_eq!(hops[0].url, format!("{LOGIN}/login"), "{}", s.logs());
    assert_eq!(hops[0].reply.status, 200);
    hop(&hops, &format!("{LOGIN}/federation/partner/logged-out"));
    assert!(
        s.idp
            .wait_for_log("back-channel logout to pforte: ok", Duration::from_secs(5))
            .await,
        "{}",
        s.logs()
    );

    // Signed out there too: the next login asks for her password again.
    let hops = s.log_in(&mut b, PAULA, PAULA_PW).await;
    let form = hop(&hops, &format!("{}/interaction/", s.idp.issuer()));
    assert!(form.reply.text().contains("type=\"password\""));
    assert_eq!(hops[0].reply.status, 200, "{}", s.logs());
}

#[tokio::test]
async fn the_providers_back_channel_logout_ends_the_session_at_pforte() {
    let s = start(Partner::Guests, |b| b).await;
    let mut b = s.browser();
    let hops = s.log_in(&mut b, PAULA, PAULA_PW).await;
    assert_eq!(hops[0].reply.status, 200, "{}", s.logs());
    let video = b.follow(&format!("{VIDEO}/")).await;
    assert_eq!(video[0].reply.status, 200);

    // She signs out at her provider, which tells Pforte.
    let hops = s.idp.log_out(&mut b).await;
    assert_eq!(hops[0].reply.status, 200, "{}", hops[0].reply.text());
    assert!(
        s.idp
            .wait_for_log("back-channel logout to pforte: ok", Duration::from_secs(5))
            .await,
        "{}",
        s.logs()
    );
    assert!(
        eventually(Duration::from_secs(5), async || {
            b.get(&format!("{LOGIN}/")).await.status == 303
        })
        .await,
        "the login host's session still works\n{}",
        s.logs()
    );
    assert!(
        eventually(Duration::from_secs(5), async || {
            b.get(&format!("{VIDEO}/")).await.status == 302
        })
        .await,
        "the app host's session still works"
    );
    let logouts = s.events("federated_logout");
    assert_eq!(logouts.len(), 1, "{logouts:?}");
    assert_eq!(logouts[0]["provider"], "partner");
    assert_eq!(logouts[0]["sessions"], 1);
}

/// oidc-provider's default: profile, e-mail and groups only at userinfo, none in the ID token.
/// Pforte reads them there with the access token, so the guest still gets her mapped group.
#[tokio::test]
async fn claims_the_id_token_leaves_out_are_read_at_userinfo() {
    let provider = Partner::Guests.provider().claims_in_id_token(false);
    let s = start_with(Partner::Guests, provider, |b| b).await;
    let mut b = s.browser();
    let hops = s.log_in(&mut b, PAULA, PAULA_PW).await;
    assert_eq!(
        hops[0].reply.status,
        200,
        "{}\n{}",
        hops[0].reply.text(),
        s.logs()
    );
    let video = b.follow(&format!("{VIDEO}/")).await;
    assert_eq!(video[0].reply.status, 200, "{}", video[0].reply.text());
    let seen = video[0].reply.json();
    assert_eq!(seen["upstream"], "video");
    let logins = s.events("federated_login");
    assert_eq!(logins.len(), 1, "{logins:?}");
    assert_eq!(logins[0]["username"], "paula@partner");
}
