//! Every way a request can fail inside the gateway, and the one place that turns each into a
//! response, so status codes and pages stay consistent and are tested together.

use bytes::Bytes;
use http::{Response, StatusCode};

use super::decide::Refusal;
use super::pages::error_page;
use crate::policy::engine::PathError;
use crate::proxy::ProxyError;

/// A request the gateway answers itself, with an error.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The request names no host (HTTP/1.0 without `Host`, or a malformed one).
    #[error("request without a valid host")]
    NoHost,
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
        /// Why.
        refusal: Refusal,
    },
    /// Forwarding to the app failed.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
}

/// The response for `err`; `request_id` is shown so people can quote it to support.
pub fn respond(err: &GatewayError, request_id: &str) -> Response<Bytes> {
    let refused_sentence;
    let (status, heading, sentence) = match err {
        GatewayError::NoHost => (
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The request did not say which site it is for.",
        ),
        GatewayError::BadPath(_) => (
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The address of this request is malformed.",
        ),
        GatewayError::Refused { app, refusal } => {
            refused_sentence = match refusal {
                Refusal::Denied(_) => format!(
                    "You have no access to {app} at this address. If you need it, ask your administrator."
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
        GatewayError::UnknownHost(_) => (
            StatusCode::NOT_FOUND,
            "No app at this address",
            "This address does not belong to any app of this workplace. Check the link or start from the portal.",
        ),
        GatewayError::Proxy(ProxyError::Connect(_) | ProxyError::Protocol(_)) => (
            StatusCode::BAD_GATEWAY,
            "The app is not reachable",
            "The app behind this address did not answer properly. Please try again in a moment.",
        ),
        GatewayError::Proxy(ProxyError::Timeout(_)) => (
            StatusCode::GATEWAY_TIMEOUT,
            "The app took too long",
            "The app behind this address did not answer in time. Please try again in a moment.",
        ),
        GatewayError::Proxy(ProxyError::BodyTooLarge(_)) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "Upload too large",
            "The data sent is larger than this app accepts.",
        ),
    };
    error_page(status, heading, sentence, request_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn each_error_has_its_status() {
        let cases = [
            (GatewayError::NoHost, 400),
            (GatewayError::UnknownHost("x".into()), 404),
            (
                GatewayError::Proxy(ProxyError::Connect("refused".into())),
                502,
            ),
            (
                GatewayError::Proxy(ProxyError::Protocol("reset".into())),
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
                    refusal: Refusal::Denied(None),
                },
                403,
            ),
            (
                GatewayError::Refused {
                    app: "Mail".into(),
                    refusal: Refusal::LoginRequired,
                },
                403,
            ),
        ];
        for (err, status) in cases {
            let response = respond(&err, "rid");
            assert_eq!(response.status().as_u16(), status, "{err}");
            let text = String::from_utf8(response.body().to_vec()).unwrap();
            assert!(text.contains("rid"));
            assert!(
                !text.contains("refused"),
                "internal detail leaked for {err}"
            );
            if status == 403 {
                assert!(text.contains("Mail"), "the page names the app: {text}");
            }
        }
    }
}
