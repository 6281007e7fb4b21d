//! A partner's OpenID provider for the federation tests: panva's `oidc-provider` (OpenID
//! Certified, written by nobody here) run by `node tests/upstream-idp/server.mjs` on a free
//! loopback port over HTTPS with a certificate of the test's CA, and a driver that walks a
//! person through a federated login as a browser would: Pforte's start page, the provider's
//! login and consent forms, the way back to Pforte's callback and on.
//!
//! ```text
//! IdpConfig::new()           picks the port, so the issuer is known before anything starts
//!   .client(IdpClient::pforte(..)).account(IdpAccount::new(..))
//!   .reach("login.gw.test", gw.https)   the provider's own calls (back-channel logout) go there
//! UpstreamIdp::start(&ca, config)       node server.mjs cfg.json; ready line, then discovery
//! idp.log_in_through(&mut browser, start, login, password)   the hops, last first
//! idp.log_out(&mut browser)             the person signs out there: back-channel logout
//! ```
//!
//! The npm packages come from `npm ci --prefix tests/upstream-idp`, which `./tests/run` does.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;
use tempfile::TempDir;

use crate::browser::{Browser, Hop, absolute};
use crate::client::H1;
use crate::pki::TestCa;

const SETUP: &str = "run ./tests/run (it runs npm ci --prefix tests/upstream-idp)";

/// A client registered at the provider (oidc-provider's client metadata, as it reads them).
#[derive(Debug, Clone, Serialize)]
pub struct IdpClient {
    /// The client's id at the provider (Pforte's `client_id` in `idps.toml`).
    pub client_id: String,
    /// Its secret (what `client_secret` in `idps.toml` points to).
    pub client_secret: String,
    /// Where codes may be sent: Pforte's `/federation/{id}/callback`.
    pub redirect_uris: Vec<String>,
    /// Where the provider may send people after its logout: Pforte's `logged-out` page.
    pub post_logout_redirect_uris: Vec<String>,
    /// Where the provider posts logout tokens: Pforte's `backchannel-logout` endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Whether ID and logout tokens carry `sid`, so one provider session ends one local one.
    pub backchannel_logout_session_required: bool,
    /// `client_secret_basic` (what Pforte sends when the provider offers it) or
    /// `client_secret_post`.
    pub token_endpoint_auth_method: String,
}

impl IdpClient {
    /// Pforte registered as docs/federation.md says, for the provider Pforte calls `id`, at a
    /// gateway whose login host is `login_origin` (`https://login.gw.test`): the callback, the
    /// page after the provider's logout, and the back-channel logout endpoint (with `sid`).
    pub fn pforte(id: &str, login_origin: &str, client_id: &str, secret: &str) -> Self {
        let page = |name: &str| format!("{login_origin}/federation/{id}/{name}");
        Self {
            client_id: client_id.to_owned(),
            client_secret: secret.to_owned(),
            redirect_uris: vec![page("callback")],
            post_logout_redirect_uris: vec![page("logged-out")],
            backchannel_logout_uri: Some(page("backchannel-logout")),
            backchannel_logout_session_required: true,
            token_endpoint_auth_method: "client_secret_basic".to_owned(),
        }
    }
}

/// A person with an account at the provider.
#[derive(Debug, Clone, Serialize)]
pub struct IdpAccount {
    /// The provider's subject for the person.
    pub sub: String,
    /// What the person types at the provider's login form.
    pub login: String,
    /// The password the provider's login form accepts (any other is refused with 401).
    pub password: String,
    /// Claims the provider releases by scope: `email`, `email_verified` (scope email), `name`,
    /// `preferred_username` (profile), `groups` (groups).
    pub claims: serde_json::Value,
}

impl IdpAccount {
    /// An account known as `sub`, logging in as `login` with `password`, with these claims.
    pub fn new(sub: &str, login: &str, password: &str, claims: serde_json::Value) -> Self {
        Self {
            sub: sub.to_owned(),
            login: login.to_owned(),
            password: password.to_owned(),
            claims,
        }
    }
}

/// How the provider is set up before it starts. The port is chosen at once, so that the
/// gateway's `idps.toml` can name the issuer before the provider runs.
#[derive(Debug, Clone)]
pub struct IdpConfig {
    port: u16,
    clients: Vec<IdpClient>,
    accounts: Vec<IdpAccount>,
    id_token_alg: String,
    claims_in_id_token: bool,
    hosts: BTreeMap<String, String>,
}

