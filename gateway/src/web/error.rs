//! Every way a request can fail inside the gateway, and the one place that turns each into a
//! response, so status codes and pages stay consistent and are tested together.

use bytes::Bytes;
use http::{Response, StatusCode};

use super::html::error_page;
use crate::policy::decide::Refusal;
use crate::policy::engine::PathError;
use crate::proxy::ProxyError;
use crate::route::HostError;

/// A request the gateway answers itself, with an error.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The request names no host, a malformed one, or more than one.
    #[error("bad host: {0}")]
    BadHost(#[from] HostError),
    /// No app is configured for this host and path.
    #[error("no app for host {0}")]
    UnknownHost(String),
    /// The path cannot be put in its normal form safely.
    #[error("bad path: {0}")]
    BadPath(PathError),
    /// The policy refused the request.
    #[error("refused for app {app}: {refusal:?}")]
    Refused {
        /// The app's display name, for the page.
        app: String,
        /// Who was refused (their display name), `None` when not logged in.
        user: Option<String>,
        /// Why.
        refusal: Refusal,
    },
    /// A browser without a session asked for something that needs one: off to the login page,
    /// with the hand-over cookie for a browser that has none yet.
    #[error("login required")]
    LoginRedirect {
        /// The login page's URL.
        location: String,
        /// The `Set-Cookie` of the browser's hand-over binding.
        cookie: Option<http::HeaderValue>,
    },
    /// An API client without a session asked for something that needs one.
    #[error("login required")]
    Unauthenticated,
    /// A form of the login host was too large, malformed or failed the anti-forgery check.
    #[error("bad form")]
    BadForm,
    /// No such page on the login host.
    #[error("not found")]
    NotFound,
    /// A page of the login host asked with the wrong method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The session store did not answer.
    #[error(transparent)]
    Sessions(#[from] pforte_session::StoreError),
    /// Forwarding to the app failed.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
}

/// The response for `err`; `request_id` is shown so people can quote it to support.
pub fn respond(err: &GatewayError, request_id: &str) -> Response<Bytes> {
    let refused_sentence;
    let (status, heading, sentence) = match err {
        GatewayError::BadHost(HostError::Missing | HostError::Malformed) => (
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The request did not say which site it is for.",
        ),
        GatewayError::BadHost(HostError::Repeated | HostError::Conflicting) => (
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The request names more than one site.",
        ),
        GatewayError::BadPath(_) => (
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The address of this request is malformed.",
        ),
        GatewayError::Refused { app, user, refusal } => {
            let who = user.as_deref().map_or_else(
                || "You have".to_string(),
                |name| format!("{name}, you have"),
            );
            refused_sentence = match refusal {
                Refusal::Denied(_) => format!(
                    "{who} no access to {app} at this address. If you need it, ask your administrator."
                ),
                Refusal::LoginRequired => {
                    format!("{app} is open only to signed-in people who have access to it.")
                }
                Refusal::StepUpRequired(login) => {
                    format!("{app} needs a stronger sign-in ({login}) than the one you used.")
                }
            };
            (
                StatusCode::FORBIDDEN,
                "Access denied",
                refused_sentence.as_str(),
            )
        }
        GatewayError::LoginRedirect { location, cookie } => {
            return login_redirect(location, cookie.as_ref(), request_id);
        }
        GatewayError::Unauthenticated => (
            StatusCode::UNAUTHORIZED,
            "Login required",
            "This address needs a signed-in person. Sign in at the portal first.",
        ),
        GatewayError::BadForm => (
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The form could not be read or has expired. Please go back and try again.",
        ),
        GatewayError::NotFound => (
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no page at this address.",
        ),
        GatewayError::MethodNotAllowed => (
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            "This page cannot be used that way.",
        ),
        GatewayError::Sessions(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is unavailable",
            "The sign-in service cannot be reached right now. Please try again in a moment.",
        ),
        GatewayError::UnknownHost(_) => (
            StatusCode::NOT_FOUND,
            "No app at this address",
            "This address does not belong to any app of this workplace. Check the link or start from the portal.",
        ),
        GatewayError::Proxy(ProxyError::Connect { .. } | ProxyError::Protocol { .. }) => (
            StatusCode::BAD_GATEWAY,
            "The app is not reachable",
            "The app behind this address did not answer properly. Please try again in a moment.",
        ),
        GatewayError::Proxy(ProxyError::Timeout(_)) => (
            StatusCode::GATEWAY_TIMEOUT,
            "The app took too long",
            "The app behind this address did not answer in time. Please try again in a moment.",
        ),
        GatewayError::Proxy(ProxyError::ClientBody { .. }) => (
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The data sent with this request is malformed.",
        ),
        GatewayError::Proxy(ProxyError::BodyTooLarge(_)) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "Upload too large",
            "The data sent is larger than this app accepts.",
        ),
    };
    error_page(status, heading, sentence, request_id)
}

