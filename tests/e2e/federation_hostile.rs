//! Federation against a provider that lies: each test makes the hostile provider
//! (`pforte_e2e::hostile_idp`) send one bad answer and checks that Pforte refuses it as the
//! federation interface says (400 for a broken or forged answer, 403 for a person it may not let
//! in, 200 with a notice for a provider it cannot reach; never a 5xx), that no session cookie is
//! set, that the page names the problem and that the refusal is audited with its reason. One
//! honest login first shows that the setup itself lets people in, so that no refusal below passes
//! for a reason of its own. The back-channel logout endpoint is attacked the same way.

use std::time::Duration;

use pforte_e2e::browser::Browser;
use pforte_e2e::client::{H1, Reply};
use pforte_e2e::eventually;
use pforte_e2e::gateway::{Gateway, app_toml};
use pforte_e2e::hostile_idp::{Field, HostileIdp, Signer};
use pforte_e2e::pki::TestCa;
use pforte_e2e::upstream::Upstream;
use serde_json::json;

const LOGIN: &str = "https://login.gw.test";
const DOCS: &str = "https://docs.gw.test";
const SESSION_COOKIE: &str = "__Host-pforte";
const BINDING_COOKIE: &str = "__Host-pforte-federation";
const CLIENT_ID: &str = "pforte";

/// Partners and staff may use docs.
const POLICY: &str = "[[rule]]\napps = [\"docs\"]\nallow = [\"group:partners\", \"group:staff\"]\n";

/// A guest provider: the ministry's staff become partners; no default group.
const GUEST: &str = "mode = \"guest\"\n[idp.guest]\n[[idp.guest.rule]]\n\
    upstream = \"partner-ministry/staff\"\nlocal = \"partners\"\n";

/// A provider whose users are people of the directory, found by their verified e-mail.
const LINK: &str = "mode = \"link\"\n[idp.link]\nclaim = \"email\"\nmatch = \"mail\"\n";

/// Stable parts of the refusal pages' texts (gateway/src/web/texts.rs), one per class.
mod says {
    /// The login went wrong on the way (state, binding, mix-up, the provider's error).
    pub const START_AGAIN: &str = "start the login again";
    /// The provider's answer did not pass the checks (ID token).
    pub const NOT_ACCEPTED: &str = "could not be accepted";
    /// The person may not come in this way (unverified, unmapped).
    pub const NOT_ALLOWED: &str = "not allowed";
    /// The provider is down.
    pub const UNREACHABLE: &str = "cannot be reached";
}

/// A gateway in front of `docs` with the demo people, federated with hostile providers.
struct Federation {
    gw: Gateway,
    /// The providers by their id in idps.toml.
    idps: Vec<(String, HostileIdp)>,
    _docs: Upstream,
    _dir: tempfile::TempDir,
}

/// Starts one hostile provider per `(id, mode table)` and a gateway federated with them.
async fn start(providers: &[(&str, &str)]) -> Federation {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let docs = Upstream::start("docs").await;
    let mut idps = Vec::new();
    let mut builder = Gateway::builder()
        .apps(app_toml("docs", "docs.gw.test", "/", &[docs.url()], ""))
        .policy(POLICY)
        .demo_people()
        .audit_log();
    let mut table = String::new();
    for (id, mode) in providers {
        let secret = format!("{id}-client-secret-0123456789");
        let idp = HostileIdp::start(&ca, dir.path(), CLIENT_ID, &secret).await;
        table.push_str(&idp_toml(id, &idp.issuer(), mode));
        builder = builder.file(&format!("{id}-secret"), format!("{secret}\n"));
        idps.push((id.to_string(), idp));
    }
    let gw = builder.federation(&table).start_with_ca(ca).await;
    Federation {
        gw,
        idps,
        _docs: docs,
        _dir: dir,
    }
}

