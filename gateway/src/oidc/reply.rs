//! The provider's responses: JSON that is never cached, OAuth errors in the shape each
//! endpoint's RFC prescribes, and the page shown when an error cannot go back to the client.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use pforte_oidc::{ErrorCode, ProtocolError};
use serde::Serialize;

use crate::pipeline::pages;
use crate::telemetry::Metrics;

/// A JSON body that must not be stored anywhere (tokens, userinfo, introspection).
pub fn json_no_store(status: StatusCode, value: &impl Serialize) -> Response<Bytes> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
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

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'static str,
    error_description: &'a str,
}

/// The status an OAuth error is answered with at the token, introspection and revocation
/// endpoints (RFC 6749 §5.2).
fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// An error of the token, introspection or revocation endpoint.
fn oauth_error(error: &ProtocolError) -> Response<Bytes> {
    let mut response = json_no_store(
        status_of(error.code),
        &ErrorBody {
            error: error.code.as_str(),
            error_description: &error.description,
        },
    );
    if error.code == ErrorCode::InvalidClient {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"pforte\""),
        );
    }
    response
}

/// An error of the token, introspection or revocation endpoint, counted by endpoint and code.
pub fn refused(
    metrics: &Metrics,
    endpoint: &'static str,
    error: &ProtocolError,
) -> Response<Bytes> {
    metrics.record_oidc_refusal(endpoint, error.code.as_str());
    oauth_error(error)
}

/// An error of a bearer-token resource (userinfo, RFC 6750 §3).
pub fn bearer_error(error: &ProtocolError) -> Response<Bytes> {
    let status = match error.code {
        ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
        ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
        _ => StatusCode::UNAUTHORIZED,
    };
    let mut response = json_no_store(
        status,
        &ErrorBody {
            error: error.code.as_str(),
            error_description: &error.description,
        },
    );
    let challenge = format!("Bearer realm=\"pforte\", error=\"{}\"", error.code.as_str());
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The provider's own error page, for a request whose redirect URI cannot be trusted: the
/// error stays here rather than going to an unproven address (RFC 6749 §4.1.2.1).
pub fn error_page(heading: &str, detail: &str, request_id: &str) -> Response<Bytes> {
    pages::error_page(StatusCode::BAD_REQUEST, heading, detail, request_id)
}

/// A redirect to a client or to the login page; `302 Found` as OAuth describes for GET.
pub fn found(location: &str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::FOUND;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
