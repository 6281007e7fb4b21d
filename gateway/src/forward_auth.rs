//! Forward auth: `GET /auth/verify` on the login host answers, for a site that keeps its own
//! reverse proxy (nginx `auth_request`, Caddy `forward_auth`, Traefik `forwardAuth`), whether
//! the person behind the request's cookie may open the URL the proxy names:
//!
//! - `200` with the app's identity headers, every one of them (empty when there is no value, so
//!   a proxy that copies them always replaces the client's own): let it through;
//! - `401` with `Location` set to the site's `/.pforte/login`, which sends the browser on to the
//!   login page with its hand-over binding: not logged in (nginx: `error_page 401`);
//! - `403`: logged in, and the policy says no.
//!
//! Refusals carry the gateway's error page in the person's language and the configured theme:
//! Caddy and Traefik show the answer's body to the browser (nginx shows its own `error_page`).
//!
//! The URL comes from `X-Original-URL` (nginx) or `X-Forwarded-Proto`/`-Host`/`-Uri` and the
//! method from `X-Original-Method` or `X-Forwarded-Method` (Caddy, Traefik). The site must be an
//! app in `apps.toml` (its hosts and policy rules) and must pass `/.pforte/` through to Pforte,
//! so the login hand-over can set its session cookie.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};

use crate::handover;
use crate::login_host::LoginHost;
use crate::policy::decide::{self, Verdict};
use crate::policy::engine::Subject;
use crate::policy::path;
use crate::proxy::identity::{self, Identity};
use crate::route::HostError;
use crate::visitor::Prepared;
use crate::web::error::{GatewayError, respond};
use crate::web::url::port_suffix;

/// The forward-auth answer for the request described by `headers`, asked by the request's peer
/// (the front proxy: when it is a trusted proxy, the client address it reports decides `from`
/// rules). A refusal's page is in the language and theme of the login host (`host.look`).
pub fn answer(
    host: &LoginHost<'_>,
    prepared: Option<&Prepared>,
    headers: &HeaderMap,
) -> Response<Bytes> {
    let (snapshot, ctx) = (host.snapshot, host.ctx);
    let peer = ctx.peer.ip();
    let page = |err: GatewayError, code: StatusCode| {
        let mut response = respond(&err, &host.look(None), &ctx.request_id);
        *response.status_mut() = code;
        response
    };
    let source = crate::web::client::address(peer, snapshot.trusts(peer), headers);
    let Some((host, mut request)) = original_request(headers) else {
        return page(
            GatewayError::BadHost(HostError::Missing),
            StatusCode::BAD_REQUEST,
        );
    };
    let judged = match path::normalise(&mut request) {
        Ok(judged) => judged,
        Err(err) => return page(GatewayError::BadPath(err), StatusCode::BAD_REQUEST),
    };
    let Some(crate::route::Target::App(index)) = snapshot
        .routes
        .resolve(&host, judged.of(request.uri().path()))
    else {
        return page(GatewayError::UnknownHost(host), StatusCode::FORBIDDEN);
    };
    let Some(app) = snapshot.apps.get(index) else {
        return page(GatewayError::UnknownHost(host), StatusCode::FORBIDDEN);
    };
    let anonymous = Subject::anonymous();
    let subject = prepared.map_or(&anonymous, |p| &p.subject);
    let port = port_suffix(snapshot.config.server.public_https_port);
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_string(), ToString::to_string);
    match decide::decide(&snapshot.policy, subject, index, source, &judged, request) {
        Verdict::Permit(..) => {
            let mut response = status(StatusCode::OK);
            let names = &app.app.identity_headers;
            every_identity_header(response.headers_mut(), names);
            if let Some(prepared) = prepared {
                identity::set(
                    response.headers_mut(),
                    names,
                    Identity {
                        values: &prepared.values,
                        assertion: None,
                    },
                );
            }
            response
        }
        Verdict::Refuse(decide::Refusal::LoginRequired, _) => {
            // Through the site's own /.pforte/login: this answer cannot set the site's cookie
            // that binds the hand-over to the browser, that page can.
            let mut response = page(GatewayError::Unauthenticated, StatusCode::UNAUTHORIZED);
            let login = handover::start_url(&host, &port, &path_and_query);
            if let Ok(value) = HeaderValue::from_str(&login) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
        Verdict::Refuse(decide::Refusal::StepUpRequired(_), _)
            if prepared.is_some() && snapshot.config.mfa.is_some() =>
        {
            // A session too weak for this app: to the login host for a second factor.
            let mut response = page(GatewayError::Unauthenticated, StatusCode::UNAUTHORIZED);
            let back = format!("https://{host}{port}{path_and_query}");
            let step_up = handover::step_up_url(&snapshot.config.portal_host, &port, &back);
            if let Ok(value) = HeaderValue::from_str(&step_up) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
        Verdict::Refuse(refusal, _) => page(
            GatewayError::Refused {
                app: app.app.display_name.clone(),
                user: prepared.map(|p| p.session.display_name.clone()),
                refusal,
            },
            StatusCode::FORBIDDEN,
        ),
    }
}

/// The host and a request (method and target) the front proxy says it is asking about. Public
/// for the fuzz targets in `fuzz/`.
pub fn original_request(headers: &HeaderMap) -> Option<(String, http::Request<()>)> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let url = match get("x-original-url") {
        Some(url) => url.to_string(),
        None => format!(
            "{}://{}{}",
            get("x-forwarded-proto").unwrap_or("https"),
            get("x-forwarded-host")?,
            get("x-forwarded-uri").unwrap_or("/")
        ),
    };
    let uri: http::Uri = url.parse().ok()?;
    let host = uri.host()?.trim_end_matches('.').to_ascii_lowercase();
    let method = get("x-original-method")
        .or_else(|| get("x-forwarded-method"))
        .unwrap_or("GET");
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let request = http::Request::builder()
        .method(method)
        .uri(target)
        .body(())
        .ok()?;
    Some((host, request))
}

