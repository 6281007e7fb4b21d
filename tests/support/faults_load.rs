//! A load generator that checks every answer, for fault injection (`tests/e2e/faults.rs`,
//! `tests/bench/faults.sh` through `tests/load/main.rs`).
//!
//! Each virtual user is one person of [`PEOPLE`] with a browser's cookie jar. It logs in through
//! the form, opens every app (the hand-over included) again and again, gets OIDC tokens for both
//! clients and refreshes them, and now and then logs out. Every answer is judged against the
//! policy ([`Person::may_use`]) and the revocations the user made itself:
//!
//! - a **wrong decision**: an app let through that the policy or a revocation refuses (or let
//!   through as somebody else), refused (403, `access_denied`) that the policy allows, tokens for
//!   an ended session, a password refused that the directory holds;
//! - a **failed request**: no answer (connection broken after sending, timeout of
//!   [`TIMEOUT`](crate::faults_client::TIMEOUT)), a 5xx, or an answer that fits nothing above (a
//!   429, say); a connection refused by one replica moves on to the next, as a load balancer does;
//! - a **lost session**: a session (or refresh-token family) acknowledged to the user and later
//!   treated as logged out, though nobody revoked it.
//!
//! A revoked session is checked at once on the replica that revoked it and again after the 1 s
//! bound on any replica. An operation whose outcome is unknown (a logout or refresh that failed)
//! is not judged afterwards: nobody can say what it must be.
//!
//! The time to recover is, per kind of operation, from its first failure to its first success
//! after its last failure; the report gives the longest.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rustls_pki_types::CertificateDer;

use crate::browser::{absolute, hidden_value};
use crate::faults_client::{Answer, Failure, Jar, Pool, request};
use crate::faults_report::{Kind, Report, Tally, report};
use crate::faults_scenario::{
    APPS, CALLBACK, CLIENTS, LOGIN_HOST, PEOPLE, Person, RelyingParty, host_of,
};

/// How long after a revocation every replica must refuse the session: the 1 s revocation bound
/// with a margin for the check's own way.
const REVOCATION_BOUND: Duration = Duration::from_millis(1500);

/// What to load.
#[derive(Clone)]
pub struct Load {
    /// The gateway replicas (HTTPS listeners), used in turn.
    pub replicas: Vec<SocketAddr>,
    /// The CA their certificates chain to.
    pub root: CertificateDer<'static>,
    /// Virtual users (each one person of [`PEOPLE`], in turn).
    pub users: usize,
    /// A user logs out in one cycle out of this many.
    pub revoke_every: u32,
}

/// Runs the load until `stop` is set; users finish the operation they are in.
pub async fn run(load: Load, stop: Arc<AtomicBool>) -> Report {
    let pool = Arc::new(Pool::new(load.replicas.clone(), &load.root));
    let tally = Arc::new(Tally::default());
    let users: Vec<_> = (0..load.users)
        .map(|i| {
            let user = User {
                person: &PEOPLE[i % PEOPLE.len()],
                pool: pool.clone(),
                tally: tally.clone(),
                session: None,
                revoked: Vec::new(),
                seed: 0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1),
                revoke_every: load.revoke_every.max(1),
            };
            tokio::spawn(user.run(stop.clone()))
        })
        .collect();
    for user in users {
        let _ = user.await;
    }
    report(&tally, pool.timeouts())
}

/// Runs the load for `duration`.
pub async fn run_for(load: Load, duration: Duration) -> Report {
    let stop = Arc::new(AtomicBool::new(false));
    let running = tokio::spawn(run(load, stop.clone()));
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    running.await.unwrap()
}

/// A logged-in session as the user holds it.
struct Session {
    jar: Jar,
    /// Apps whose host already has the session (hand-over done).
    grants: Vec<Grant>,
}

/// A refresh token of one client.
#[derive(Clone)]
struct Grant {
    client: &'static RelyingParty,
    refresh: String,
}

/// A session the user logged out, to be checked again after the bound.
struct Revoked {
    jar: Jar,
    grants: Vec<Grant>,
    at: Instant,
}

/// How a visit to an app ended.
#[derive(Debug)]
enum Visit {
    /// The app answered (its `x-upstream` header), for this user (`x-forwarded-user`) or not.
    Through { as_user: bool },
    /// 403 from the gateway.
    Forbidden,
    /// The login form.
    LoggedOut,
    /// No answer, a 5xx, or something else.
    Failed(String),
}

