//! The answers every handler writes the same way: HTML pages of the login host, redirects after
//! forms, static assets, public JSON documents, and the reading of small form bodies.

use crate::proxy::body::FromClient;
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};

use super::html::html_response;

/// The largest form body accepted (the login form, logout, the OIDC endpoints' forms).
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// Reads a small form body; `None` when it is too large or broken.
pub async fn read_form<B: FromClient>(req: Request<B>) -> Option<Bytes> {
    Limited::new(req.into_body(), MAX_FORM_BYTES)
        .collect()
        .await
        .ok()
        .map(|collected| collected.to_bytes())
}

/// The policy of the login host's pages: nothing but inline style and its own images.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The policy of pages with a passkey button: the same, plus the login host's own scripts (the
/// passkey script, no inline code) and requests back to itself (the ceremony's JSON).
const PASSKEY_PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A page of the login host: never cached, never framed, images only from itself.
pub fn respond_html(status: StatusCode, body: String) -> Response<Bytes> {
    page_with_policy(status, body, PAGE_POLICY)
}

/// A page of the login host that carries a passkey button: as [`respond_html`], and it may run
/// the login host's own scripts and send them back to it.
pub fn respond_html_with_passkeys(status: StatusCode, body: String) -> Response<Bytes> {
    page_with_policy(status, body, PASSKEY_PAGE_POLICY)
}

fn page_with_policy(status: StatusCode, body: String, policy: &'static str) -> Response<Bytes> {
    let mut response = html_response(status, body);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    // `same-origin`, not `no-referrer`: with no referrer policy browsers send `Origin: null` on
    // the login form's post, which the anti-forgery check must refuse.
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A `303 See Other` to `location` (after a form post, the browser follows with a GET).
pub fn see_other(location: &str) -> Response<Bytes> {
    redirect(StatusCode::SEE_OTHER, location)
}

/// A redirect with `status` to `location`, never cached (it may carry a code or a ticket).
pub fn redirect(status: StatusCode, location: &str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A public JSON document that clients and browsers may fetch from anywhere and cache briefly
/// (discovery, the JWKS, which changes only with a rotation).
pub fn json_public(body: Bytes) -> Response<Bytes> {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// A static asset of the login host (the theme's logo): cached for an hour, never run as a page.
pub fn asset(bytes: Bytes, content_type: &'static str) -> Response<Bytes> {
    let mut response = Response::new(bytes);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
