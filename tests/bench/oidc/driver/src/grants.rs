//! The measured operations, as a confidential client performs them (RFC 6749 §4.1, §4.4, §6
//! with PKCE, RFC 7636; token exchange, RFC 8693), each checked enough that an error page
//! cannot pass for a token.

use anyhow::{Context, bail, ensure};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use crate::conn::{Conn, Reply};

/// The client the driver acts as, and the provider's endpoints (paths on the issuer's host).
pub struct Client {
    /// The `Authorization: Basic ...` header value (client_secret_basic).
    pub basic: String,
    /// `client_id`.
    pub id: String,
    /// The registered redirect URI.
    pub redirect_uri: String,
    /// The scopes asked for at the authorization endpoint.
    pub scope: String,
    /// The scope asked for with client_credentials (`None`: the client's default).
    pub service_scope: Option<String>,
    /// The client id a token exchange asks for a token to (`audience`).
    pub audience: Option<String>,
    /// Path of the authorization endpoint.
    pub authorize_path: String,
    /// Path of the token endpoint.
    pub token_path: String,
}

impl Client {
    /// The Basic credentials of RFC 6749 §2.3.1 (id and secret form-encoded, then base64).
    pub fn basic_auth(id: &str, secret: &str) -> String {
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", encode(id), encode(secret)))
        )
    }
}

/// One `grant_type=client_credentials` request.
pub async fn client_credentials(conn: &mut Conn, client: &Client) -> anyhow::Result<()> {
    let form = {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        if let Some(scope) = &client.service_scope {
            form.append_pair("scope", scope);
        }
        form.finish()
    };
    let reply = conn
        .post_form(&client.token_path, &client.basic, form)
        .await?;
    tokens(&reply, &["access_token"])?;
    Ok(())
}

/// What a code exchange gave: the access token, and a refresh token if one came.
pub struct Issued {
    /// The access token (a token exchange's subject token).
    pub access: String,
    /// The refresh token (a refresh chain's first link).
    pub refresh: Option<String>,
}

/// A full code exchange: the authorization request with the session cookie, the redirect
/// back with a code, and the token request with the PKCE verifier; `cookie` carries the SSO
/// session.
pub async fn code_exchange(
    conn: &mut Conn,
    client: &Client,
    cookie: &str,
) -> anyhow::Result<Issued> {
    let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let state = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>());
    let nonce = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>());
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", &client.redirect_uri)
        .append_pair("scope", &client.scope)
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("prompt", "none")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let reply = conn
        .get(&format!("{}?{query}", client.authorize_path), Some(cookie))
        .await?;
    let code = code_of(&reply, client, &state)?;
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("redirect_uri", &client.redirect_uri)
        .append_pair("code_verifier", &verifier)
        .finish();
    let reply = conn
        .post_form(&client.token_path, &client.basic, form)
        .await?;
    let body = tokens(&reply, &["access_token", "id_token"])?;
    let member = |name: &str| body.get(name).and_then(|t| t.as_str()).map(str::to_owned);
    Ok(Issued {
        access: member("access_token").context("no access token")?,
        refresh: member("refresh_token"),
    })
}

/// One token exchange (RFC 8693): the person's access token `subject` traded for one whose
/// audience is `client.audience`.
pub async fn token_exchange(conn: &mut Conn, client: &Client, subject: &str) -> anyhow::Result<()> {
    let audience = client
        .audience
        .as_deref()
        .context("the exchange grant needs --audience")?;
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair(
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        )
        .append_pair("subject_token", subject)
        .append_pair(
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:access_token",
        )
        .append_pair("audience", audience)
        .finish();
    let reply = conn
        .post_form(&client.token_path, &client.basic, form)
        .await?;
    let body = tokens(&reply, &["access_token", "issued_token_type"])?;
    ensure!(
        body.get("refresh_token").is_none(),
        "a token exchange gave a refresh token"
    );
    Ok(())
}

/// One `grant_type=refresh_token` request; returns the rotated refresh token.
pub async fn refresh(conn: &mut Conn, client: &Client, token: &str) -> anyhow::Result<String> {
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "refresh_token")
        .append_pair("refresh_token", token)
        .finish();
    let reply = conn
        .post_form(&client.token_path, &client.basic, form)
        .await?;
    let body = tokens(&reply, &["access_token", "refresh_token"])?;
    let next = body
        .get("refresh_token")
        .and_then(|t| t.as_str())
        .context("no refresh token")?;
    ensure!(next != token, "the refresh token was not rotated");
    Ok(next.to_owned())
}

/// The code from the redirect back to the client, after checking where it goes and `state`.
fn code_of(reply: &Reply, client: &Client, state: &str) -> anyhow::Result<String> {
    let Some(location) = reply.location.as_deref() else {
        bail!(
            "authorize answered {} without a redirect: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
    };
    let Some(query) = location
        .strip_prefix(client.redirect_uri.as_str())
        .and_then(|rest| rest.strip_prefix('?'))
    else {
        bail!("authorize redirected elsewhere: {location}");
    };
    let mut code = None;
    let mut state_ok = false;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match &*name {
            "code" => code = Some(value.into_owned()),
            "state" => state_ok = value == state,
            "error" => bail!("authorize answered with an error: {location}"),
            _ => {}
        }
    }
    ensure!(state_ok, "state missing or changed: {location}");
    code.context("no code in the redirect")
}

/// A successful token response's JSON, with the named members present.
fn tokens(reply: &Reply, members: &[&str]) -> anyhow::Result<serde_json::Value> {
    ensure!(
        reply.status.is_success(),
        "token endpoint answered {}: {}",
        reply.status,
        String::from_utf8_lossy(&reply.body)
    );
    let body: serde_json::Value = serde_json::from_slice(&reply.body)?;
    for member in members {
        ensure!(
            body.get(member).and_then(|v| v.as_str()).is_some(),
            "no {member} in the token response"
        );
    }
    Ok(body)
}