struct User {
    person: &'static Person,
    pool: Arc<Pool>,
    tally: Arc<Tally>,
    session: Option<Session>,
    revoked: Vec<Revoked>,
    seed: u64,
    revoke_every: u32,
}

/// Pause after a failure, so a dead server is not hammered in a tight loop.
const BACK_OFF: Duration = Duration::from_millis(50);

impl User {
    async fn run(mut self, stop: Arc<AtomicBool>) {
        while !stop.load(Ordering::Relaxed) {
            if !self.cycle().await {
                tokio::time::sleep(BACK_OFF).await;
            }
        }
    }

    fn random(&mut self) -> u64 {
        // xorshift64*: enough to spread logouts, no dependency.
        self.seed ^= self.seed >> 12;
        self.seed ^= self.seed << 25;
        self.seed ^= self.seed >> 27;
        self.seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn who(&self) -> &'static str {
        self.person.username
    }

    /// One round: log in if needed, use every app, tokens, maybe log out. False after a failure.
    async fn cycle(&mut self) -> bool {
        if self.session.is_none() {
            match self.login().await {
                Some(session) => self.session = Some(session),
                None => return false,
            }
        }
        for app in APPS {
            if !self.use_app(app).await {
                return false;
            }
        }
        for rp in &CLIENTS {
            if !self.tokens(rp).await {
                return false;
            }
        }
        self.check_revoked().await;
        if self.random().is_multiple_of(u64::from(self.revoke_every)) {
            return self.logout().await;
        }
        true
    }

    async fn send(
        &self,
        start: Option<usize>,
        req: http::Request<http_body_util::Full<bytes::Bytes>>,
    ) -> Result<Answer, Failure> {
        let start = start.unwrap_or_else(|| self.pool.pick());
        self.pool.send(start, req).await
    }

    /// The login form, then the password. None when it did not open a session.
    async fn login(&mut self) -> Option<Session> {
        let who = self.who();
        let mut jar = Jar::default();
        let form_url = format!("https://{LOGIN_HOST}/login");
        let (_, req) = request("GET", &form_url, &jar, None);
        let form = match self.send(None, req).await {
            Ok(a) if a.status == 200 => a,
            Ok(a) => {
                self.tally.failed(
                    Kind::Login,
                    format!("{who}: login form answered {}", a.status),
                );
                return None;
            }
            Err(e) => {
                self.tally
                    .failed(Kind::Login, format!("{who}: login form: {e:?}"));
                return None;
            }
        };
        jar.store(LOGIN_HOST, &form);
        let Some(csrf) = hidden_value(&form.text(), "csrf") else {
            self.tally
                .failed(Kind::Login, format!("{who}: no csrf field in the form"));
            return None;
        };
        let fields = [
            ("username", self.person.username),
            ("password", self.person.password),
            ("csrf", csrf.as_str()),
        ];
        let (_, req) = request("POST", &form_url, &jar, Some(&fields));
        match self.send(None, req).await {
            Ok(a) if matches!(a.status, 302 | 303) => {
                jar.store(LOGIN_HOST, &a);
                if jar.get(LOGIN_HOST, "__Host-pforte").is_none() {
                    self.tally.wrong(
                        Kind::Login,
                        format!("{who}: login redirected without a session cookie"),
                    );
                    return None;
                }
                self.tally.logins.fetch_add(1, Ordering::Relaxed);
                self.tally.ok(Kind::Login);
                Some(Session {
                    jar,
                    grants: Vec::new(),
                })
            }
            Ok(a) if a.status == 401 => {
                self.tally.wrong(
                    Kind::Login,
                    format!("{who}: the right password was refused (401)"),
                );
                None
            }
            Ok(a) => {
                self.tally
                    .failed(Kind::Login, format!("{who}: login answered {}", a.status));
                None
            }
            Err(e) => {
                self.tally
                    .failed(Kind::Login, format!("{who}: login: {e:?}"));
                None
            }
        }
    }

