//! Every way a request can fail inside the gateway, and the one place that turns each into a
//! response, so status codes and pages stay consistent and are tested together. The page speaks
//! the request's language in the organisation's look ([`Look`]), which the caller decides: the
//! pipeline for every stage's failure, forward auth for its refusals.

use bytes::Bytes;
use http::{Response, StatusCode};

use super::error_texts::{self, fill};
use super::html::{ErrorPage, error_page};
use super::look::Look;
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
    /// The client's address used up its rate at this endpoint (`[limits.rate]`).
    #[error("rate limited; retry after {retry_after} s")]
    RateLimited {
        /// Seconds until it may try again.
        retry_after: u64,
    },
    /// No such page on the login host.
    #[error("not found")]
    NotFound,
    /// A page of the login host asked with the wrong method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The session store did not answer.
    #[error(transparent)]
    Sessions(#[from] pforte_session::StoreError),
    /// A session's identity is due to be read again and the directory has not answered past
    /// the grace.
    #[error("the directory did not answer a due identity refresh")]
    DirectoryUnavailable,
    /// Forwarding to the app failed.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// A second factor could not be read, checked or saved (directory or store down).
    #[error(transparent)]
    SecondFactor(#[from] crate::mfa::FactorError),
}

/// The response for `err`, in the request's language and the organisation's look (`look`);
/// `request_id` is shown so people can quote it to support.
pub fn respond(err: &GatewayError, look: &Look<'_>, request_id: &str) -> Response<Bytes> {
    let t = error_texts::of(look.lang);
    let (status, message) = match err {
        GatewayError::BadHost(HostError::Missing | HostError::Malformed) => {
            (StatusCode::BAD_REQUEST, &t.no_host)
        }
        GatewayError::BadHost(HostError::Repeated | HostError::Conflicting) => {
            (StatusCode::BAD_REQUEST, &t.many_hosts)
        }
        GatewayError::BadPath(_) => (StatusCode::BAD_REQUEST, &t.bad_path),
        GatewayError::Refused { app, user, refusal } => {
            let (message, login) = match (refusal, user) {
                (Refusal::Denied(_), None) => (&t.denied, String::new()),
                (Refusal::Denied(_), Some(_)) => (&t.denied_named, String::new()),
                (Refusal::LoginRequired, _) => (&t.login_required, String::new()),
                (Refusal::StepUpRequired(login), _) => (&t.step_up, login.to_string()),
            };
            let sentence = fill(
                message.sentence,
                &[
                    ("app", app),
                    ("name", user.as_deref().unwrap_or_default()),
                    ("login", &login),
                ],
            );
            return page(
                look,
                StatusCode::FORBIDDEN,
                message.heading,
                &sentence,
                request_id,
            );
        }
        GatewayError::LoginRedirect { location, cookie } => {
            return login_redirect(look, location, cookie.as_ref(), request_id);
        }
        GatewayError::RateLimited { retry_after } => {
            let seconds = retry_after.to_string();
            let message = &t.rate_limited;
            let sentence = fill(message.sentence, &[("seconds", &seconds)]);
            let mut response = page(
                look,
                StatusCode::TOO_MANY_REQUESTS,
                message.heading,
                &sentence,
                request_id,
            );
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from(*retry_after),
            );
            return response;
        }
        GatewayError::Unauthenticated => (StatusCode::UNAUTHORIZED, &t.unauthenticated),
        GatewayError::BadForm => (StatusCode::BAD_REQUEST, &t.bad_form),
        GatewayError::NotFound => (StatusCode::NOT_FOUND, &t.not_found),
        GatewayError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, &t.method_not_allowed),
        GatewayError::Sessions(_)
        | GatewayError::SecondFactor(_)
        | GatewayError::DirectoryUnavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, &t.sessions_unavailable)
        }
        GatewayError::UnknownHost(_) => (StatusCode::NOT_FOUND, &t.unknown_host),
        GatewayError::Proxy(ProxyError::Connect { .. } | ProxyError::Protocol { .. }) => {
            (StatusCode::BAD_GATEWAY, &t.bad_gateway)
        }
        GatewayError::Proxy(ProxyError::Timeout(_)) => {
            (StatusCode::GATEWAY_TIMEOUT, &t.gateway_timeout)
        }
        GatewayError::Proxy(ProxyError::ClientBody { .. }) => {
            (StatusCode::BAD_REQUEST, &t.bad_body)
        }
        GatewayError::Proxy(ProxyError::BodyTooLarge(_)) => {
            (StatusCode::PAYLOAD_TOO_LARGE, &t.too_large)
        }
    };
    page(look, status, message.heading, message.sentence, request_id)
}