impl Default for IdpConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl IdpConfig {
    /// No clients, no accounts, ID tokens signed RS256, on a free port.
    pub fn new() -> Self {
        Self {
            port: crate::free_port(),
            clients: Vec::new(),
            accounts: Vec::new(),
            id_token_alg: "RS256".to_owned(),
            claims_in_id_token: true,
            hosts: BTreeMap::new(),
        }
    }

    /// `https://127.0.0.1:PORT`, as the discovery document will name it.
    pub fn issuer(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// Registers a client (Pforte) at the provider.
    pub fn client(mut self, client: IdpClient) -> Self {
        self.clients.push(client);
        self
    }

    /// Gives a person an account at the provider.
    pub fn account(mut self, account: IdpAccount) -> Self {
        self.accounts.push(account);
        self
    }

    /// `RS256` or `ES256` for ID and logout tokens.
    pub fn id_token_alg(mut self, alg: &str) -> Self {
        self.id_token_alg = alg.to_owned();
        self
    }

    /// Whether the claims of the scopes profile, email and groups are in the ID token (the
    /// default here) or, as oidc-provider's own default has it whenever an access token is
    /// issued, only at userinfo.
    pub fn claims_in_id_token(mut self, yes: bool) -> Self {
        self.claims_in_id_token = yes;
        self
    }

    /// The provider's own HTTPS calls to `host` (a back-channel logout to `login.gw.test`) go
    /// to `addr`: the tests' host names resolve nowhere.
    pub fn reach(mut self, host: &str, addr: SocketAddr) -> Self {
        self.hosts.insert(host.to_owned(), addr.to_string());
        self
    }
}

/// The running provider; stopped when dropped.
pub struct UpstreamIdp {
    issuer: String,
    addr: SocketAddr,
    log_path: PathBuf,
    child: Child,
    _dir: TempDir,
}

impl Drop for UpstreamIdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tests/upstream-idp`, where `server.mjs` and its `node_modules` are.
fn package_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("upstream-idp")
}

impl UpstreamIdp {
    /// Starts the provider with a certificate for 127.0.0.1 from `ca` (which it also trusts for
    /// its own calls), and waits until it says it is ready and serves its discovery document.
    pub async fn start(ca: &TestCa, config: IdpConfig) -> Self {
        crate::init_crypto();
        let package = package_dir();
        let installed = package.join("node_modules/oidc-provider/package.json");
        assert!(
            installed.is_file(),
            "{} is missing: {SETUP}",
            installed.display()
        );
        let dir = tempfile::tempdir().expect("a folder for the provider");
        let leaf = ca.leaf(dir.path(), "upstream-idp", &["127.0.0.1", "localhost"]);
        let ca_path = dir.path().join("test-ca.pem");
        ca.write_pem(&ca_path);
        let issuer = config.issuer();
        let file = serde_json::json!({
            "issuer": issuer,
            "tls": { "cert": leaf.cert, "key": leaf.key },
            "outbound": { "ca": ca_path, "hosts": config.hosts },
            "id_token_alg": config.id_token_alg,
            "claims_in_id_token": config.claims_in_id_token,
            "clients": config.clients,
            "accounts": config.accounts,
        });
        let config_path = dir.path().join("upstream-idp.json");
        std::fs::write(&config_path, file.to_string()).expect("the provider's config written");
        let log_path = dir.path().join("upstream-idp.log");
        let log = std::fs::File::create(&log_path).expect("the provider's log created");
        let node = std::env::var_os("PFORTE_NODE").unwrap_or_else(|| "node".into());
        let child = Command::new(&node)
            .arg(package.join("server.mjs"))
            .arg(&config_path)
            .current_dir(&package)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log's handle copied"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {node:?} (Node.js 20 or newer): {e}"));
        let mut idp = Self {
            issuer,
            addr: SocketAddr::from(([127, 0, 0, 1], config.port)),
            log_path,
            child,
            _dir: dir,
        };
        idp.wait_ready(ca).await;
        idp
    }

    async fn wait_ready(&mut self, ca: &TestCa) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let ready = format!("upstream-idp ready {}", self.issuer);
        while !self.log().contains(&ready) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the upstream provider exited with {status} before it was ready:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the upstream provider is not ready after 30 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut h1 = H1::connect(self.addr, "127.0.0.1", &ca.der()).await;
        let discovery = h1.get("/.well-known/openid-configuration").await;
        assert_eq!(
            discovery.status,
            200,
            "the provider's discovery: {}\n{}",
            discovery.text(),
            self.log()
        );
        assert_eq!(discovery.json()["issuer"], self.issuer.as_str());
    }

    /// The issuer, exactly as the discovery document names it.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Everything it printed (oidc-provider's warnings, each back-channel logout call).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Waits until a line of its output contains `needle`.
    pub async fn wait_for_log(&self, needle: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.log().contains(needle) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Whether `url` is one of the provider's.
    pub fn serves(&self, url: &str) -> bool {
        url.strip_prefix(&self.issuer)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
    }

    /// Makes `browser` send requests for 127.0.0.1 to this provider (it sends everything else
    /// to the gateway).
    pub fn known_to(&self, browser: &mut Browser) {
        browser.elsewhere.insert("127.0.0.1".to_owned(), self.addr);
    }

    /// A federated login as a person at a browser does it: from `start` (Pforte's
    /// `/federation/{id}/start`, or any page that leads there) every redirect is followed; a
    /// page of the provider with a login form gets `login` and `password`, one with another
    /// form (consent) is submitted as it is. Stops at the first answer that is neither a
    /// redirect nor a provider's form to fill in, or at the login form shown again (a wrong
    /// password). Returns every hop, the last one first (as [`Browser::follow`]).
    pub async fn log_in_through(
        &self,
        browser: &mut Browser,
        start: &str,
        login: &str,
        password: &str,
    ) -> Vec<Hop> {
        self.known_to(browser);
        let mut hops = Vec::new();
        let mut url = start.to_owned();
        let mut reply = browser.get(&url).await;
        let mut logged_in = false;
        for _ in 0..20 {
            let next = if (300..400).contains(&reply.status) {
                let location = reply
                    .header("location")
                    .unwrap_or_else(|| panic!("a redirect without Location from {url}"));
                Some((absolute(&url, location), None))
            } else if reply.status == 200 && self.serves(&url) {
                HtmlForm::first_in(&reply.text()).and_then(|form| {
                    let fields = if form.has_password() {
                        if logged_in {
                            return None;
                        }
                        logged_in = true;
                        form.filled(login, password)
                    } else {
                        form.fields.clone()
                    };
                    Some((absolute(&url, &form.action), Some(fields)))
                })
            } else {
                None
            };
            let Some((next_url, form)) = next else {
                break;
            };
            hops.push(Hop { url, reply });
            url = next_url;
            reply = match form {
                Some(fields) => {
                    let pairs: Vec<(&str, &str)> = fields
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    browser.post(&url, &pairs).await
                }
                None => browser.get(&url).await,
            };
        }
        hops.push(Hop { url, reply });
        hops.reverse();
        hops
    }

    /// The person signs out at the provider itself (its end-session page, confirmed): the
    /// provider then sends a back-channel logout token to each client of that session that
    /// registered a back-channel logout URI. Returns the hops, the last one first.
    pub async fn log_out(&self, browser: &mut Browser) -> Vec<Hop> {
        self.known_to(browser);
        let url = format!("{}/session/end", self.issuer);
        let page = browser.get(&url).await;
        self.confirm_logout(browser, &url, page).await
    }

    /// Confirms the provider's sign-out page `page` (got from `url`, e.g. at the end of Pforte's
    /// logout redirect) and follows where the provider sends the person after it.
    pub async fn confirm_logout(
        &self,
        browser: &mut Browser,
        url: &str,
        page: crate::client::Reply,
    ) -> Vec<Hop> {
        assert_eq!(
            page.status,
            200,
            "the provider's sign-out page: {}",
            page.text()
        );
        let form = HtmlForm::first_in(&page.text())
            .unwrap_or_else(|| panic!("no sign-out form at {url}: {}", page.text()));
        let action = absolute(url, &form.action);
        let pairs: Vec<(&str, &str)> = form
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let reply = browser.post(&action, &pairs).await;
        browser.follow_from(&action, reply).await
    }
}

/// The first form of a server-rendered page, read as a browser submits it: its action and
/// its named inputs with their values, plus the first named submit button (the one a person
/// clicks). Enough for the provider's plain pages; not an HTML parser.
#[derive(Debug, Clone)]
pub struct HtmlForm {
    /// Where it is posted (as written: resolve it against the page's URL).
    pub action: String,
    /// Name and value of each field, in page order, as they would be submitted.
    pub fields: Vec<(String, String)>,
    /// The `type` of each field, in the same order.
    types: Vec<String>,
}

impl HtmlForm {
    /// The first `<form>` in `page`, if any.
    pub fn first_in(page: &str) -> Option<Self> {
        let start = page.find("<form")?;
        let end = page[start..]
            .find("</form>")
            .map_or(page.len(), |e| start + e);
        let form = &page[start..end];
        let tag_end = form.find('>')?;
        let action = attribute(&form[..tag_end], "action").unwrap_or_default();
        let mut fields = Vec::new();
        let mut types = Vec::new();
        let mut button = false;
        let mut rest = form;
        while let Some(at) = rest.find('<') {
            rest = &rest[at + 1..];
            let close = rest.find('>').unwrap_or(rest.len());
            let tag = &rest[..close];
            let is_input = tag.starts_with("input");
            let is_button = tag.starts_with("button") && !button;
            if !(is_input || is_button) {
                continue;
            }
            let Some(name) = attribute(tag, "name") else {
                continue;
            };
            let kind = attribute(tag, "type").unwrap_or_else(|| "text".to_owned());
            if is_button {
                button = true;
            } else if kind == "submit" {
                continue;
            }
            fields.push((name, attribute(tag, "value").unwrap_or_default()));
            types.push(kind);
        }
        Some(Self {
            action,
            fields,
            types,
        })
    }

    /// Whether the form asks for a password.
    pub fn has_password(&self) -> bool {
        self.types.iter().any(|t| t == "password")
    }

    /// The fields with `login` in the first text field and `password` in the password field.
    pub fn filled(&self, login: &str, password: &str) -> Vec<(String, String)> {
        let mut login_done = false;
        self.fields
            .iter()
            .zip(&self.types)
            .map(|((name, value), kind)| match kind.as_str() {
                "password" => (name.clone(), password.to_owned()),
                "text" | "email" if !login_done => {
                    login_done = true;
                    (name.clone(), login.to_owned())
                }
                _ => (name.clone(), value.clone()),
            })
            .collect()
    }
}

/// The value of attribute `name` in a tag's text (`name="value"`), HTML-unescaped.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let marker = format!("{name}=\"");
    let mut from = 0;
    loop {
        let at = from + tag[from..].find(&marker)?;
        // The attribute itself, not the end of another one's name (`data-name="`).
        let whole = tag[..at].ends_with(char::is_whitespace);
        let start = at + marker.len();
        let end = start + tag[start..].find('"')?;
        if whole {
            return Some(unescape(&tag[start..end]));
        }
        from = end;
    }
}

