//! The OpenID Connect provider on the login host: apps log people in with standard OIDC and
//! get tokens for the identity of the one SSO session. The protocol's rules live in the
//! `pforte-oidc` crate; this module wires them to HTTP, the session store, the keys and the
//! policy.
//!
//! ```text
//! GET  /.well-known/openid-configuration   discovery (provider)
//!      /.well-known/oauth-authorization-server   the same, as RFC 8414 metadata
//! GET  /oidc/jwks                          the public keys (also /.well-known/jwks.json)
//! POST /oidc/par                           par: a pushed authorization request (RFC 9126)
//! GET  /oidc/authorize                     authorize: session, access rules, code
//! POST /oidc/token                         token: code + PKCE, refresh rotation, client_credentials
//!                                          exchange: token exchange (RFC 8693)
//! GET|POST /oidc/userinfo                  userinfo: claims for a bearer token (header or body)
//! POST /oidc/introspect                    introspect (RFC 7662)
//! POST /oidc/revoke                        revoke (RFC 7009)
//! GET  /oidc/end_session                   end_session: RP-initiated logout
//! POST /oidc/device_authorization          device_authorization: a device's codes (RFC 8628)
//! GET|POST /device                         device_verification: the person enters the code
//!                                          and approves; the device polls /oidc/token
//!      session ended anywhere ──────────▶  backchannel: logout tokens to the clients
//! ```
//!
//! Token, userinfo, introspection, revocation and par answer failures in JSON; all but
//! introspection also answer browser apps' scripts from the clients' own origins (cors).
//!
//! Codes, refresh families and revocations live in the session store (grants), so any replica
//! serves any step. Every grant, refresh, userinfo and introspection asks the app's access
//! rules again for the person as the directory has them now (access).

pub mod access;
pub mod authorize;
pub mod backchannel;
pub mod bearer;
pub mod client_auth;
pub mod client_keys;
pub mod cors;
pub mod device_authorization;
pub mod device_poll;
pub mod device_verification;
pub mod end_session;
pub mod exchange;
pub mod grants;
pub mod introspect;
pub mod issue;
pub mod par;
pub mod provider;
pub mod reply;
pub mod revoke;
pub mod token;
pub mod userinfo;
pub mod verified_secrets;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, header};
use pforte_keys::KeySet;
use pforte_oidc::Params;
use pforte_oidc::bearer::Carriers;
use pforte_oidc::discovery::paths;

use crate::login_host::LoginHost;
use crate::proxy::body::FromClient;
use crate::telemetry::limit_metrics::LimitedEndpoint;
use crate::visitor::Visitor;
use crate::web::error::GatewayError;
use crate::web::reply::{json_public, read_form};
pub use provider::{Provider, ProviderError};

/// Answers a request for one of the provider's endpoints.
pub async fn handle<B: FromClient>(
    host: &LoginHost<'_>,
    provider: &Provider,
    visitor: Option<Visitor>,
    req: Request<B>,
) -> Result<Response<Bytes>, GatewayError> {
    let Some(keys) = host.snapshot.keys.as_deref() else {
        return Err(GatewayError::NotFound);
    };
    let Some(api) = ApiEndpoint::at(req.uri().path()) else {
        return dispatch(host, provider, keys, visitor, req).await;
    };
    let origin = api
        .from_browsers
        .then(|| provider.web_origins.allowed(req.headers()).cloned())
        .flatten();
    if api.from_browsers && req.method() == Method::OPTIONS {
        return Ok(cors::preflight(origin.as_ref(), api.methods));
    }
    let mut response = match dispatch(host, provider, keys, visitor, req).await {
        Ok(response) => response,
        Err(err) => reply::api_failure(&host.shared.metrics, &api, &err),
    };
    if let Some(origin) = &origin {
        cors::allow(&mut response, origin);
    }
    Ok(response)
}

/// An endpoint that programs rather than browsers' navigations call: its failures are answered
/// in JSON, not with an HTML page, and some take calls from browser apps' scripts.
pub struct ApiEndpoint {
    /// Its name in metrics.
    pub name: &'static str,
    /// The methods it takes (`Allow`, `Access-Control-Allow-Methods`).
    pub methods: &'static str,
    /// Whether its errors take the bearer-token shape (RFC 6750) rather than OAuth's (RFC 6749).
    pub bearer: bool,
    /// Whether single-page apps call it from JavaScript (CORS). Introspection is for
    /// resource servers, never for a browser.
    pub from_browsers: bool,
}

impl ApiEndpoint {
    fn at(path: &str) -> Option<Self> {
        let (name, methods, bearer, from_browsers) = match path {
            paths::TOKEN => ("token", "POST", false, true),
            paths::USERINFO => ("userinfo", "GET, POST", true, true),
            paths::REVOKE => ("revoke", "POST", false, true),
            paths::INTROSPECT => ("introspect", "POST", false, false),
            paths::PAR => ("par", "POST", false, true),
            paths::DEVICE_AUTHORIZATION => ("device_authorization", "POST", false, false),
            _ => return None,
        };
        Some(Self {
            name,
            methods,
            bearer,
            from_browsers,
        })
    }
}

