//! The provider's responses: JSON that is never cached, OAuth errors in the shape each
//! endpoint's RFC prescribes, and the page shown when an error cannot go back to the client.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use pforte_oidc::{ErrorCode, ProtocolError};
use serde::Serialize;

use super::ApiEndpoint;
use crate::telemetry::Metrics;
use crate::web::error::GatewayError;
use crate::web::error_texts::{self, ErrorTexts, Message};
use crate::web::html;
use crate::web::look::Look;

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
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
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

/// How long a client should wait before retrying while the session store is down.
const RETRY_AFTER_SECS: &str = "5";

/// A failure of the gateway itself at an endpoint that programs call (token, userinfo,
/// introspection, revocation): JSON in the endpoint's error shape that a client library can
/// read and retry on, never the browser's HTML error page.
pub fn api_failure(
    metrics: &Metrics,
    endpoint: &ApiEndpoint,
    err: &GatewayError,
) -> Response<Bytes> {
    let (code, description) = match err {
        GatewayError::BadForm => (
            ErrorCode::InvalidRequest,
            "the body must be an application/x-www-form-urlencoded form of at most 16 KiB",
        ),
        GatewayError::MethodNotAllowed => (
            ErrorCode::InvalidRequest,
            "this endpoint does not take that method",
        ),
        GatewayError::Sessions(error) => {
            tracing::warn!(%error, endpoint = endpoint.name, "session store unavailable for an OIDC request");
            (
                ErrorCode::TemporarilyUnavailable,
                "the provider cannot reach its session store; try again shortly",
            )
        }
        GatewayError::DirectoryUnavailable => (
            ErrorCode::TemporarilyUnavailable,
            "the provider cannot reach its directory to check the person; try again shortly",
        ),
        GatewayError::RateLimited { .. } => (
            ErrorCode::TemporarilyUnavailable,
            "too many requests from this address; retry after the time Retry-After gives",
        ),
        other => {
            tracing::error!(error = %other, endpoint = endpoint.name, "OIDC request failed");
            (ErrorCode::ServerError, "the provider failed to answer")
        }
    };
    let error = ProtocolError::new(code, description);
    metrics.record_oidc_refusal(endpoint.name, error.code.as_str());
    let mut response = if endpoint.bearer {
        bearer_error(&error)
    } else {
        oauth_error(&error)
    };
    match err {
        GatewayError::MethodNotAllowed => {
            *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(endpoint.methods));
        }
        GatewayError::Sessions(_) | GatewayError::DirectoryUnavailable => {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        GatewayError::RateLimited { retry_after } => {
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        _ => {}
    }
    response
}

/// The answer to a request that carries no token at all: 401 with a challenge that names the
/// scheme and no error code (RFC 6750 §3.1: a request without any credentials is not an error
/// of a token).
pub fn bearer_challenge() -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    let headers = response.headers_mut();
    headers.insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"pforte\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An error of a bearer-token resource (userinfo, RFC 6750 §3).
pub fn bearer_error(error: &ProtocolError) -> Response<Bytes> {
    let status = match error.code {
        ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
        ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
        ErrorCode::TemporarilyUnavailable | ErrorCode::ServerError => status_of(error.code),
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
/// error stays here rather than going to an unproven address (RFC 6749 §4.1.2.1). `which` picks
/// its heading and sentence in the page's language; `detail` (the protocol's reason, for the
/// client's developers) is shown as it is.
pub fn error_page(
    look: &Look<'_>,
    which: fn(&ErrorTexts) -> &Message,
    detail: &str,
    request_id: &str,
) -> Response<Bytes> {
    let message = which(error_texts::of(look.lang));
    html::error_page(
        look,
        &html::ErrorPage {
            status: StatusCode::BAD_REQUEST,
            heading: message.heading,
            sentence: message.sentence,
            detail: Some(detail),
            continue_to: None,
        },
        request_id,
    )
}

/// A redirect to a client or to the login page; `302 Found` as OAuth describes for GET.
pub fn found(location: &str) -> Response<Bytes> {
    crate::web::reply::redirect(StatusCode::FOUND, location)
}
