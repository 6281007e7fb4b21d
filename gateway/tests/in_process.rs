//! The gateway in-process: `assemble` a gateway from files in a temporary folder with a manual
//! clock, hand requests straight to `pipeline::handle`, and move the clock instead of sleeping.
//! Nothing is bound and no binary runs, so these tests take milliseconds; the e2e suite proves
//! the same paths over TLS against real servers.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use pforte::pipeline::{self, ConnInfo};
use pforte::proxy::body::BoxError;
use pforte::reload::Reloader;
use pforte::state::Shared;
use pforte::telemetry::activity::Activity;
use pforte_session::{Clock, Timestamp};

const LOGIN: &str = "login.gw.test";
const CALLBACK: &str = "https://rp.gw.test/callback";
const VERIFIER: &str = "an-in-process-pkce-verifier-that-is-long-enough-0123456789";

/// A gateway assembled from its files, with the clock the test moves.
struct InProcess {
    shared: Arc<Shared>,
    clock: Clock,
    dir: tempfile::TempDir,
}

/// What a request got back.
struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The value of a cookie this answer sets.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next()?.split_once('='))
            .find(|(n, v)| *n == name && !v.is_empty())
            .map(|(_, v)| v.to_string())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

impl InProcess {
    async fn start() -> Self {
        Self::start_with("").await
    }

    /// A gateway whose `gateway.toml` ends with `extra`, and a sealing key in `mfa.key`.
    async fn start_with(extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write(
            "gateway.toml",
            &format!(
                "[server]\nlisten = [\"127.0.0.1:1\"]\npublic_https_port = 443\n\
             [admin]\nlisten = \"127.0.0.1:2\"\n\
             [[tls.certificates]]\ncert = \"tls/demo.crt\"\nkey = \"tls/demo.key\"\n\
             [portal]\nhost = \"login.gw.test\"\n\
             [apps]\nfile = \"apps.toml\"\n[policy]\nfile = \"policy.toml\"\n\
             [directory]\nbackend = \"file\"\nfile = \"people.toml\"\n\
             [keys]\ndir = \"keys\"\n[oidc]\nclients = \"clients.toml\"\n{extra}"
            ),
        );
        write("mfa.key", &"ab".repeat(32));
        write(
            "apps.toml",
            "[[app]]\nname = \"docs\"\nhosts = [\"docs.gw.test\"]\nupstreams = [\"http://127.0.0.1:3\"]\n",
        );
        write(
            "policy.toml",
            "[[rule]]\napps = [\"docs\"]\nallow = [\"group:staff\"]\n",
        );
        write(
            "people.toml",
            include_str!("../../directory/demo-people.toml"),
        );
        write(
            "clients.toml",
            &format!(
                "[[client]]\nid = \"rp\"\napp = \"docs\"\npublic = true\nredirect_uris = [\"{CALLBACK}\"]\nscopes = [\"openid\", \"profile\"]\n"
            ),
        );
        pforte::demo::cert::ensure(dir.path(), &[LOGIN.to_string(), "docs.gw.test".to_string()])
            .unwrap();
        let start = Timestamp::from_unix_secs(1_800_000_000);
        let keys = pforte_keys::KeyDir::new(dir.path().join("keys"));
        keys.generate(pforte_keys::KeySpec::Es256, start.unix_secs())
            .unwrap();
        let clock = Clock::manual(start);
        let shared = pforte::assemble::assemble(&dir.path().join("gateway.toml"), clock.clone())
            .await
            .unwrap();
        Self { shared, clock, dir }
    }

