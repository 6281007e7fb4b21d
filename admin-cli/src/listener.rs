//! The running gateway's admin listener as `pforte-admin` calls it: plain HTTP/1.1 to
//! `[admin] listen`, the config's `[admin] token` as a bearer token when there is one, answers
//! read into the gateway's own types ([`pforte::admin::api`]). Used by `status`, and for the
//! memory session store, whose sessions and locks only the gateway process holds.
//!
//! Every failure is a [`ListenerError`] that says what went wrong: the gateway is not there, it
//! refused us, or it answered with a failure of its own (a bad parameter, nothing there, its
//! session store down).

use std::time::Duration;

use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use tokio::net::TcpStream;

use pforte::admin::api::{Problem, StatusReport};
use pforte::config::{Admin, Secret};

/// How long the gateway has to answer one request.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Why the admin listener gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    /// Nothing answers at the address (the gateway is not running, or listens elsewhere).
    #[error("gateway at {addr}: cannot connect: {reason}")]
    Connect {
        /// The admin listener.
        addr: String,
        /// The system's reason.
        reason: String,
    },
    /// Connected, but no answer in time.
    #[error("gateway at {addr}: no answer within {}s", TIMEOUT.as_secs())]
    Timeout {
        /// The admin listener.
        addr: String,
    },
    /// The gateway refused this tool (401).
    #[error(
        "gateway at {addr}: refused: the config's [admin] token is missing or not the one the \
         gateway uses (without a token the gateway answers only its own host)"
    )]
    Refused {
        /// The admin listener.
        addr: String,
    },
    /// The gateway answered with a failure: a bad parameter, nothing there, or its session
    /// store down.
    #[error("gateway at {addr}: {}", problem.error)]
    Failed {
        /// The admin listener.
        addr: String,
        /// The status code.
        status: StatusCode,
        /// What the gateway said.
        problem: Problem,
    },
    /// The answer is not what this version of the tool expects (another version of the
    /// gateway, or something else listens there).
    #[error("gateway at {addr}: answered {status} with {what}")]
    Unexpected {
        /// The admin listener.
        addr: String,
        /// The status code.
        status: StatusCode,
        /// What was wrong with the body.
        what: String,
    },
}

impl ListenerError {
    /// Whether the gateway said that the thing asked for does not exist (404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// The status code of a failure the gateway answered with.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Failed { status, .. } | Self::Unexpected { status, .. } => Some(*status),
            Self::Connect { .. } | Self::Timeout { .. } | Self::Refused { .. } => None,
        }
    }
}

/// The gateway's admin listener, as the config names it.
pub struct Listener {
    addr: String,
    token: Option<Secret>,
}

impl Listener {
    /// The listener of `[admin]`.
    pub fn new(admin: &Admin) -> Self {
        Self {
            addr: admin.listen.to_string(),
            token: admin.token.clone(),
        }
    }

    /// Where it listens, for messages.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// `GET /status`: the report, whether the gateway is healthy (200) or not (503).
    pub async fn status(&self) -> Result<StatusReport, ListenerError> {
        let (status, body) = self.send(Method::GET, "/status").await?;
        match status {
            StatusCode::OK | StatusCode::SERVICE_UNAVAILABLE => self.read(status, &body),
            _ => Err(self.failure(status, &body)),
        }
    }

    /// `GET path`, its `200` answer read as `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ListenerError> {
        self.call(Method::GET, path).await
    }

    /// `POST path`, its `200` answer read as `T`.
    pub async fn post<T: DeserializeOwned>(&self, path: &str) -> Result<T, ListenerError> {
        self.call(Method::POST, path).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
    ) -> Result<T, ListenerError> {
        let (status, body) = self.send(method, path).await?;
        if status != StatusCode::OK {
            return Err(self.failure(status, &body));
        }
        self.read(status, &body)
    }

    fn read<T: DeserializeOwned>(
        &self,
        status: StatusCode,
        body: &[u8],
    ) -> Result<T, ListenerError> {
        serde_json::from_slice(body).map_err(|e| ListenerError::Unexpected {
            addr: self.addr.clone(),
            status,
            what: format!("an answer this tool cannot read: {e}"),
        })
    }

    fn failure(&self, status: StatusCode, body: &[u8]) -> ListenerError {
        if status == StatusCode::UNAUTHORIZED {
            return ListenerError::Refused {
                addr: self.addr.clone(),
            };
        }
        match serde_json::from_slice::<Problem>(body) {
            Ok(problem) => ListenerError::Failed {
                addr: self.addr.clone(),
                status,
                problem,
            },
            Err(_) => ListenerError::Unexpected {
                addr: self.addr.clone(),
                status,
                what: format!("{:?}", String::from_utf8_lossy(body).trim()),
            },
        }
    }

    /// One request within [`TIMEOUT`].
    async fn send(&self, method: Method, path: &str) -> Result<(StatusCode, Bytes), ListenerError> {
        tokio::time::timeout(TIMEOUT, self.exchange(method, path))
            .await
            .map_err(|_| ListenerError::Timeout {
                addr: self.addr.clone(),
            })?
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
    ) -> Result<(StatusCode, Bytes), ListenerError> {
        let broken = |reason: String| ListenerError::Connect {
            addr: self.addr.clone(),
            reason,
        };
        let stream = TcpStream::connect(&self.addr)
            .await
            .map_err(|e| broken(e.to_string()))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| broken(e.to_string()))?;
        tokio::spawn(conn);
        let mut request = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, &self.addr);
        if let Some(token) = &self.token {
            request = request.header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", token.expose()),
            );
        }
        let request = request
            .body(Empty::<Bytes>::new())
            .map_err(|e| broken(e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| broken(e.to_string()))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| broken(e.to_string()))?
            .to_bytes();
        Ok((status, body))
    }
}

/// `path?name=value&…`, the values percent-encoded.
pub fn with_query(path: &str, params: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    format!("{path}?{}", query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            with_query("/sessions/revoke", &[("subject", "a b&c"), ("by", "é")]),
            "/sessions/revoke?subject=a+b%26c&by=%C3%A9"
        );
    }
}