/// Undoes HTML escaping: the named entities of attributes and numeric ones (`&#38;`).
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else {
            break;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_read_as_a_browser_submits_them() {
        let page = r#"<h1>x</h1><form method="post" action="/interaction/a&#38;b/login">
<input type="hidden" name="prompt" value="login">
<label>Login <input type="text" name="login" value="paula&#64;partner.example"></label>
<label>Password <input type="password" name="password" value=""></label>
<button type="submit">Sign in</button></form><form action="/other">"#;
        let form = HtmlForm::first_in(page).expect("the login form");
        assert_eq!(form.action, "/interaction/a&b/login");
        assert!(form.has_password());
        assert_eq!(
            form.fields[1],
            ("login".into(), "paula@partner.example".into())
        );
        assert_eq!(
            form.filled("paula", "pw"),
            vec![
                ("prompt".to_owned(), "login".to_owned()),
                ("login".to_owned(), "paula".to_owned()),
                ("password".to_owned(), "pw".to_owned()),
            ]
        );
        let logout = r#"<form id="op.logoutForm" method="post" action="https://127.0.0.1:1/session/end/confirm"><input type="hidden" name="xsrf" value="abc"/><button type="submit" name="logout" value="yes">Yes</button></form>"#;
        let form = HtmlForm::first_in(logout).expect("the sign-out form");
        assert_eq!(
            form.fields,
            vec![
                ("xsrf".to_owned(), "abc".to_owned()),
                ("logout".to_owned(), "yes".to_owned())
            ]
        );
        assert!(!form.has_password());
        assert!(HtmlForm::first_in("<p>no form</p>").is_none());
    }
}