/// The `[[idp]]` table of provider `id` at `issuer`, then its `mode` and mode table.
fn idp_toml(id: &str, issuer: &str, mode: &str) -> String {
    format!(
        "[[idp]]\nid = \"{id}\"\nname = \"{id} ministry\"\nissuer = \"{issuer}\"\n\
         client_id = \"{CLIENT_ID}\"\nclient_secret = {{ file = \"{id}-secret\" }}\n\
         scopes = [\"openid\", \"profile\", \"email\", \"groups\"]\n{mode}\n"
    )
}

/// A guest provider `partner`, the one most tests lie through.
async fn partner() -> Federation {
    start(&[("partner", GUEST)]).await
}

impl Federation {
    fn idp(&self, id: &str) -> &HostileIdp {
        &self.idps.iter().find(|(name, _)| name == id).unwrap().1
    }

    fn browser(&self) -> Browser {
        Browser::new(self.gw.https, self.gw.root())
    }

    /// Starts a login at provider `id`: the provider's authorization URL Pforte sends the
    /// browser to (with the binding cookie set).
    async fn start_login(&self, b: &mut Browser, id: &str) -> String {
        let started = b.get(&format!("{LOGIN}/federation/{id}/start")).await;
        assert_eq!(started.status, 303, "{}\n{}", started.text(), self.gw.log());
        assert!(b.cookie("login.gw.test", BINDING_COOKIE).is_some());
        let location = started.header("location").unwrap().to_string();
        assert!(
            location.starts_with(&format!("{}/authorize?", self.idp(id).issuer())),
            "{location}"
        );
        location
    }

    /// The browser at provider `id`'s authorization URL: where the provider sends it back.
    async fn at_provider(&self, b: &mut Browser, id: &str, authorize: &str) -> String {
        b.elsewhere.insert("127.0.0.1".into(), self.idp(id).addr());
        let answer = b.get(authorize).await;
        assert_eq!(
            answer.status,
            302,
            "the provider refused: {}",
            answer.text()
        );
        let callback = answer.header("location").unwrap().to_string();
        assert!(
            callback.starts_with(LOGIN) && callback.contains("/callback?"),
            "{callback}"
        );
        callback
    }

    /// A login at provider `id` up to the callback URL the provider sends the browser to.
    async fn to_callback(&self, b: &mut Browser, id: &str) -> String {
        let authorize = self.start_login(b, id).await;
        self.at_provider(b, id, &authorize).await
    }

    /// A whole login at provider `id`: the callback's answer.
    async fn login(&self, b: &mut Browser, id: &str) -> Reply {
        let callback = self.to_callback(b, id).await;
        b.get(&callback).await
    }