    /// Follows a browser's way to `url` with `jar` (hand-overs included), at most 8 hops; the
    /// first hop goes to replica `start` (else the next in turn).
    async fn visit(&self, jar: &mut Jar, url: &str, start: Option<usize>) -> Visit {
        let mut url = url.to_owned();
        let mut start = start;
        for _ in 0..8 {
            let (host, req) = request("GET", &url, jar, None);
            let answer = match self.send(start.take(), req).await {
                Ok(a) => a,
                Err(e) => return Visit::Failed(format!("{url}: {e:?}")),
            };
            jar.store(&host, &answer);
            match answer.status {
                301 | 302 | 303 | 307 | 308 => {
                    let Some(location) = answer.header("location") else {
                        return Visit::Failed(format!("{url}: redirect without a location"));
                    };
                    url = absolute(&url, location);
                }
                200 if host == LOGIN_HOST && url.contains("/login") => return Visit::LoggedOut,
                200 if answer.header("x-upstream").is_some() => {
                    let marker = format!("\"x-forwarded-user\":[\"{}\"]", self.who());
                    return Visit::Through {
                        as_user: answer.text().contains(&marker),
                    };
                }
                403 => return Visit::Forbidden,
                status => return Visit::Failed(format!("{url}: {status}")),
            }
        }
        Visit::Failed(format!("{url}: more than 8 redirects"))
    }

    /// One visit to `app` with the live session, judged. False if the session is gone.
    async fn use_app(&mut self, app: &'static str) -> bool {
        let who = self.who();
        let allowed = self.person.may_use(app);
        let Some(mut session) = self.session.take() else {
            return false;
        };
        let url = format!("https://{}/page?user={who}", host_of(app));
        let seen = self.visit(&mut session.jar, &url, None).await;
        let keep = match seen {
            Visit::Through { as_user: true } if allowed => {
                self.tally.ok(Kind::Visit);
                true
            }
            Visit::Forbidden if !allowed => {
                self.tally.ok(Kind::Visit);
                true
            }
            Visit::Through { as_user } => {
                self.tally.wrong(
                    Kind::Visit,
                    format!(
                        "{who} let into {app} (as themselves: {as_user}; policy allows: {allowed})"
                    ),
                );
                true
            }
            Visit::Forbidden => {
                self.tally.wrong(
                    Kind::Visit,
                    format!("{who} refused {app}, which the policy allows"),
                );
                true
            }
            Visit::LoggedOut => {
                self.tally.lost(
                    Kind::Visit,
                    format!("{who}'s session treated as logged out at {app}"),
                );
                false
            }
            Visit::Failed(what) => {
                self.tally.failed(Kind::Visit, format!("{who}: {what}"));
                self.session = Some(session);
                return false;
            }
        };
        if keep {
            self.session = Some(session);
        }
        keep
    }

    /// Refreshes the grant of `rp` (or gets one with the code flow), judged.
    async fn tokens(&mut self, rp: &'static RelyingParty) -> bool {
        let Some(mut session) = self.session.take() else {
            return false;
        };
        let result = match session.grants.iter().position(|g| g.client.id == rp.id) {
            Some(i) => {
                let grant = session.grants.remove(i);
                match self.refresh(&grant, None).await {
                    Refresh::Renewed(next) => {
                        self.tally.refreshes.fetch_add(1, Ordering::Relaxed);
                        self.tally.ok(Kind::Token);
                        session.grants.push(next);
                        true
                    }
                    Refresh::Refused(error) => {
                        self.tally.lost(
                            Kind::Token,
                            format!(
                                "{}: {} refresh refused ({error}) for a live session",
                                self.who(),
                                rp.id
                            ),
                        );
                        true
                    }
                    // Unknown whether the token rotated: the grant is given up, not judged.
                    Refresh::Failed(what) => {
                        self.tally.failed(Kind::Token, what);
                        self.session = Some(session);
                        return false;
                    }
                }
            }
            None => match self.code_flow(&mut session, rp).await {
                Flow::Granted(grant) => {
                    session.grants.push(grant);
                    true
                }
                Flow::Judged => true,
                // Counted as lost already; the next cycle logs in again.
                Flow::LoggedOut => return false,
                Flow::Failed => {
                    self.session = Some(session);
                    return false;
                }
            },
        };
        self.session = Some(session);
        result
    }