async fn dispatch<B: FromClient>(
    host: &LoginHost<'_>,
    provider: &Provider,
    keys: &KeySet,
    visitor: Option<Visitor>,
    req: Request<B>,
) -> Result<Response<Bytes>, GatewayError> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    match (&method, path.as_str()) {
        (&Method::GET | &Method::HEAD, paths::DISCOVERY | paths::OAUTH_METADATA) => {
            Ok(json_public(provider.discovery.clone()))
        }
        (&Method::GET | &Method::HEAD, paths::JWKS) => Ok(json_public(host.snapshot.jwks.clone())),
        (&Method::GET, paths::AUTHORIZE) => {
            let params = query_params(&req);
            authorize::authorize(host, provider, visitor.as_ref(), &params).await
        }
        (&Method::POST, paths::AUTHORIZE) => {
            let params = form_params(req).await?;
            authorize::authorize(host, provider, visitor.as_ref(), &params).await
        }
        (&Method::POST, paths::TOKEN) => {
            host.rate_limit(LimitedEndpoint::Token, req.headers())?;
            let headers = req.headers().clone();
            let form = form_params(req).await?;
            token::token(host, provider, keys, &headers, &form).await
        }
        (&Method::POST, paths::PAR) => {
            host.rate_limit(LimitedEndpoint::Token, req.headers())?;
            let headers = req.headers().clone();
            let form = form_params(req).await?;
            par::push(host, provider, &headers, &form).await
        }
        (&Method::POST, paths::DEVICE_AUTHORIZATION) => {
            host.rate_limit(LimitedEndpoint::Token, req.headers())?;
            let headers = req.headers().clone();
            let form = form_params(req).await?;
            device_authorization::authorize_device(host, provider, &headers, &form).await
        }
        (&Method::GET | &Method::HEAD | &Method::POST, paths::DEVICE_VERIFICATION) => {
            device_verification::answer(host, provider, visitor.as_ref(), req).await
        }
        (&Method::GET | &Method::POST, paths::USERINFO) => {
            let headers = req.headers().clone();
            let query = query_params(&req);
            let form_body = if method == Method::POST && is_form(&headers) {
                Some(form_params(req).await?)
            } else {
                None
            };
            let carriers = Carriers {
                authorization: headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok()),
                query: &query,
                form_body: form_body.as_ref(),
            };
            userinfo::userinfo(host, provider, keys, &carriers).await
        }
        (&Method::POST, paths::INTROSPECT) => {
            host.rate_limit(LimitedEndpoint::Introspect, req.headers())?;
            let headers = req.headers().clone();
            let form = form_params(req).await?;
            introspect::introspect(host, provider, keys, &headers, &form).await
        }
        (&Method::POST, paths::REVOKE) => {
            let headers = req.headers().clone();
            let form = form_params(req).await?;
            revoke::revoke(host, provider, keys, &headers, &form).await
        }
        (&Method::GET | &Method::POST, paths::END_SESSION) => {
            let headers = req.headers().clone();
            let params = if method == Method::POST {
                form_params(req).await?
            } else {
                query_params(&req)
            };
            let request = end_session::LogoutRequest {
                method: &method,
                headers: &headers,
                params: &params,
            };
            end_session::end_session(host, provider, keys, visitor.as_ref(), &request).await
        }
        (
            _,
            paths::DISCOVERY
            | paths::OAUTH_METADATA
            | paths::JWKS
            | paths::AUTHORIZE
            | paths::TOKEN
            | paths::USERINFO
            | paths::INTROSPECT
            | paths::REVOKE
            | paths::END_SESSION
            | paths::PAR
            | paths::DEVICE_AUTHORIZATION
            | paths::DEVICE_VERIFICATION,
        ) => Err(GatewayError::MethodNotAllowed),
        _ => Err(GatewayError::NotFound),
    }
}

fn query_params<B>(req: &Request<B>) -> Params {
    Params::parse_urlencoded(req.uri().query().unwrap_or_default())
}

/// Whether a request's body is `application/x-www-form-urlencoded`.
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The form body of a POST, which must be `application/x-www-form-urlencoded` (RFC 6749 §3.2).
async fn form_params<B: FromClient>(req: Request<B>) -> Result<Params, GatewayError> {
    if !is_form(req.headers()) {
        return Err(GatewayError::BadForm);
    }
    let body = read_form(req).await.ok_or(GatewayError::BadForm)?;
    let text = std::str::from_utf8(&body).map_err(|_| GatewayError::BadForm)?;
    Ok(Params::parse_urlencoded(text))
}