    /// The reasons of the `federated_login_refused` events so far.
    fn refusals(&self) -> Vec<String> {
        self.events("federated_login_refused")
            .iter()
            .map(|e| e["reason"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    fn events(&self, event: &str) -> Vec<serde_json::Value> {
        self.gw
            .audit()
            .into_iter()
            .filter(|e| e["event"] == event)
            .collect()
    }

    /// Checks a refusal: its status, a page that `says` what happened, no session, and one
    /// `federated_login_refused` event with `reason` for provider `id`.
    async fn assert_refused(
        &self,
        b: &Browser,
        reply: &Reply,
        status: u16,
        says: &str,
        reason: &str,
    ) {
        let page = reply.text();
        assert_eq!(reply.status, status, "{page}\n{}", self.gw.log());
        assert_no_session(b, reply);
        assert!(
            page.to_lowercase().contains(&says.to_lowercase()),
            "the page does not say {says:?}:\n{page}"
        );
        let audited = eventually(Duration::from_secs(5), async || {
            self.refusals().iter().any(|r| r == reason)
        })
        .await;
        assert!(
            audited,
            "no federated_login_refused with reason {reason:?}: {:?}",
            self.events("federated_login_refused")
        );
        assert!(self.events("federated_login").is_empty());
    }

    /// Checks a login: a 303 onwards, the session cookie, and docs open with it.
    async fn assert_logged_in(&self, b: &mut Browser, reply: &Reply) {
        assert_eq!(reply.status, 303, "{}\n{}", reply.text(), self.gw.log());
        assert!(b.cookie("login.gw.test", SESSION_COOKIE).is_some());
        let docs = b.follow(&format!("{DOCS}/")).await;
        assert_eq!(docs[0].reply.status, 200, "{}", docs[0].reply.text());
    }

    /// POSTs a back-channel logout token for provider `id`, as the provider does.
    async fn backchannel(&self, id: &str, token: &str) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("logout_token", token)
            .finish();
        let mut h1 = H1::connect(self.gw.https, "login.gw.test", &self.gw.root()).await;
        let req = h1
            .request("POST", &format!("/federation/{id}/backchannel-logout"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.into())
            .unwrap();
        h1.send(req).await
    }
}

/// Neither the reply set a session cookie nor does the browser hold one.
fn assert_no_session(b: &Browser, reply: &Reply) {
    let set = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| {
            let (name, value) = c.split(';').next().unwrap().split_once('=').unwrap();
            name.trim() == SESSION_COOKIE && !value.is_empty() && !c.contains("Max-Age=0")
        });
    assert_eq!(set, None, "a refusal set a session cookie");
    assert_eq!(b.cookie("login.gw.test", SESSION_COOKIE), None);
}

#[tokio::test]
async fn an_honest_provider_lets_its_guest_in() {
    let f = partner().await;
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_logged_in(&mut b, &reply).await;
    let asked = &f.idp("partner").authorizations()[0];
    assert!(asked["redirect_uri"].ends_with("/federation/partner/callback"));
    assert!(f.idp("partner").token_refusals().is_empty());
    let logins = f.events("federated_login");
    assert_eq!(logins.len(), 1, "{logins:?}");
    assert_eq!(logins[0]["username"], "paula@partner");
}

// The ID token.

#[tokio::test]
async fn an_id_token_from_another_issuer_is_refused() {
    let f = partner().await;
    f.idp("partner")
        .set(|s| s.issuer = Field::Forged("https://127.0.0.1:1".into()));
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::NOT_ACCEPTED, "id_token")
        .await;
}

#[tokio::test]
async fn an_id_token_for_another_audience_is_refused() {
    let f = partner().await;
    f.idp("partner")
        .set(|s| s.audience = Field::Forged("another-client".into()));
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::NOT_ACCEPTED, "id_token")
        .await;
}

#[tokio::test]
async fn an_id_token_with_a_bad_signature_is_refused() {
    let f = partner().await;
    f.idp("partner").set(|s| s.signer = Signer::BadSignature);
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::NOT_ACCEPTED, "id_token")
        .await;
}

#[tokio::test]
async fn an_unsigned_id_token_is_refused() {
    let f = partner().await;
    f.idp("partner").set(|s| s.signer = Signer::AlgNone);
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::NOT_ACCEPTED, "id_token")
        .await;
}

#[tokio::test]
async fn an_id_token_by_an_unknown_key_is_refused_after_one_refetch_at_most() {
    let f = partner().await;
    let idp = f.idp("partner");
    idp.set(|s| s.signer = Signer::UnknownKey);
    let mut b = f.browser();
    let callback = f.to_callback(&mut b, "partner").await;
    let before = idp.jwks_fetches();
    let reply = b.get(&callback).await;
    f.assert_refused(&b, &reply, 400, says::NOT_ACCEPTED, "id_token")
        .await;
    let during = idp.jwks_fetches() - before;
    // One fetch when none was cached yet, then the one refetch an unknown kid is worth.
    assert!(
        (1..=2).contains(&idp.jwks_fetches()) && during <= 2,
        "{during} JWKS fetches during the callback, {} in all",
        idp.jwks_fetches()
    );
    // Another token by an unknown key costs at most one more fetch: the provider cannot be
    // made to hammer its own JWKS through Pforte.
    let mut again = f.browser();
    let callback = f.to_callback(&mut again, "partner").await;
    let before = idp.jwks_fetches();
    let reply = again.get(&callback).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(idp.jwks_fetches() - before <= 1);
}

