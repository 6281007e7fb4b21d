//! Every answer of the listener in one place: a typed body as JSON, and [`AdminError`] → status
//! code in [`respond`], the one map (bad parameter 400 with the field named, nothing there 404,
//! the session store down 503), so no endpoint picks its own codes.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use serde::Serialize;

use pforte_session::StoreError;

use super::api::Problem;

/// Why an admin request got no answer.
#[derive(Debug, thiserror::Error)]
pub(super) enum AdminError {
    /// No or a wrong bearer token (or, without a token configured, not from loopback).
    #[error("admin token required")]
    Unauthorized,
    /// A query parameter is missing, repeated, unknown or malformed.
    #[error("{field}: {why}")]
    BadParam {
        /// The parameter.
        field: String,
        /// What is wrong with it.
        why: String,
    },
    /// The thing asked for does not exist (a session that is not live).
    #[error("{0}")]
    NotFound(String),
    /// The session store did not answer.
    #[error("the session store did not answer: {0}")]
    Store(#[from] StoreError),
}

impl AdminError {
    /// A bad parameter named `field`.
    pub(super) fn bad(field: &str, why: impl Into<String>) -> Self {
        Self::BadParam {
            field: field.to_owned(),
            why: why.into(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::BadParam { .. } => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// The answer to a JSON endpoint: `200` and the body, or the error's code and a [`Problem`].
pub(super) fn respond<T: Serialize>(result: Result<T, AdminError>) -> Response<Full<Bytes>> {
    match result {
        Ok(body) => json(StatusCode::OK, &body),
        Err(e) => {
            let field = match &e {
                AdminError::BadParam { field, .. } => Some(field.clone()),
                _ => None,
            };
            let problem = Problem {
                error: e.to_string(),
                field,
            };
            json(e.status(), &problem)
        }
    }
}

/// `body` as JSON with `status`.
pub(super) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response<Full<Bytes>> {
    match serde_json::to_vec(body) {
        Ok(bytes) => with_type(status, bytes, "application/json"),
        // Our own plain structs always serialise; should one not, say so rather than panic.
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the answer: {e}\n"),
        ),
    }
}

/// A plain-text answer (probes, reload).
pub(super) fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    with_type(status, body, "text/plain; charset=utf-8")
}

fn with_type(
    status: StatusCode,
    body: impl Into<Bytes>,
    content_type: &'static str,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;

    async fn body(response: Response<Full<Bytes>>) -> (StatusCode, Problem) {
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn each_failure_has_its_code_and_names_its_field() {
        let (status, problem) = body(respond::<()>(Err(AdminError::bad(
            "sid",
            "16 hex characters",
        ))))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(problem.field.as_deref(), Some("sid"));
        assert!(problem.error.starts_with("sid: "), "{}", problem.error);
        let (status, problem) = body(respond::<()>(Err(AdminError::Unauthorized))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(problem.field, None);
        let (status, _) = body(respond::<()>(Err(AdminError::NotFound("x".into())))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let down = StoreError::Seal;
        let (status, _) = body(respond::<()>(Err(down.into()))).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
}
