//! Federation against a provider that lies: each test makes the hostile provider
//! (`pforte_e2e::hostile_idp`) send one bad answer and checks that Pforte refuses it as the
//! federation interface says (400 for a broken or forged answer, 403 for a person it may not let
//! in, 200 with a notice for a provider it cannot reach; never a 5xx), that no session cookie is
//! set, that the page names the problem and that the refusal is audited with its reason. The
//! honest login below shows that the setup itself lets people in, so that no refusal passes for
//! a reason of its own.
//!
//! - `response`: the authorization response (state, binding cookie, RFC 9207 `iss`, `error=`);
//! - `id_token`: the ID token's checks, and the JWKS refetch for a rotated or unknown key;
//! - `people`: an unverified claim for linking, a guest no rule maps;
//! - `unreachable`: a provider that is down at the start or at the callback;
//! - `backchannel`: the provider's back-channel logout, forged and genuine.

use std::cell::Cell;
use std::time::Duration;

use pforte_e2e::browser::Browser;
use pforte_e2e::client::{H1, Reply};
use pforte_e2e::eventually;
use pforte_e2e::gateway::{Gateway, app_toml};
use pforte_e2e::hostile_idp::HostileIdp;
use pforte_e2e::pki::TestCa;
use pforte_e2e::upstream::Upstream;

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
    /// The answer did not pass a check (state, binding, mix-up, the provider's error, the ID
    /// token): `partner_failed`.
    pub const FAILED: &str = "could not be completed safely";
    /// The person may not come in this way (unverified, unmapped): `partner_refused`.
    pub const REFUSED: &str = "may not log in here";
    /// The provider is down: `partner_unreachable`.
    pub const UNREACHABLE: &str = "cannot be reached";
}

/// A gateway in front of `docs` with the demo people, federated with hostile providers.
struct Federation {
    gw: Gateway,
    /// The providers by their id in idps.toml.
    idps: Vec<(String, HostileIdp)>,
    /// How many `federated_login_refused` events earlier checks accounted for.
    refusals_seen: Cell<usize>,
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
        refusals_seen: Cell::new(0),
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

    /// Checks a refusal: its status, a page that `says` what happened, no session, and one new
    /// `federated_login_refused` event, with `reason`.
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
        let seen = self.refusals_seen.get() + 1;
        let audited = eventually(Duration::from_secs(5), async || {
            self.refusals().len() >= seen
        })
        .await;
        let refusals = self.refusals();
        assert!(
            audited && refusals.len() == seen && refusals[seen - 1] == reason,
            "not one new federated_login_refused with reason {reason:?}: {refusals:?}"
        );
        self.refusals_seen.set(seen);
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

/// A person who types a user name of the partner's domain into the login form (here after an
/// app sent them to log in) goes to the partner's provider and, logged in there, lands in the
/// app; the password field is never checked.
#[tokio::test]
async fn a_user_name_of_the_partners_domain_goes_to_the_partner() {
    let guest_with_domain = format!("domains = [\"partner.example\"]\n{GUEST}");
    let f = start(&[("partner", &guest_with_domain)]).await;
    let mut b = f.browser();
    let hops = b.follow(&format!("{DOCS}/")).await;
    let form = hops[0].reply.text();
    let csrf = pforte_e2e::browser::hidden_value(&form, "csrf").unwrap();
    let return_to = pforte_e2e::browser::hidden_value(&form, "return_to").unwrap();
    let handover = pforte_e2e::browser::hidden_value(&form, "handover").unwrap();
    let reply = b
        .post(
            &format!("{LOGIN}/login"),
            &[
                ("username", "Paula@Partner.Example"),
                ("password", "not-checked"),
                ("csrf", &csrf),
                ("return_to", &return_to),
                ("handover", &handover),
            ],
        )
        .await;
    assert_eq!(reply.status, 303, "{}", reply.text());
    let start = pforte_e2e::browser::absolute(LOGIN, reply.header("location").unwrap());
    assert!(
        start.starts_with(&format!("{LOGIN}/federation/partner/start?")),
        "{start}"
    );
    let authorize = b.get(&start).await;
    assert_eq!(authorize.status, 303);
    let authorize = authorize.header("location").unwrap().to_string();
    assert!(
        authorize.contains("login_hint=Paula%40Partner.Example"),
        "{authorize}"
    );
    let callback = f.at_provider(&mut b, "partner", &authorize).await;
    // The hops, the last one first: docs opens with the partner's session.
    let done = b.follow(&callback).await;
    assert_eq!(done[0].reply.status, 200, "{}", done[0].reply.text());
    assert!(done[0].url.starts_with(DOCS), "landed at {}", done[0].url);
}

/// A broken `idps.toml` is refused at reload with its file and line, and the last good
/// providers go on serving; a fixed file applies, and a provider removed from it is gone.
#[tokio::test]
async fn a_broken_providers_file_keeps_the_last_good_providers() {
    let f = partner().await;
    let good = std::fs::read_to_string(f.gw.path("idps.toml")).unwrap();
    f.gw.replace_file(
        "idps.toml",
        good.replace("mode = \"guest\"", "mode = \"trust\""),
    );
    let reply = pforte_e2e::client::plain(f.gw.admin, "POST", "/reload", &[]).await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    assert!(
        reply.text().contains("idps.toml:") && reply.text().contains("mode is"),
        "{}",
        reply.text()
    );
    let mut b = f.browser();
    let still = f.login(&mut b, "partner").await;
    f.assert_logged_in(&mut b, &still).await;

    f.gw.replace_file(
        "idps.toml",
        good.replace("id = \"partner\"", "id = \"renamed\""),
    );
    let reply = pforte_e2e::client::plain(f.gw.admin, "POST", "/reload", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let gone = f
        .browser()
        .get(&format!("{LOGIN}/federation/partner/start"))
        .await;
    assert_eq!(gone.status, 404);
    let page = f.browser().get(&format!("{LOGIN}/login")).await;
    assert!(
        page.text().contains("/federation/renamed/start"),
        "{}",
        page.text()
    );
}

mod backchannel;
mod id_token;
mod people;
mod response;
mod unreachable;
