//! The hostile provider's endpoints: what it answers to each request, read from the scenario
//! at that moment. The parent module holds the server, its switches and the test's handle.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::{Value, json};

use super::{Scenario, Shared, Signer};
use crate::jwks::ClientKey;

/// What the authorization endpoint saw and handed back for one code.
#[derive(Clone, Debug)]
pub(super) struct Grant {
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
}

/// Routes a request to its endpoint.
pub(super) async fn answer(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let query: BTreeMap<String, String> = req
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    match (req.method().as_str(), req.uri().path()) {
        ("GET", "/.well-known/openid-configuration") => {
            shared.discovery_fetches.fetch_add(1, Ordering::SeqCst);
            reply(
                200,
                "application/json",
                discovery(&shared.issuer).to_string(),
            )
        }
        ("GET", "/jwks") => {
            shared.jwks_fetches.fetch_add(1, Ordering::SeqCst);
            reply(200, "application/json", jwks_body(shared))
        }
        ("GET", "/authorize") => authorize(shared, query),
        ("POST", "/token") => {
            let basic = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = req.into_body().collect().await.unwrap().to_bytes();
            let form = form_urlencoded::parse(&body).into_owned().collect();
            token(shared, basic.as_deref(), form)
        }
        ("GET", "/userinfo") => {
            let bearer = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::to_owned);
            let claims = bearer.and_then(|t| shared.access_tokens.lock().unwrap().get(&t).cloned());
            match claims {
                Some(claims) => reply(200, "application/json", claims.to_string()),
                None => reply(401, "application/json", json!({"error": "invalid_token"})),
            }
        }
        ("GET", "/logout") => {
            shared.end_sessions.lock().unwrap().push(query.clone());
            match query.get("post_logout_redirect_uri") {
                Some(back) => redirect(back, &[("state", query.get("state").cloned())]),
                None => reply(200, "text/plain", "logged out at the provider"),
            }
        }
        _ => reply(404, "text/plain", "not found"),
    }
}

/// The provider's metadata: what a relying party needs to log in, check tokens and log out.
fn discovery(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "scopes_supported": ["openid", "profile", "email", "groups"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "sid", "email",
            "email_verified", "groups", "preferred_username"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "authorization_response_iss_parameter_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    })
}

/// The published key set: the current key only.
pub(super) fn jwks_body(shared: &Shared) -> String {
    ClientKey::set(&[&shared.key.lock().unwrap()])
}

/// The authorization endpoint: checks that the request is one a provider would accept, then
/// redirects at once (the user "logged in") with what the scenario says.
fn authorize(shared: &Shared, query: BTreeMap<String, String>) -> Response<Full<Bytes>> {
    shared.authorizations.lock().unwrap().push(query.clone());
    let get = |name: &str| query.get(name).map(String::as_str);
    let problem = if get("response_type") != Some("code") {
        Some("response_type must be code")
    } else if get("client_id") != Some(shared.client_id.as_str()) {
        Some("unknown client_id")
    } else if get("code_challenge_method") != Some("S256") || get("code_challenge").is_none() {
        Some("PKCE with S256 is required")
    } else if !get("scope").is_some_and(|s| s.split(' ').any(|s| s == "openid")) {
        Some("scope must include openid")
    } else {
        None
    };
    let Some(redirect_uri) = get("redirect_uri") else {
        return reply(400, "text/plain", "redirect_uri is missing");
    };
    if let Some(problem) = problem {
        return reply(400, "text/plain", problem);
    }
    let scenario = shared.scenario.lock().unwrap().clone();
    let mut params = vec![];
    match &scenario.error {
        Some(error) => {
            params.push(("error", Some(error.clone())));
            params.push(("error_description", scenario.error_description.clone()));
        }
        None => {
            let code = random_token();
            shared.codes.lock().unwrap().insert(
                code.clone(),
                Grant {
                    redirect_uri: redirect_uri.to_owned(),
                    challenge: get("code_challenge").unwrap_or_default().to_owned(),
                    nonce: get("nonce").map(str::to_owned),
                },
            );
            params.push(("code", scenario.code.pick(Some(&code))));
        }
    }
    params.push(("state", scenario.state.pick(get("state"))));
    params.push(("iss", scenario.iss.pick(Some(&shared.issuer))));
    redirect(redirect_uri, &params)
}

/// The token endpoint: client_secret_basic, a code it issued (once), the same redirect URI and
/// the PKCE verifier of the challenge; then an ID token as the scenario says.
fn token(
    shared: &Shared,
    basic: Option<&str>,
    form: HashMap<String, String>,
) -> Response<Full<Bytes>> {
    let refuse = |status: u16, error: &str, why: &str| {
        shared.token_refusals.lock().unwrap().push(why.to_owned());
        reply(
            status,
            "application/json",
            json!({"error": error, "error_description": why}),
        )
    };
    if basic_credentials(basic) != Some((shared.client_id.clone(), shared.client_secret.clone())) {
        return refuse(401, "invalid_client", "client_secret_basic did not match");
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return refuse(
            400,
            "unsupported_grant_type",
            "grant_type is not authorization_code",
        );
    }
    let grant = form
        .get("code")
        .and_then(|code| shared.codes.lock().unwrap().remove(code));
    let Some(grant) = grant else {
        return refuse(400, "invalid_grant", "unknown or used code");
    };
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return refuse(
            400,
            "invalid_grant",
            "redirect_uri differs from the authorization's",
        );
    }
    let verified = form
        .get("code_verifier")
        .is_some_and(|verifier| s256(verifier) == grant.challenge);
    if !verified {
        return refuse(
            400,
            "invalid_grant",
            "code_verifier does not match code_challenge",
        );
    }
    let scenario = shared.scenario.lock().unwrap().clone();
    let claims = id_token_claims(shared, &scenario, grant.nonce.as_deref());
    let access_token = random_token();
    shared
        .access_tokens
        .lock()
        .unwrap()
        .insert(access_token.clone(), claims.clone());
    let id_token = sign(shared, &claims, scenario.signer, "JWT");
    reply(
        200,
        "application/json",
        json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "openid profile email groups",
            "id_token": id_token,
        }),
    )
}