/// `302 Found` to the login page; the page body says where for clients that do not follow.
fn login_redirect(
    location: &str,
    cookie: Option<&http::HeaderValue>,
    request_id: &str,
) -> Response<Bytes> {
    let mut response = error_page(
        StatusCode::FOUND,
        "Login required",
        "Continue to the login page.",
        request_id,
    );
    if let Ok(value) = http::HeaderValue::from_str(location) {
        response.headers_mut().insert(http::header::LOCATION, value);
    }
    if let Some(cookie) = cookie {
        response
            .headers_mut()
            .append(http::header::SET_COOKIE, cookie.clone());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::body::ReadError;
    use std::time::Duration;

    use crate::proxy::UpstreamCause;
    use crate::proxy::connect::ConnectError;

    /// A real hyper error, as the proxy meets them: an answer that is not HTTP.
    async fn hyper_error() -> hyper::Error {
        use tokio::io::AsyncWriteExt;
        let (client, mut server) = tokio::io::duplex(1024);
        let (mut sender, connection) = hyper::client::conn::http1::handshake::<
            _,
            http_body_util::Empty<Bytes>,
        >(hyper_util::rt::TokioIo::new(client))
        .await
        .unwrap();
        tokio::spawn(connection);
        server.write_all(b"this is not HTTP\r\n\r\n").await.unwrap();
        sender
            .send_request(http::Request::new(http_body_util::Empty::new()))
            .await
            .unwrap_err()
    }

    #[tokio::test]
    async fn each_error_has_its_status() {
        let refused = ConnectError::Tcp {
            authority: "app.internal:8080".into(),
            source: std::io::ErrorKind::ConnectionRefused.into(),
        };
        let cases = [
            (GatewayError::BadHost(HostError::Missing), 400),
            (GatewayError::BadHost(HostError::Repeated), 400),
            (
                GatewayError::Proxy(ProxyError::ClientBody {
                    source: ReadError::new(hyper_error().await),
                }),
                400,
            ),
            (GatewayError::UnknownHost("x".into()), 404),
            (
                GatewayError::Proxy(ProxyError::Connect {
                    source: UpstreamCause::Connect(refused),
                }),
                502,
            ),
            (
                GatewayError::Proxy(ProxyError::Protocol {
                    source: UpstreamCause::Http1(hyper_error().await),
                }),
                502,
            ),
            (
                GatewayError::Proxy(ProxyError::Timeout(Duration::from_secs(1))),
                504,
            ),
            (GatewayError::Proxy(ProxyError::BodyTooLarge(10)), 413),
            (GatewayError::BadPath(PathError::EncodedSeparator), 400),
            (
                GatewayError::Refused {
                    app: "Mail".into(),
                    user: Some("Bob Builder".into()),
                    refusal: Refusal::Denied(None),
                },
                403,
            ),
            (
                GatewayError::Refused {
                    app: "Mail".into(),
                    user: None,
                    refusal: Refusal::LoginRequired,
                },
                403,
            ),
            (GatewayError::Unauthenticated, 401),
            (
                GatewayError::LoginRedirect {
                    location: "https://login.example.org/login".into(),
                    cookie: None,
                },
                302,
            ),
            (GatewayError::BadForm, 400),
            (GatewayError::NotFound, 404),
            (GatewayError::MethodNotAllowed, 405),
        ];
        for (err, status) in cases {
            let response = respond(&err, "rid");
            assert_eq!(response.status().as_u16(), status, "{err}");
            let text = String::from_utf8(response.body().to_vec()).unwrap();
            assert!(text.contains("rid"));
            assert!(
                !text.contains("refused") && !text.contains("app.internal"),
                "internal detail leaked for {err}"
            );
            if status == 403 {
                assert!(text.contains("Mail"), "the page names the app: {text}");
            }
        }
    }
}