    /// Authorize with the session, then the code for tokens.
    async fn code_flow(&mut self, session: &mut Session, rp: &'static RelyingParty) -> Flow {
        let who = self.who();
        let allowed = self.person.may_use(rp.app);
        let verifier = random_token();
        let challenge = URL_SAFE_NO_PAD.encode(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref(),
        );
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", rp.id)
            .append_pair("redirect_uri", CALLBACK)
            .append_pair("scope", "openid profile")
            .append_pair("state", "faults")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        let url = format!("https://{LOGIN_HOST}/oidc/authorize?{query}");
        let (_, req) = request("GET", &url, &session.jar, None);
        let answer = match self.send(None, req).await {
            Ok(a) => a,
            Err(e) => {
                self.tally
                    .failed(Kind::Token, format!("{who}: authorize {}: {e:?}", rp.id));
                return Flow::Failed;
            }
        };
        let location = answer.header("location").unwrap_or_default().to_owned();
        if !matches!(answer.status, 302 | 303) {
            self.tally.failed(
                Kind::Token,
                format!("{who}: authorize {} answered {}", rp.id, answer.status),
            );
            return Flow::Failed;
        }
        if !location.starts_with(CALLBACK) {
            if location.contains("/login") {
                self.tally.lost(
                    Kind::Token,
                    format!("{who}: authorize {} asked for a login again", rp.id),
                );
                return Flow::LoggedOut;
            }
            self.tally.failed(
                Kind::Token,
                format!("{who}: authorize {} went to {location}", rp.id),
            );
            return Flow::Failed;
        }
        let params: Vec<(String, String)> = location
            .split_once('?')
            .map(|(_, q)| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        match (param("code"), param("error"), allowed) {
            (Some(_), _, false) => {
                self.tally.wrong(
                    Kind::Token,
                    format!(
                        "{who} got a code for {}, whose app the policy refuses",
                        rp.id
                    ),
                );
                Flow::Judged
            }
            (None, Some(error), true) if error == "access_denied" => {
                self.tally.wrong(
                    Kind::Token,
                    format!(
                        "{who} refused tokens for {}, whose app the policy allows",
                        rp.id
                    ),
                );
                Flow::Judged
            }
            (None, Some(error), false) if error == "access_denied" => {
                self.tally.ok(Kind::Token);
                Flow::Judged
            }
            (Some(code), _, true) => {
                let form = [
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", CALLBACK),
                    ("code_verifier", verifier.as_str()),
                ];
                match self.token_request(rp, &form, None).await {
                    Ok(a) if a.status == 200 => match refresh_token_of(&a) {
                        Some(refresh) => {
                            self.tally.ok(Kind::Token);
                            Flow::Granted(Grant {
                                client: rp,
                                refresh,
                            })
                        }
                        None => {
                            self.tally.failed(
                                Kind::Token,
                                format!("{who}: no refresh token from {}", rp.id),
                            );
                            Flow::Failed
                        }
                    },
                    Ok(a) => {
                        self.tally.failed(
                            Kind::Token,
                            format!(
                                "{who}: code exchange for {} answered {}: {}",
                                rp.id,
                                a.status,
                                a.text()
                            ),
                        );
                        Flow::Failed
                    }
                    Err(e) => {
                        self.tally.failed(
                            Kind::Token,
                            format!("{who}: code exchange {}: {e:?}", rp.id),
                        );
                        Flow::Failed
                    }
                }
            }
            _ => {
                self.tally.failed(
                    Kind::Token,
                    format!("{who}: authorize {} went to {location}", rp.id),
                );
                Flow::Failed
            }
        }
    }

    async fn token_request(
        &self,
        rp: &RelyingParty,
        form: &[(&str, &str)],
        start: Option<usize>,
    ) -> Result<Answer, Failure> {
        let url = format!("https://{LOGIN_HOST}/oidc/token");
        let (_, mut req) = request("POST", &url, &Jar::default(), Some(form));
        let headers = req.headers_mut();
        headers.remove("origin");
        headers.insert("accept", http::HeaderValue::from_static("application/json"));
        let basic = STANDARD.encode(format!("{}:{}", rp.id, rp.secret));
        headers.insert(
            "authorization",
            http::HeaderValue::from_str(&format!("Basic {basic}")).unwrap(),
        );
        self.send(start, req).await
    }

    async fn refresh(&self, grant: &Grant, start: Option<usize>) -> Refresh {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", grant.refresh.as_str()),
        ];
        match self.token_request(grant.client, &form, start).await {
            Ok(a) if a.status == 200 => match refresh_token_of(&a) {
                Some(refresh) => Refresh::Renewed(Grant {
                    client: grant.client,
                    refresh,
                }),
                None => {
                    Refresh::Failed(format!("{}: a refresh without a refresh token", self.who()))
                }
            },
            Ok(a) if a.status == 400 && a.text().contains("invalid_grant") => {
                Refresh::Refused(a.text())
            }
            Ok(a) => Refresh::Failed(format!(
                "{}: refresh for {} answered {}: {}",
                self.who(),
                grant.client.id,
                a.status,
                a.text()
            )),
            Err(e) => Refresh::Failed(format!(
                "{}: refresh {}: {e:?}",
                self.who(),
                grant.client.id
            )),
        }
    }