/// The ID token's claims as the scenario says, for an authorization that carried `nonce`.
fn id_token_claims(shared: &Shared, scenario: &Scenario, nonce: Option<&str>) -> Value {
    let now = now();
    let exp = now + scenario.expires_in;
    let mut claims = serde_json::Map::new();
    let mut put = |name: &str, value: Option<Value>| {
        if let Some(value) = value {
            claims.insert(name.to_owned(), value);
        }
    };
    put(
        "iss",
        scenario.issuer.pick(Some(&shared.issuer)).map(Value::from),
    );
    put("sub", Some(Value::from(scenario.sub.clone())));
    put(
        "aud",
        scenario
            .audience
            .pick(Some(&shared.client_id))
            .map(Value::from),
    );
    put("exp", Some(Value::from(exp)));
    put("iat", Some(Value::from(now.min(exp - 300))));
    put("nonce", scenario.nonce.pick(nonce).map(Value::from));
    put("sid", Some(Value::from(shared.sid.clone())));
    put("email", scenario.email.clone().map(Value::from));
    put("email_verified", scenario.email_verified.clone());
    put("groups", scenario.groups.clone().map(Value::from));
    put(
        "preferred_username",
        scenario.preferred_username.clone().map(Value::from),
    );
    for (name, value) in &scenario.extra_claims {
        if value.is_null() {
            claims.remove(name);
        } else {
            claims.insert(name.clone(), value.clone());
        }
    }
    Value::Object(claims)
}

/// `claims` as a JWT of type `typ`, signed as `signer` says.
pub(super) fn sign(shared: &Shared, claims: &Value, signer: Signer, typ: &str) -> String {
    let key = shared.key.lock().unwrap();
    match signer {
        Signer::Genuine => key.sign_typed(typ, claims),
        Signer::UnknownKey => ClientKey::generate("stranger-key").sign_typed(typ, claims),
        Signer::BadSignature => ClientKey::generate(&key.kid).sign_typed(typ, claims),
        Signer::AlgNone => {
            let header = json!({"alg": "none", "typ": typ, "kid": key.kid});
            format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            )
        }
    }
}

/// The client id and secret of an `Authorization: Basic` header (each form-urlencoded, RFC
/// 6749 section 2.3.1).
fn basic_credentials(header: Option<&str>) -> Option<(String, String)> {
    let encoded = header?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let plain = |s: &str| -> String {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((plain(id), plain(secret)))
}

/// The S256 code challenge of a PKCE verifier.
pub fn s256(verifier: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// A 302 to `target` with `params` appended to its query (those with a value).
fn redirect(target: &str, params: &[(&str, Option<String>)]) -> Response<Full<Bytes>> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    let query = query.finish();
    let location = match (query.is_empty(), target.contains('?')) {
        (true, _) => target.to_owned(),
        (false, true) => format!("{target}&{query}"),
        (false, false) => format!("{target}?{query}"),
    };
    Response::builder()
        .status(StatusCode::FOUND)
        .header("location", location)
        .header("cache-control", "no-store")
        .body(Full::new(Bytes::new()))
        .unwrap()
}

fn reply(status: u16, content_type: &str, body: impl ToString) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("cache-control", "no-store")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

pub(super) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// 32 random bytes, base64url: codes, access tokens, session ids, jti.
pub(super) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    URL_SAFE_NO_PAD.encode(bytes)
}
