//! The hostile-input suite: requests written as an attacker writes them, each family asserting
//! what the app receives (the test upstreams echo every header they get) or the refusal. Each
//! case failed before the fix it guards; later work adds its own families here.
//!
//! - `identity_headers`: identity headers deleted through `Connection`, smuggled in underscore
//!   spellings, or sent under names Pforte was not told about;
//! - `hosts`: another `Host` than the one the policy judged (absolute form, two headers, HTTP/2);
//! - `paths`: path parameters and `..;` that a Servlet container reads as a protected path;
//! - `reauthentication`: `prompt=login` passed by a parameter the client wrote;
//! - `cookies`: a parent-domain cookie planted by a sibling host (cookie tossing);
//! - `bodies`: a client's broken chunked body, which is the client's error, not the upstream's.

mod bodies;
mod cookies;
mod hosts;
mod identity_headers;
mod paths;
mod reauthentication;

use pforte_e2e::browser::Browser;
use pforte_e2e::gateway::{Gateway, GatewayBuilder, app_toml};
use pforte_e2e::raw::{self, RawReply};
use pforte_e2e::upstream::Upstream;

/// The demo's rules for the apps these tests attack: a partners' video app and an admins' console
/// on one name-based upstream, a wiki with a public handbook and protected runbooks, projects
/// with a finance area, mail with public discovery documents.
const POLICY: &str = r#"
[[rule]]
apps = ["*"]
paths = ["/.well-known/"]
allow = ["everyone"]

[[rule]]
apps = ["mail", "wiki", "projects", "video"]
allow = ["group:staff"]

[[rule]]
apps = ["video"]
allow = ["group:partners"]

[[rule]]
apps = ["admin"]
allow = ["group:admins"]

[[rule]]
apps = ["projects"]
paths = ["/finance/"]
deny = ["everyone"]
except = ["group:finance"]

[[rule]]
apps = ["wiki"]
paths = ["/handbook/"]
methods = ["GET", "HEAD"]
allow = ["everyone"]

[[rule]]
apps = ["wiki"]
paths = ["/runbooks/"]
deny = ["everyone"]
except = ["group:admins"]
"#;

/// A gateway with the demo people in front of the attacked apps. `video` and `admin` share one
/// upstream, as apps behind a name-based virtual host do; `video` also gets a signed assertion.
struct Target {
    gw: Gateway,
    /// Serves video and admin.
    shared: Upstream,
    /// Serves the wiki.
    wiki: Upstream,
    /// Serves projects.
    projects: Upstream,
    /// Serves mail.
    mail: Upstream,
}

impl Target {
    async fn start() -> Self {
        Self::start_with(|b| b).await
    }

    async fn start_with(configure: impl FnOnce(GatewayBuilder) -> GatewayBuilder) -> Self {
        let shared = Upstream::start("shared").await;
        let wiki = Upstream::start("wiki").await;
        let projects = Upstream::start("projects").await;
        let mail = Upstream::start("mail").await;
        let apps = [
            app_toml(
                "video",
                "video.gw.test",
                "/",
                &[shared.url()],
                "[app.identity_headers]\nassertion = \"X-Pforte-Assertion\"",
            ),
            app_toml("admin", "admin.gw.test", "/", &[shared.url()], ""),
            app_toml("wiki", "wiki.gw.test", "/", &[wiki.url()], ""),
            app_toml("projects", "projects.gw.test", "/", &[projects.url()], ""),
            app_toml("mail", "mail.gw.test", "/", &[mail.url()], ""),
        ]
        .concat();
        let builder = Gateway::builder()
            .apps(apps)
            .policy(POLICY)
            .demo_people()
            .keys()
            .audit_log();
        let gw = configure(builder).start().await;
        Self {
            gw,
            shared,
            wiki,
            projects,
            mail,
        }
    }

    /// The value of `username`'s session cookie on `host`, after logging in through the form.
    async fn session(&self, username: &str, host: &str) -> String {
        let mut browser = Browser::new(self.gw.https, self.gw.root());
        let hops = browser
            .login(
                &format!("https://{host}/"),
                username,
                &format!("{username}pw"),
            )
            .await;
        assert!(
            hops[0].reply.status < 500,
            "login of {username} failed: {}",
            hops[0].reply.text()
        );
        browser
            .cookie(host, "__Host-pforte")
            .unwrap_or_else(|| panic!("{username} has no session on {host}"))
            .to_string()
    }

    /// Sends raw `request` bytes with SNI `sni`.
    async fn raw(&self, sni: &str, request: &[u8]) -> RawReply {
        raw::send(self.gw.https, sni, &self.gw.root(), request).await
    }
}

/// The cookie header line of a session.
fn cookie(session: &str) -> String {
    format!("__Host-pforte={session}")
}

/// The values the app received under `name` (the echo's lower-case names).
fn received<'a>(echo: &'a serde_json::Value, name: &str) -> Vec<&'a str> {
    echo["headers"][name]
        .as_array()
        .map(|values| values.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default()
}

/// The header names the app received whose name, read with `_` as `-`, is `protected`.
fn spellings_of(echo: &serde_json::Value, protected: &str) -> Vec<String> {
    echo["headers"]
        .as_object()
        .map(|headers| {
            headers
                .keys()
                .filter(|name| name.replace('_', "-").eq_ignore_ascii_case(protected))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}