#[tokio::test]
async fn a_rotated_key_is_accepted_after_exactly_one_refetch() {
    let f = partner().await;
    let idp = f.idp("partner");
    let mut b = f.browser();
    let first = f.login(&mut b, "partner").await;
    f.assert_logged_in(&mut b, &first).await;
    let fetched = idp.jwks_fetches();
    assert!(fetched >= 1);

    idp.rotate_key();
    let mut other = f.browser();
    let second = f.login(&mut other, "partner").await;
    f.assert_logged_in(&mut other, &second).await;
    assert_eq!(
        idp.jwks_fetches(),
        fetched + 1,
        "one refetch for the new kid"
    );

    // The new key is cached now.
    let mut third = f.browser();
    let reply = f.login(&mut third, "partner").await;
    f.assert_logged_in(&mut third, &reply).await;
    assert_eq!(idp.jwks_fetches(), fetched + 1);
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    let f = partner().await;
    f.idp("partner").set(|s| s.expires_in = -3600);
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::NOT_ACCEPTED, "id_token")
        .await;
}

#[tokio::test]
async fn an_id_token_without_the_nonce_is_refused() {
    let f = partner().await;
    f.idp("partner").set(|s| s.nonce = Field::Omitted);
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::NOT_ACCEPTED, "id_token")
        .await;
}

#[tokio::test]
async fn an_id_token_with_another_logins_nonce_is_refused() {
    let f = partner().await;
    let idp = f.idp("partner");
    // The nonce of an earlier login of the same browser: a token replayed into a new login.
    let mut b = f.browser();
    let old_nonce = form_nonce(&f.start_login(&mut b, "partner").await);
    let authorize = f.start_login(&mut b, "partner").await;
    assert_ne!(form_nonce(&authorize), old_nonce);
    idp.set(|s| s.nonce = Field::Forged(old_nonce));
    let callback = f.at_provider(&mut b, "partner", &authorize).await;
    let reply = b.get(&callback).await;
    f.assert_refused(&b, &reply, 400, says::NOT_ACCEPTED, "id_token")
        .await;
}

/// The `nonce` of an authorization URL.
fn form_nonce(authorize: &str) -> String {
    let query = authorize.split_once('?').unwrap().1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "nonce")
        .map(|(_, v)| v.into_owned())
        .expect("the authorization request carries a nonce")
}

// The authorization response.

#[tokio::test]
async fn a_callback_used_twice_is_refused() {
    let f = partner().await;
    let mut b = f.browser();
    let callback = f.to_callback(&mut b, "partner").await;
    // An attacker who saw the callback URL and holds the binding cookie too.
    let mut thief = b.at(f.gw.https, f.gw.root());
    let first = b.get(&callback).await;
    f.assert_logged_in(&mut b, &first).await;
    let replayed = thief.get(&callback).await;
    let page = replayed.text();
    assert_eq!(replayed.status, 400, "{page}");
    assert_no_session(&thief, &replayed);
    assert!(page.to_lowercase().contains(says::START_AGAIN), "{page}");
    let audited = eventually(Duration::from_secs(5), async || {
        f.refusals().iter().any(|r| r == "state")
    })
    .await;
    assert!(audited, "{:?}", f.refusals());
    assert_eq!(f.events("federated_login").len(), 1);
}

#[tokio::test]
async fn a_callback_without_state_is_refused() {
    let f = partner().await;
    f.idp("partner").set(|s| s.state = Field::Omitted);
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::START_AGAIN, "state")
        .await;
}