    /// An admin request from the loopback (no admin token is configured).
    async fn admin(&self, method: &str, path_and_query: &str) -> (u16, String) {
        let reloader = Reloader::new(self.shared.clone(), self.dir.path().join("gateway.toml"));
        let req = Request::builder()
            .method(method)
            .uri(path_and_query)
            .body(())
            .unwrap();
        let peer: SocketAddr = "127.0.0.1:40001".parse().unwrap();
        let response = pforte::admin::handle(&self.shared, &reloader, peer, req).await;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// Sends `req` through the pipeline, as the server would from 192.0.2.10.
    async fn send(&self, req: Request<BoxBody<Bytes, BoxError>>) -> Answer {
        let peer: SocketAddr = "192.0.2.10:40000".parse().unwrap();
        let conn = Arc::new(ConnInfo {
            peer,
            activity: Activity::new(),
        });
        let response: Response<_> = pipeline::handle(self.shared.clone(), conn, req).await;
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        Answer {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, host: &str, path_and_query: &str, cookie: Option<&str>) -> Answer {
        let mut req = Request::get(format!("https://{host}{path_and_query}"));
        if let Some(cookie) = cookie {
            req = req.header(header::COOKIE, cookie);
        }
        self.send(req.body(empty()).unwrap()).await
    }

    async fn post_form(
        &self,
        host: &str,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> Answer {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut req = Request::post(format!("https://{host}{path}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, format!("https://{host}"));
        if let Some(cookie) = cookie {
            req = req.header(header::COOKIE, cookie);
        }
        self.send(req.body(full(body)).unwrap()).await
    }

    /// Logs `username` in through the form; returns the session cookie's value.
    async fn log_in(&self, username: &str) -> String {
        let form = self.get(LOGIN, "/login", None).await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.cookie("__Host-pforte-csrf").expect("a form cookie");
        let password = format!("{username}pw");
        let posted = self
            .post_form(
                LOGIN,
                "/login",
                Some(&format!("__Host-pforte-csrf={csrf}")),
                &[
                    ("username", username),
                    ("password", &password),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(posted.status, 303, "{}", posted.body);
        posted.cookie("__Host-pforte").expect("a session cookie")
    }

    /// A code for the public client `rp` with the harness's PKCE verifier.
    async fn code(&self, session: &str) -> String {
        let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            VERIFIER.as_bytes(),
        ));
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("response_type", "code"),
                ("client_id", "rp"),
                ("redirect_uri", CALLBACK),
                ("scope", "openid"),
                ("state", "s1"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ])
            .finish();
        let cookie = format!("__Host-pforte={session}");
        let answer = self
            .get(LOGIN, &format!("/oidc/authorize?{query}"), Some(&cookie))
            .await;
        assert_eq!(answer.status, 302, "{}", answer.body);
        let location = answer.location();
        assert!(location.starts_with(CALLBACK), "{location}");
        form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .expect("a code")
    }

    async fn exchange(&self, code: &str) -> Answer {
        self.post_form(
            LOGIN,
            "/oidc/token",
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", CALLBACK),
                ("client_id", "rp"),
                ("code_verifier", VERIFIER),
            ],
        )
        .await
    }
}

fn empty() -> BoxBody<Bytes, BoxError> {
    full(String::new())
}

fn full(text: String) -> BoxBody<Bytes, BoxError> {
    Full::new(Bytes::from(text))
        .map_err(|never| match never {})
        .boxed()
}

#[tokio::test]
async fn a_code_is_redeemed_within_its_minute_and_refused_after_it() {
    let gw = InProcess::start().await;
    let session = gw.log_in("alice").await;
    let fresh = gw.code(&session).await;
    gw.clock.advance(Duration::from_secs(59)).unwrap();
    let tokens = gw.exchange(&fresh).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert!(tokens.json()["access_token"].is_string());

    let late = gw.code(&session).await;
    gw.clock.advance(Duration::from_secs(61)).unwrap();
    let refused = gw.exchange(&late).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn a_session_ends_at_its_idle_and_absolute_timeouts() {
    let gw = InProcess::start().await;
    let session = gw.log_in("alice").await;
    let cookie = format!("__Host-pforte={session}");
    assert_eq!(
        gw.get(LOGIN, "/", Some(&cookie)).await.status,
        200,
        "the portal"
    );
    // Used every hour it lives until the absolute timeout (12 h), not a second longer.
    for _ in 0..11 {
        gw.clock.advance(Duration::from_secs(3600)).unwrap();
        assert_eq!(gw.get(LOGIN, "/", Some(&cookie)).await.status, 200);
    }
    gw.clock.advance(Duration::from_secs(3601)).unwrap();
    let ended = gw.get(LOGIN, "/", Some(&cookie)).await;
    assert_eq!(ended.status, 303, "a session past 12 h is no session");
    assert_eq!(ended.location(), "/login");

    // Idle for longer than 2 h: gone as well.
    let session = gw.log_in("carol").await;
    let cookie = format!("__Host-pforte={session}");
    gw.clock
        .advance(Duration::from_secs(2 * 3600 + 61))
        .unwrap();
    assert_eq!(gw.get(LOGIN, "/", Some(&cookie)).await.status, 303);
}

#[tokio::test]
async fn an_app_host_sends_a_browser_to_log_in_with_its_hand_over_binding() {
    let gw = InProcess::start().await;
    let answer = gw.get("docs.gw.test", "/page", None).await;
    assert_eq!(answer.status, 302);
    assert!(
        answer.location().starts_with(
            "https://login.gw.test/login?return_to=https%3A%2F%2Fdocs.gw.test%2Fpage&handover="
        ),
        "{}",
        answer.location()
    );
    assert!(answer.cookie("__Host-pforte-handover").is_some());
    let unknown = gw.get("nowhere.gw.test", "/", None).await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn a_broken_policy_is_refused_on_reload_and_the_last_good_one_stays() {
    let gw = InProcess::start().await;
    let bob = gw.log_in("bob").await;
    let cookie = format!("__Host-pforte={bob}");
    // bob is a partner: the docs rule (staff) refuses him.
    assert_eq!(gw.get("docs.gw.test", "/", Some(&cookie)).await.status, 403);

    std::fs::write(
        gw.dir.path().join("policy.toml"),
        "[[rule]]\napps = [\"docs\"\n",
    )
    .unwrap();
    let (status, body) = gw.admin("POST", "/reload").await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("policy.toml:"),
        "the refusal names the file and line: {body}"
    );
    assert_eq!(
        gw.get("docs.gw.test", "/", Some(&cookie)).await.status,
        403,
        "last good policy"
    );

    std::fs::write(
        gw.dir.path().join("policy.toml"),
        "[[rule]]\napps = [\"docs\"]\nallow = [\"group:staff\", \"group:partners\"]\n",
    )
    .unwrap();
    let (status, body) = gw.admin("POST", "/reload").await;
    assert_eq!(status, 200, "{body}");
    // Now allowed: the request goes on to the app's upstream, which nothing serves here.
    let after = gw.get("docs.gw.test", "/", Some(&cookie)).await;
    assert_eq!(
        after.status, 502,
        "the reloaded policy lets bob through: {}",
        after.body
    );
    let (status, body) = gw.admin("GET", "/status").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn an_admin_revocation_ends_the_session_at_once() {
    let gw = InProcess::start().await;
    let session = gw.log_in("alice").await;
    let cookie = format!("__Host-pforte={session}");
    assert_eq!(gw.get(LOGIN, "/", Some(&cookie)).await.status, 200);
    let (status, body) = gw.admin("POST", "/sessions/revoke?subject=").await;
    assert_eq!(status, 400, "a revocation names what it ends: {body}");
    let subject = gw
        .shared
        .sessions
        .list(None, gw.clock.now())
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("alice's session")
        .subject;
    let (status, body) = gw
        .admin("POST", &format!("/sessions/revoke?subject={subject}"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        gw.get(LOGIN, "/", Some(&cookie)).await.status,
        303,
        "the revoked session is no session"
    );
}

/// The form fields of a page and its anti-forgery cookie, to post it back.
fn form_of(page: &Answer) -> (String, String) {
    let csrf = page.cookie("__Host-pforte-csrf").expect("a form cookie");
    (csrf.clone(), format!("__Host-pforte-csrf={csrf}"))
}

/// The base32 key in an enrolment page's `otpauth://` URI.
fn secret_of(page: &str) -> String {
    let start = page.find("secret=").expect("an otpauth URI") + 7;
    page[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect()
}

#[tokio::test]
async fn codes_count_on_the_gateways_clock_and_must_enrol_groups_enrol_first() {
    let gw =
        InProcess::start_with("[mfa]\nkey = { file = \"mfa.key\" }\nmust_enrol = [\"admins\"]\n")
            .await;
    let secret_code = |secret: &str, at: Timestamp| {
        pforte_factors::totp::StoredTotp {
            secret: secret.to_owned(),
            name: String::new(),
            created: 0,
        }
        .code_at(at.unix_secs())
        .unwrap()
    };

    // alice is an admin: her login leads to the enrolment before anything else.
    let form = gw.get(LOGIN, "/login", None).await;
    let (csrf, cookie) = form_of(&form);
    let posted = gw
        .post_form(
            LOGIN,
            "/login",
            Some(&cookie),
            &[
                ("username", "alice"),
                ("password", "alicepw"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(posted.status, 303);
    assert_eq!(posted.location(), "/security/totp");
    let session = posted.cookie("__Host-pforte").unwrap();
    let enrol = gw
        .get(
            LOGIN,
            "/security/totp",
            Some(&format!("__Host-pforte={session}")),
        )
        .await;
    assert_eq!(enrol.status, 200, "{}", enrol.body);
    assert!(
        enrol.body.contains("needs a second factor"),
        "{}",
        enrol.body
    );
    let secret = secret_of(&enrol.body);
    let (csrf, csrf_cookie) = form_of(&enrol);
    let cookies = format!("__Host-pforte={session}; {csrf_cookie}");
    let now = gw.clock.now();
    let enrolled = gw
        .post_form(
            LOGIN,
            "/security/totp",
            Some(&cookies),
            &[("csrf", &csrf), ("code", &secret_code(&secret, now))],
        )
        .await;
    assert_eq!(enrolled.status, 200, "{}", enrolled.body);

    // carol is not an admin: her login goes where it was going.
    let carol = gw.log_in("carol").await;
    assert!(!carol.is_empty());

    // A new password session of alice's steps up on the gateway's clock.
    let session = gw.log_in("alice").await;
    let step_up = |code: String| {
        let gw = &gw;
        let session = session.clone();
        async move {
            let page = gw
                .get(LOGIN, "/mfa", Some(&format!("__Host-pforte={session}")))
                .await;
            let (csrf, csrf_cookie) = form_of(&page);
            let cookies = format!("__Host-pforte={session}; {csrf_cookie}");
            gw.post_form(
                LOGIN,
                "/mfa",
                Some(&cookies),
                &[("csrf", &csrf), ("code", &code)],
            )
            .await
            .status
        }
    };
    assert_eq!(
        step_up(secret_code(&secret, now)).await,
        401,
        "the enrolment's code, again"
    );
    gw.clock.advance(Duration::from_secs(90)).unwrap();
    let two_steps_old = Timestamp::from_unix_secs(gw.clock.now().unix_secs() - 60);
    assert_eq!(step_up(secret_code(&secret, two_steps_old)).await, 401);
    let previous = Timestamp::from_unix_secs(gw.clock.now().unix_secs() - 30);
    assert_eq!(
        step_up(secret_code(&secret, previous)).await,
        303,
        "the step before"
    );
}
