//! A gateway in this process, assembled from a [`GatewayBuilder`]'s folder with a manual clock,
//! against the harness's real slapd and Redis: for what takes minutes of the gateway's time
//! (a session's identity refresh, its grace), moved by the test instead of slept through.
//! Requests go straight to `pipeline::handle` (no TLS, no listener); the back-channel loop runs
//! as in the binary, so logout tokens reach a real relying party. Audit events of every
//! in-process gateway go to one file per test process ([`audit`]); tests pick theirs by a field.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use pforte::pipeline::{self, ConnInfo};
use pforte::proxy::body::BoxError;
use pforte::state::Shared;
use pforte::telemetry::activity::Activity;
use pforte_session::{Clock, Timestamp};

use crate::gateway::{Folder, GatewayBuilder};
use crate::pki::TestCa;

/// The address requests come from.
const PEER: &str = "192.0.2.10:40000";

/// The PKCE verifier of [`InProcess::code`]'s requests, for the code exchange.
pub const VERIFIER: &str = "an-in-process-pkce-verifier-that-is-long-enough-0123456789";

/// A gateway assembled in this process.
pub struct InProcess {
    pub shared: Arc<Shared>,
    /// The gateway's clock: `advance` it instead of sleeping.
    pub clock: Clock,
    pub folder: Folder,
    pub ca: TestCa,
}

/// What a request got back.
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The value of a cookie this answer sets.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next()?.split_once('='))
            .find(|(n, v)| *n == name && !v.is_empty())
            .map(|(_, v)| v.to_string())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

impl GatewayBuilder {
    /// Writes the folder (its certificates and the back-channel CA from `ca`) and assembles the
    /// gateway in this process, its clock at `start`, with the back-channel loop running when
    /// OIDC is on.
    pub async fn assemble(self, ca: TestCa, start: Timestamp) -> InProcess {
        audit_file();
        let folder = self.write_folder(&ca);
        let clock = Clock::manual(start);
        let shared = pforte::assemble::assemble(&folder.config_path, clock.clone())
            .await
            .unwrap();
        if let Some(outbound) = &shared.outbound {
            let notifier = pforte::oidc::backchannel::Notifier::new(outbound.clone());
            shared.tasks.spawn(notifier.run(shared.clone()));
        }
        InProcess {
            shared,
            clock,
            folder,
            ca,
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}

impl InProcess {
    /// The gateway's folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.folder.dir.path().join(name)
    }

    /// Moves the gateway's clock forward.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by).unwrap();
    }

    /// Sends `req` through the pipeline, as the server would from 192.0.2.10.
    pub async fn send(&self, req: Request<BoxBody<Bytes, BoxError>>) -> Answer {
        let conn = Arc::new(ConnInfo {
            peer: PEER.parse::<SocketAddr>().unwrap(),
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

    /// `GET https://host/path` with the session cookie `session`, if any.
    pub async fn get(&self, host: &str, path_and_query: &str, session: Option<&str>) -> Answer {
        let mut req = Request::get(format!("https://{host}{path_and_query}"));
        if let Some(session) = session {
            req = req.header(header::COOKIE, format!("__Host-pforte={session}"));
        }
        self.send(req.body(body(String::new())).unwrap()).await
    }

    /// `GET https://host/path` with one header (`Authorization: Bearer …`, say).
    pub async fn get_with(&self, host: &str, path_and_query: &str, header: (&str, &str)) -> Answer {
        let req =
            Request::get(format!("https://{host}{path_and_query}")).header(header.0, header.1);
        self.send(req.body(body(String::new())).unwrap()).await
    }

    /// A form `POST` from the host's own origin, with `cookie` as the whole Cookie header.
    pub async fn post_form(
        &self,
        host: &str,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> Answer {
        let text: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut req = Request::post(format!("https://{host}{path}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, format!("https://{host}"));
        if let Some(cookie) = cookie {
            req = req.header(header::COOKIE, cookie);
        }
        self.send(req.body(body(text)).unwrap()).await
    }

    /// An admin-listener request from the loopback (as a gateway without an admin token takes
    /// it): the status and the body.
    pub async fn admin(&self, method: &str, path_and_query: &str) -> (u16, String) {
        let reloader =
            pforte::reload::Reloader::new(self.shared.clone(), self.folder.config_path.clone());
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

    /// An authorization code for `session` from the login host's `/oidc/authorize`, asked by
    /// `client` for `redirect_uri` and `scope` with PKCE ([`VERIFIER`]).
    pub async fn code(
        &self,
        login_host: &str,
        session: &str,
        client: &str,
        redirect_uri: &str,
        scope: &str,
    ) -> String {
        let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            VERIFIER.as_bytes(),
        ));
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("response_type", "code"),
                ("client_id", client),
                ("redirect_uri", redirect_uri),
                ("scope", scope),
                ("state", "s1"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ])
            .finish();
        let answer = self
            .get(
                login_host,
                &format!("/oidc/authorize?{query}"),
                Some(session),
            )
            .await;
        assert_eq!(answer.status, 302, "{}", answer.body);
        let location = answer.location();
        assert!(location.starts_with(redirect_uri), "{location}");
        form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .expect("a code")
    }

    /// Logs `username` in through the login form of `login_host`; the session cookie's value.
    pub async fn log_in(&self, login_host: &str, username: &str, password: &str) -> String {
        let form = self.get(login_host, "/login", None).await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.cookie("__Host-pforte-csrf").expect("a form cookie");
        let posted = self
            .post_form(
                login_host,
                "/login",
                Some(&format!("__Host-pforte-csrf={csrf}")),
                &[
                    ("username", username),
                    ("password", password),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(posted.status, 303, "{}", posted.body);
        posted.cookie("__Host-pforte").expect("a session cookie")
    }
}

fn body(text: String) -> BoxBody<Bytes, BoxError> {
    Full::new(Bytes::from(text))
        .map_err(|never| match never {})
        .boxed()
}

/// The audit file of every in-process gateway of this test process, set up once.
fn audit_file() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = std::env::temp_dir().join(format!(
            "pforte-e2e-audit-{}-{}.jsonl",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let audit = pforte::config::Audit::new(
            Some(path.clone()),
            "in-process".into(),
            path.with_extension("keys"),
        );
        pforte::telemetry::init(
            pforte::config::LogFormat::Json,
            "warn",
            Some((&audit, pforte::telemetry::audit_log::Role::Gateway)),
        )
        .unwrap();
        path
    })
}

/// The audit events of in-process gateways so far whose `field` is `value`.
pub fn audit(field: &str, value: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(audit_file())
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event[field] == value)
        .collect()
}