#[tokio::test]
async fn a_callback_with_a_made_up_state_is_refused() {
    let f = partner().await;
    f.idp("partner")
        .set(|s| s.state = Field::Forged("made-up-state-0123456789".into()));
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::START_AGAIN, "state")
        .await;
}

#[tokio::test]
async fn a_callback_in_another_browser_is_refused() {
    let f = partner().await;
    let mut victim = f.browser();
    let callback = f.to_callback(&mut victim, "partner").await;
    // Login CSRF: the attacker's callback URL opened in a browser that never started it.
    let mut other = f.browser();
    let reply = other.get(&callback).await;
    assert!(other.cookie("login.gw.test", BINDING_COOKIE).is_none());
    f.assert_refused(&other, &reply, 400, says::START_AGAIN, "binding")
        .await;
}

#[tokio::test]
async fn a_response_without_iss_is_refused() {
    let f = partner().await;
    f.idp("partner").set(|s| s.iss = Field::Omitted);
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::START_AGAIN, "issuer_mixup")
        .await;
    assert!(f.idp("partner").token_refusals().is_empty());
}

#[tokio::test]
async fn a_response_naming_the_other_provider_is_refused_before_the_code_is_used() {
    let f = start(&[("partner", GUEST), ("rival", GUEST)]).await;
    let rival = f.idp("rival").issuer();
    f.idp("partner").set(|s| s.iss = Field::Forged(rival));
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::START_AGAIN, "issuer_mixup")
        .await;
    // Nobody was sent the code.
    assert!(f.idp("partner").token_refusals().is_empty());
    assert!(f.idp("rival").token_refusals().is_empty());
}

#[tokio::test]
async fn an_error_from_the_provider_is_refused_and_its_description_not_trusted() {
    let f = partner().await;
    f.idp("partner").set(|s| {
        s.error = Some("access_denied".into());
        s.error_description = Some("<script>alert(1)</script>".into());
    });
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_refused(&b, &reply, 400, says::START_AGAIN, "provider_error")
        .await;
    assert!(
        !reply.text().contains("<script>alert(1)"),
        "{}",
        reply.text()
    );
}

// Who may come in.

#[tokio::test]
async fn an_unverified_email_does_not_link_to_a_person() {
    let f = start(&[("kin", LINK)]).await;
    let idp = f.idp("kin");
    // (The string "true" is left out: the spec asks for JSON true, pforte-federation's
    // LinkRule also takes the string some providers send.)
    for verified in [json!(false), json!("false"), serde_json::Value::Null] {
        idp.set(|s| {
            s.email = Some("carol@example.org".into());
            s.email_verified = (!verified.is_null()).then(|| verified.clone());
        });
        let mut b = f.browser();
        let reply = f.login(&mut b, "kin").await;
        f.assert_refused(&b, &reply, 403, says::NOT_ALLOWED, "unverified")
            .await;
    }
    // The same e-mail, verified, is carol.
    idp.set(|s| s.email_verified = Some(json!(true)));
    let mut b = f.browser();
    let reply = f.login(&mut b, "kin").await;
    f.assert_logged_in(&mut b, &reply).await;
    assert_eq!(f.events("federated_login")[0]["username"], "carol");
}

#[tokio::test]
async fn a_guest_with_no_mapped_group_and_no_default_is_refused() {
    let f = partner().await;
    let idp = f.idp("partner");
    for groups in [
        Some(vec!["elsewhere/visitors".to_string()]),
        Some(vec![]),
        None,
    ] {
        idp.set(|s| s.groups = groups.clone());
        let mut b = f.browser();
        let reply = f.login(&mut b, "partner").await;
        f.assert_refused(&b, &reply, 403, says::NOT_ALLOWED, "unmapped")
            .await;
    }
}

// A provider that is not there.

