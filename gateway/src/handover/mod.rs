//! Single sign-on across hosts. A browser keeps cookies per host, and the session cookie is
//! host-only (`__Host-`), so an app host learns about a login on the login host through a short
//! hand-over:
//!
//! ```text
//! app host, no session ──302──▶ login host /login?return_to=https://app/path&handover=B
//!   login host, session (or after the form) ──302──▶ https://app/.pforte/sso?ticket=T&return_to=/path
//!     app host redeems T once ──▶ sets its own session cookie ──302──▶ /path
//! ```
//!
//! A ticket is random, single-use, lives 60 seconds, is bound to the one host it was issued for
//! and to the browser that asked for it ([`binding`]), and is kept in the session store (so any
//! replica can redeem it) only as a hash with the session id sealed under a key derived from the
//! ticket itself: a dump of the store cannot be turned into a session. The session id itself
//! never appears in a URL.
//!
//! The app hosts' two built-in paths live here: [`SSO_PATH`] redeems a ticket, [`LOGIN_PATH`]
//! sends a browser off to log in with its binding (for sites behind their own proxy, whose
//! forward-auth answer cannot set the app host's cookie). Neither is ever forwarded to an app.

pub mod binding;

use bytes::Bytes;
use http::{HeaderMap, Response, header};
use pforte_session::Timestamp;

pub use crate::route::{LOGIN_PATH, SSO_PATH};
use crate::state::{Shared, Snapshot};
use crate::web::cookies;
use crate::web::error::GatewayError;
use crate::web::reply::see_other;
use crate::web::url::{encode, local_path, port_suffix, query_value};
pub use binding::Binding;

/// The login page's URL on the login host for `return_to`, with the browser's hand-over
/// binding when it comes from an app host.
pub fn login_url(
    login_host: &str,
    port_suffix: &str,
    return_to: &str,
    binding: Option<&Binding>,
) -> String {
    let mut url = format!(
        "https://{login_host}{port_suffix}/login?return_to={}",
        encode(return_to)
    );
    if let Some(binding) = binding {
        url.push_str("&handover=");
        url.push_str(binding.as_str());
    }
    url
}

/// The login host's step-up page for `return_to`: a person whose session is too weak for what
/// they asked (a rule's `login = "mfa"`) gives a second factor there and comes back. No
/// hand-over is needed: the session is stepped up in place, under the cookie the app host has.
pub fn step_up_url(login_host: &str, port_suffix: &str, return_to: &str) -> String {
    format!(
        "https://{login_host}{port_suffix}/mfa?return_to={}",
        encode(return_to)
    )
}

/// The URL on an app host that starts a login for `path_and_query` there.
pub fn start_url(host: &str, port_suffix: &str, path_and_query: &str) -> String {
    format!(
        "https://{host}{port_suffix}{LOGIN_PATH}?return_to={}",
        encode(path_and_query)
    )
}

/// The hand-over URL on `host` for a ticket, landing on `path_and_query` there.
pub fn handover_url(host: &str, port_suffix: &str, ticket: &str, path_and_query: &str) -> String {
    format!(
        "https://{host}{port_suffix}{SSO_PATH}?ticket={}&return_to={}",
        encode(ticket),
        encode(path_and_query)
    )
}

/// Redeems a hand-over ticket on an app host: with the browser's hand-over cookie, sets that
/// host's session cookie and lands on the local path. A ticket that is unknown, used, expired,
/// for another host or for another browser sends the person to log in again (which hands over
/// a fresh ticket when their session is alive). `now` is the request's time.
pub async fn redeem(
    shared: &Shared,
    snapshot: &Snapshot,
    host: &str,
    req: &http::request::Parts,
    now: Timestamp,
) -> Result<Response<Bytes>, GatewayError> {
    let ticket = query_value(req.uri.query(), "ticket").unwrap_or_default();
    let landing = landing(req.uri.query());
    let redeemed = match binding::proven(&req.headers) {
        Some(binding) => {
            shared
                .sessions
                .redeem_ticket(&ticket, &binding.audience(host), now)
                .await?
        }
        None => None,
    };
    let Some(id) = redeemed else {
        return Ok(to_login(snapshot, host, &landing, &req.headers));
    };
    let mut response = see_other(&landing);
    let lifetime = snapshot.config.sessions.sessions.absolute_timeout;
    if let Some(cookie) = cookies::set(cookies::SESSION, &id.to_cookie_value(), lifetime) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::clear(cookies::HANDOVER));
    Ok(response)
}

/// `/.pforte/login` on an app host: off to the login host with this browser's hand-over
/// binding, to come back to the local `return_to` path.
pub fn start_login(snapshot: &Snapshot, host: &str, req: &http::request::Parts) -> Response<Bytes> {
    to_login(snapshot, host, &landing(req.uri.query()), &req.headers)
}

/// The local path a query's `return_to` names, `/` when it names none or another host.
fn landing(query: Option<&str>) -> String {
    let landing = query_value(query, "return_to");
    landing
        .as_deref()
        .and_then(local_path)
        .unwrap_or("/")
        .to_string()
}

/// The redirect from app host `host` to the login form, returning to `landing` there, with the
/// browser's hand-over binding (and its cookie, for a browser that has none yet).
fn to_login(
    snapshot: &Snapshot,
    host: &str,
    landing: &str,
    headers: &HeaderMap,
) -> Response<Bytes> {
    let port = port_suffix(snapshot.config.server.public_https_port);
    let back = format!("https://{host}{port}{landing}");
    let (binding, cookie) = binding::start(binding::nonce(headers).as_deref());
    let mut response = see_other(&login_url(
        &snapshot.config.portal_host,
        &port,
        &back,
        Some(&binding),
    ));
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::web::url::query_value;
    use http::Uri;

    #[test]
    fn urls_round_trip_their_values() {
        let binding = Binding::parse(&"0".repeat(64)).unwrap();
        let url = login_url(
            "login.example.org",
            "",
            "https://mail.example.org/a?b=c&d=e",
            Some(&binding),
        );
        let uri: Uri = url.parse().unwrap();
        assert_eq!(
            query_value(uri.query(), "return_to").as_deref(),
            Some("https://mail.example.org/a?b=c&d=e")
        );
        assert_eq!(
            query_value(uri.query(), "handover").as_deref(),
            Some(binding.as_str())
        );
        let url = start_url("wiki.example.org", "", "/a?b=c");
        assert_eq!(
            url,
            "https://wiki.example.org/.pforte/login?return_to=%2Fa%3Fb%3Dc"
        );
        let url = handover_url("mail.example.org", ":8443", "t+/=", "/inbox?x=1");
        let uri: Uri = url.parse().unwrap();
        assert_eq!(uri.path(), SSO_PATH);
        assert_eq!(uri.port_u16(), Some(8443));
        assert_eq!(query_value(uri.query(), "ticket").as_deref(), Some("t+/="));
        assert_eq!(
            query_value(uri.query(), "return_to").as_deref(),
            Some("/inbox?x=1")
        );
    }
}