fn page(
    look: &Look<'_>,
    status: StatusCode,
    heading: &str,
    sentence: &str,
    request_id: &str,
) -> Response<Bytes> {
    error_page(
        look,
        &ErrorPage {
            status,
            heading,
            sentence,
            detail: None,
            continue_to: None,
        },
        request_id,
    )
}

/// `302 Found` to the login page; the page body links there for clients that do not follow.
fn login_redirect(
    look: &Look<'_>,
    location: &str,
    cookie: Option<&http::HeaderValue>,
    request_id: &str,
) -> Response<Bytes> {
    let t = &error_texts::of(look.lang).login_redirect;
    let mut response = error_page(
        look,
        &ErrorPage {
            status: StatusCode::FOUND,
            heading: t.heading,
            sentence: "",
            detail: None,
            continue_to: Some((location, t.sentence)),
        },
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

    use crate::config::lang::Lang;
    use crate::config::theme::{Color, Logo, Theme};
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
            (GatewayError::RateLimited { retry_after: 7 }, 429),
        ];
        let theme = Theme::default();
        let look = Look::login_host(Lang::En, &theme);
        for (err, status) in cases {
            let response = respond(&err, &look, "rid");
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

    /// One error of each status the gateway answers with itself.
    fn one_of_each_status() -> Vec<(GatewayError, u16)> {
        vec![
            (GatewayError::BadHost(HostError::Missing), 400),
            (GatewayError::Unauthenticated, 401),
            (
                GatewayError::Refused {
                    app: "Mail".into(),
                    user: Some("Bob".into()),
                    refusal: Refusal::Denied(None),
                },
                403,
            ),
            (GatewayError::NotFound, 404),
            (GatewayError::UnknownHost("x".into()), 404),
            (GatewayError::MethodNotAllowed, 405),
            (GatewayError::Proxy(ProxyError::BodyTooLarge(10)), 413),
            (
                GatewayError::Proxy(ProxyError::Connect {
                    source: UpstreamCause::Connect(ConnectError::Tcp {
                        authority: "app.internal:8080".into(),
                        source: std::io::ErrorKind::ConnectionRefused.into(),
                    }),
                }),
                502,
            ),
            (
                GatewayError::Sessions(pforte_session::StoreError::Seal),
                503,
            ),
            (
                GatewayError::Proxy(ProxyError::Timeout(Duration::from_secs(1))),
                504,
            ),
        ]
    }

    #[test]
    fn each_status_speaks_both_languages_in_the_configured_theme() {
        let theme = Theme {
            product_name: "Stadtverwaltung <Nord>".into(),
            primary: Color::parse("#5b2a86").unwrap(),
            logo: None,
        };
        let mut seen = std::collections::HashMap::new();
        for (err, status) in one_of_each_status() {
            for (lang, word) in [(Lang::En, "Error"), (Lang::De, "Fehler")] {
                let look = Look::login_host(lang, &theme);
                let response = respond(&err, &look, "rid-1");
                assert_eq!(response.status().as_u16(), status, "{err}");
                let text = String::from_utf8(response.body().to_vec()).unwrap();
                let tag = lang.tag();
                assert!(
                    text.contains(&format!("<html lang=\"{tag}\">")),
                    "{err} {tag}"
                );
                assert!(
                    text.contains(&format!("{word} {status}")),
                    "{err} {tag}: {text}"
                );
                assert!(
                    text.contains("Stadtverwaltung &lt;Nord&gt;"),
                    "{err}: theme name"
                );
                assert!(text.contains("#5b2a86"), "{err}: theme colour");
                assert!(text.contains("<code>rid-1</code>"), "{err}: request id");
                assert!(text.contains("width=device-width"), "{err}: viewport");
                let h1 = text
                    .split("<h1>")
                    .nth(1)
                    .unwrap()
                    .split("</h1>")
                    .next()
                    .unwrap();
                seen.entry((err.to_string(), tag)).or_insert(h1.to_string());
            }
            let (en, de) = (
                &seen[&(err.to_string(), "en")],
                &seen[&(err.to_string(), "de")],
            );
            assert_ne!(en, de, "{err}: the German heading is the English one");
        }
    }

    #[test]
    fn refusals_name_app_and_person_in_either_language() {
        let theme = Theme::default();
        let err = GatewayError::Refused {
            app: "Mail".into(),
            user: Some("Bob <B>".into()),
            refusal: Refusal::Denied(None),
        };
        let de = respond(&err, &Look::login_host(Lang::De, &theme), "r");
        let text = String::from_utf8(de.body().to_vec()).unwrap();
        assert!(
            text.contains("Bob &lt;B&gt;, Sie haben unter dieser Adresse keinen Zugriff auf Mail."),
            "{text}"
        );
        let login = GatewayError::Refused {
            app: "Admin".into(),
            user: None,
            refusal: Refusal::StepUpRequired(crate::policy::engine::LoginStrength::Mfa),
        };
        let en = respond(&login, &Look::login_host(Lang::En, &theme), "r");
        let text = String::from_utf8(en.body().to_vec()).unwrap();
        assert!(
            text.contains("Admin needs a stronger sign-in (mfa)"),
            "{text}"
        );
    }

    #[test]
    fn a_logo_comes_from_the_login_host_and_the_policy_allows_only_that() {
        let theme = Theme {
            logo: Some(Logo {
                bytes: Bytes::from_static(b"<svg/>"),
                content_type: "image/svg+xml",
            }),
            ..Theme::default()
        };
        let look = Look {
            lang: Lang::En,
            theme: &theme,
            logo_src: Some("https://login.example.org:8443/assets/logo".into()),
            login_origin: Some("https://login.example.org:8443".into()),
        };
        let response = respond(&GatewayError::NotFound, &look, "r");
        let text = String::from_utf8(response.body().to_vec()).unwrap();
        assert!(
            text.contains("<img src=\"https://login.example.org:8443/assets/logo\" alt=\"Pforte\"")
        );
        assert!(
            text.contains("href=\"https://login.example.org:8443/\""),
            "the portal link"
        );
        let csp = response.headers()[http::header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(
            csp.contains("img-src https://login.example.org:8443;"),
            "{csp}"
        );
        assert!(csp.starts_with("default-src 'none'"), "{csp}");
    }

    #[test]
    fn the_login_redirect_links_the_login_page() {
        let theme = Theme::default();
        let err = GatewayError::LoginRedirect {
            location: "https://login.example.org/login?a=1&b=2".into(),
            cookie: None,
        };
        let response = respond(&err, &Look::login_host(Lang::De, &theme), "r");
        assert_eq!(response.status(), StatusCode::FOUND);
        let text = String::from_utf8(response.body().to_vec()).unwrap();
        assert!(text.contains(
            "<a class=\"button\" href=\"https://login.example.org/login?a=1&amp;b=2\">Weiter zur Anmeldeseite</a>"
        ));
    }
}