#[tokio::test]
async fn a_provider_down_at_the_callback_gets_a_notice_not_an_error() {
    let f = partner().await;
    let mut b = f.browser();
    let callback = f.to_callback(&mut b, "partner").await;
    f.idp("partner").down().await;
    let reply = b.get(&callback).await;
    f.assert_refused(&b, &reply, 200, says::UNREACHABLE, "unreachable")
        .await;
}

#[tokio::test]
async fn a_provider_down_from_the_start_gets_a_notice_until_it_is_back() {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let secret = "partner-client-secret-0123456789";
    let idp = HostileIdp::start(&ca, dir.path(), CLIENT_ID, secret).await;
    idp.down().await;
    let gw = Gateway::builder()
        .demo_people()
        .audit_log()
        .file("partner-secret", format!("{secret}\n"))
        .federation(&idp_toml("partner", &idp.issuer(), GUEST))
        .start_with_ca(ca)
        .await;
    let mut b = Browser::new(gw.https, gw.root());
    // The login page still shows, with the provider's button.
    let page = b.get(&format!("{LOGIN}/login")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("/federation/partner/start"));

    let started = b.get(&format!("{LOGIN}/federation/partner/start")).await;
    let text = started.text();
    assert_eq!(started.status, 200, "{text}\n{}", gw.log());
    assert!(text.to_lowercase().contains(says::UNREACHABLE), "{text}");
    assert_no_session(&b, &started);

    idp.up().await;
    let back = eventually(Duration::from_secs(10), async || {
        b.get(&format!("{LOGIN}/federation/partner/start"))
            .await
            .status
            == 303
    })
    .await;
    assert!(
        back,
        "the provider is back but the start still fails:\n{}",
        gw.log()
    );
}

// Back-channel logout.

#[tokio::test]
async fn backchannel_logout_refuses_bad_tokens_and_ends_the_session_on_a_good_one() {
    let f = partner().await;
    let idp = f.idp("partner");
    let mut b = f.browser();
    let reply = f.login(&mut b, "partner").await;
    f.assert_logged_in(&mut b, &reply).await;

    let mut wrong_audience = idp.logout_claims();
    wrong_audience["aud"] = json!("another-client");
    let mut no_events = idp.logout_claims();
    no_events.as_object_mut().unwrap().remove("events");
    let mut with_nonce = idp.logout_claims();
    with_nonce["nonce"] = json!("a logout token must not carry one");
    let bad = [
        (
            "a bad signature",
            idp.sign_logout(&idp.logout_claims(), Signer::BadSignature),
        ),
        (
            "an unknown key",
            idp.sign_logout(&idp.logout_claims(), Signer::UnknownKey),
        ),
        (
            "alg none",
            idp.sign_logout(&idp.logout_claims(), Signer::AlgNone),
        ),
        (
            "another audience",
            idp.sign_logout(&wrong_audience, Signer::Genuine),
        ),
        ("no events", idp.sign_logout(&no_events, Signer::Genuine)),
        ("a nonce", idp.sign_logout(&with_nonce, Signer::Genuine)),
        ("not a JWT", "not-a-token".to_owned()),
    ];
    for (what, token) in &bad {
        let refused = f.backchannel("partner", token).await;
        assert_eq!(refused.status, 400, "{what}: {}", refused.text());
        assert!(refused.json()["error"].is_string(), "{what}");
        // The session lives on.
        assert_eq!(b.get(&format!("{DOCS}/")).await.status, 200, "after {what}");
    }
    assert!(f.events("federated_logout").is_empty());

    let ended = f.backchannel("partner", &idp.logout_token()).await;
    assert_eq!(ended.status, 200, "{}", ended.text());
    assert_eq!(b.get(&format!("{DOCS}/")).await.status, 302);
    assert_eq!(b.get(&format!("{LOGIN}/")).await.status, 303);
    let logouts = f.events("federated_logout");
    assert_eq!(logouts.len(), 1, "{logouts:?}");
    assert_eq!(logouts[0]["provider"], "partner");
    assert_eq!(logouts[0]["sessions"], 1);
}