    /// Logs out through the portal, then checks at once, on the replica that did it, that the
    /// session and its tokens are refused.
    async fn logout(&mut self) -> bool {
        let who = self.who();
        let Some(mut session) = self.session.take() else {
            return false;
        };
        let portal = format!("https://{LOGIN_HOST}/");
        let (_, req) = request("GET", &portal, &session.jar, None);
        let page = match self.send(None, req).await {
            Ok(a) if a.status == 200 => a,
            Ok(a) => {
                self.tally
                    .failed(Kind::Logout, format!("{who}: portal answered {}", a.status));
                self.session = Some(session);
                return false;
            }
            Err(e) => {
                self.tally
                    .failed(Kind::Logout, format!("{who}: portal: {e:?}"));
                self.session = Some(session);
                return false;
            }
        };
        session.jar.store(LOGIN_HOST, &page);
        let Some(csrf) = hidden_value(&page.text(), "csrf") else {
            // The login form instead of the portal: the session was gone.
            self.tally.lost(
                Kind::Logout,
                format!("{who}: the portal shows the login form"),
            );
            return true;
        };
        let mut check_jar = session.jar.clone();
        let (_, req) = request(
            "POST",
            &format!("https://{LOGIN_HOST}/logout"),
            &session.jar,
            Some(&[("csrf", csrf.as_str())]),
        );
        let replica = match self.send(None, req).await {
            Ok(a) if a.status == 200 => a.replica,
            Ok(a) => {
                // Unknown whether the session ended: given up, not judged.
                self.tally
                    .failed(Kind::Logout, format!("{who}: logout answered {}", a.status));
                return false;
            }
            Err(e) => {
                self.tally
                    .failed(Kind::Logout, format!("{who}: logout: {e:?}"));
                return false;
            }
        };
        self.tally.revocations.fetch_add(1, Ordering::Relaxed);
        self.tally.ok(Kind::Logout);
        let revoked = Revoked {
            jar: check_jar.clone(),
            grants: session.grants.clone(),
            at: Instant::now(),
        };
        self.judge_revoked(&mut check_jar, &session.grants, Some(replica))
            .await;
        self.revoked.push(revoked);
        true
    }

    /// A revoked session must get nothing: an app it may use sends it to the login form, its
    /// refresh tokens are refused.
    async fn judge_revoked(&mut self, jar: &mut Jar, grants: &[Grant], start: Option<usize>) {
        let who = self.who();
        let Some(app) = self.person.apps.first() else {
            return;
        };
        let url = format!("https://{}/after-logout", host_of(app));
        match self.visit(jar, &url, start).await {
            Visit::Through { .. } => self.tally.wrong(
                Kind::Visit,
                format!("{who}'s revoked session let into {app}"),
            ),
            Visit::Failed(what) => self.tally.failed(Kind::Visit, format!("{who}: {what}")),
            Visit::LoggedOut | Visit::Forbidden => self.tally.ok(Kind::Visit),
        }
        for grant in grants {
            match self.refresh(grant, start).await {
                Refresh::Renewed(_) => self.tally.wrong(
                    Kind::Token,
                    format!(
                        "{who}'s revoked session refreshed {} tokens",
                        grant.client.id
                    ),
                ),
                Refresh::Refused(_) => self.tally.ok(Kind::Token),
                Refresh::Failed(what) => self.tally.failed(Kind::Token, what),
            }
        }
    }

    /// Sessions revoked longer ago than the bound: refused on any replica.
    async fn check_revoked(&mut self) {
        let (due, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.revoked)
            .into_iter()
            .partition(|r| r.at.elapsed() >= REVOCATION_BOUND);
        self.revoked = waiting;
        for mut old in due {
            self.judge_revoked(&mut old.jar, &old.grants, None).await;
        }
    }
}

/// How a code flow ended.
enum Flow {
    Granted(Grant),
    /// Refused as it had to be, or judged (a wrong decision) and given up.
    Judged,
    /// The session was gone (counted as lost).
    LoggedOut,
    Failed,
}

enum Refresh {
    Renewed(Grant),
    Refused(String),
    Failed(String),
}

fn refresh_token_of(answer: &Answer) -> Option<String> {
    let json: serde_json::Value = serde_json::from_slice(&answer.body).ok()?;
    Some(json["refresh_token"].as_str()?.to_owned())
}

/// 32 random bytes, base64url: a PKCE verifier.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