/// Every identity header of the app, empty: the values [`identity::set`] then writes replace
/// them, and a name without a value (someone not logged in on a public path, a person without a
/// mail address) stays present and empty. A front proxy that copies the names it is told to
/// from this answer onto the request thus always replaces the client's own copy, with nothing
/// if need be: Caddy 2.6's `copy_headers` writes its unexpanded placeholder
/// (`{http.reverse_proxy.header.X-Forwarded-User}`) as the value of a name the answer lacks.
fn every_identity_header(headers: &mut HeaderMap, names: &identity::IdentityHeaders) {
    for name in names.all() {
        headers.insert(name.clone(), HeaderValue::from_static(""));
    }
}

fn status(code: StatusCode) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = code;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_identity_header_is_answered_empty_without_a_value() {
        let names = identity::IdentityHeaders::default();
        let mut headers = HeaderMap::new();
        every_identity_header(&mut headers, &names);
        for name in names.all() {
            assert_eq!(headers.get(name).map(HeaderValue::as_bytes), Some(&b""[..]));
        }
        let values = identity::IdentityValues::new("alice", "Alice", None, &["staff".into()]);
        identity::set(
            &mut headers,
            &names,
            Identity {
                values: &values,
                assertion: None,
            },
        );
        assert_eq!(headers["x-forwarded-user"], "alice");
        assert_eq!(
            headers["x-forwarded-email"], "",
            "no mail address: still replaced"
        );
        assert_eq!(headers.len(), 4);
    }

    #[test]
    fn the_original_request_comes_from_either_header_style() {
        let mut nginx = HeaderMap::new();
        nginx.insert(
            "x-original-url",
            HeaderValue::from_static("https://Wiki.example.org/a?b=1"),
        );
        nginx.insert("x-original-method", HeaderValue::from_static("POST"));
        let (host, req) = original_request(&nginx).unwrap();
        assert_eq!(host, "wiki.example.org");
        assert_eq!(req.uri(), "/a?b=1");
        assert_eq!(req.method(), "POST");

        let mut caddy = HeaderMap::new();
        caddy.insert(
            "x-forwarded-host",
            HeaderValue::from_static("wiki.example.org"),
        );
        caddy.insert("x-forwarded-uri", HeaderValue::from_static("/x"));
        let (host, req) = original_request(&caddy).unwrap();
        assert_eq!(
            (host.as_str(), req.uri().path()),
            ("wiki.example.org", "/x")
        );
        assert_eq!(req.method(), "GET");

        assert!(original_request(&HeaderMap::new()).is_none());
        let mut bad = HeaderMap::new();
        bad.insert("x-original-url", HeaderValue::from_static("not a url"));
        assert!(original_request(&bad).is_none());
    }
}
