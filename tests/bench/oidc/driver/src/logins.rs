//! The measured logins at Pforte's login host, as a browser makes them: one counts once it
//! has the session cookie.
//!
//! ```text
//! federated   GET /federation/{id}/start ─303─▶ the provider's authorization URL (state, nonce,
//!             code_challenge) + the binding cookie
//!             [the provider: the person logs in there at once; the code is made here]
//!             GET /federation/{id}/callback?code&state&iss with the binding cookie
//!             (Pforte exchanges the code at the stub provider, checks the ID token)
//!             ─303─▶ with __Host-pforte
//! directory   POST /login (user name, password, anti-forgery token in field and cookie)
//!             ─303─▶ with __Host-pforte
//! ```

use std::collections::HashMap;

use anyhow::{Context, ensure};
use http::{StatusCode, header};

use crate::conn::{Conn, Reply};
use crate::provider;

/// Pforte's session cookie, which a completed login sets.
const SESSION_COOKIE: &str = "__Host-pforte";

/// Pforte's cookie binding a federated login to the browser that began it.
const BINDING_COOKIE: &str = "__Host-pforte-federation";

/// Pforte's anti-forgery cookie of the login form.
const CSRF_COOKIE: &str = "__Host-pforte-csrf";

/// A login through the partner's provider.
pub struct Federated {
    /// `/federation/{id}/start`.
    start_path: String,
    /// `/federation/{id}/callback`.
    callback_path: String,
    /// Where Pforte must send the browser: the provider's authorization endpoint.
    authorize_url: String,
    /// The provider's issuer (the callback's `iss`, RFC 9207).
    issuer: String,
    /// Pforte's client id there.
    client_id: String,
    /// Pforte's callback URL, which the authorization request must name.
    redirect_uri: String,
}

impl Federated {
    /// Logins at Pforte's provider `id`, whose issuer is `issuer`.
    pub fn new(id: &str, issuer: &str, client_id: &str, redirect_uri: &str) -> Self {
        let issuer = issuer.trim_end_matches('/');
        Self {
            start_path: format!("/federation/{id}/start"),
            callback_path: format!("/federation/{id}/callback"),
            authorize_url: format!("{issuer}/authorize?"),
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
        }
    }

    /// One login of person number `person` (each connection is a person of its own).
    async fn once(&self, conn: &mut Conn, person: usize) -> anyhow::Result<()> {
        let started = conn.get(&self.start_path, None).await?;
        let location = redirect(&started, "start")?;
        let query = location
            .strip_prefix(&self.authorize_url)
            .with_context(|| format!("start sent the browser elsewhere: {location}"))?;
        let params: HashMap<_, _> = form_urlencoded::parse(query.as_bytes()).collect();
        let param = |name: &str| -> anyhow::Result<&str> {
            params
                .get(name)
                .map(|v| v.as_ref())
                .with_context(|| format!("the authorization request lacks {name}"))
        };
        ensure!(param("response_type")? == "code", "not a code request");
        ensure!(param("client_id")? == self.client_id, "another client_id");
        ensure!(
            param("redirect_uri")? == self.redirect_uri,
            "another redirect_uri"
        );
        ensure!(
            param("code_challenge_method")? == "S256",
            "PKCE without S256"
        );
        let binding = started
            .cookie(BINDING_COOKIE)
            .context("start set no binding cookie")?;
        let code = provider::code_for(param("code_challenge")?, param("nonce")?, person);
        let callback = form_urlencoded::Serializer::new(format!("{}?", self.callback_path))
            .append_pair("code", &code)
            .append_pair("state", param("state")?)
            .append_pair("iss", &self.issuer)
            .finish();
        let finished = conn
            .get(&callback, Some(&format!("{BINDING_COOKIE}={binding}")))
            .await?;
        redirect(&finished, "callback")?;
        finished
            .cookie(SESSION_COOKIE)
            .context("the callback set no session cookie")?;
        Ok(())
    }
}

/// A login with the directory's password through the login form.
pub struct Directory {
    form: String,
    cookie: String,
    origin: String,
}

impl Directory {
    /// Logins of `username` at the login host `origin` (`https://login…:PORT`).
    pub fn new(origin: &str, username: &str, password: &str) -> Self {
        // Any 64-hex token passes the anti-forgery check when cookie and field agree.
        let token: String = rand::random::<[u8; 32]>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("username", username)
            .append_pair("password", password)
            .append_pair("csrf", &token)
            .finish();
        Self {
            form,
            cookie: format!("{CSRF_COOKIE}={token}"),
            origin: origin.trim_end_matches('/').to_owned(),
        }
    }

    async fn once(&self, conn: &mut Conn) -> anyhow::Result<()> {
        let reply = conn
            .post_form_with(
                "/login",
                &[
                    (header::COOKIE, &self.cookie),
                    (header::ORIGIN, &self.origin),
                ],
                self.form.clone(),
            )
            .await?;
        redirect(&reply, "the login form")?;
        reply
            .cookie(SESSION_COOKIE)
            .context("the login form set no session cookie")?;
        Ok(())
    }
}

/// Which login to make.
pub enum Login {
    /// Through the partner's provider.
    Federated(Federated),
    /// With the directory's password.
    Directory(Directory),
}

impl Login {
    /// One complete login on `conn`, as person number `person`.
    pub async fn once(&self, conn: &mut Conn, person: usize) -> anyhow::Result<()> {
        match self {
            Self::Federated(federated) => federated.once(conn, person).await,
            Self::Directory(directory) => directory.once(conn).await,
        }
    }
}

/// The target of a `303`, or what went wrong instead.
fn redirect<'r>(reply: &'r Reply, step: &str) -> anyhow::Result<&'r str> {
    ensure!(
        reply.status == StatusCode::SEE_OTHER,
        "{step} answered {}: {}",
        reply.status,
        String::from_utf8_lossy(&reply.body[..reply.body.len().min(300)])
    );
    reply
        .location
        .as_deref()
        .with_context(|| format!("{step} redirected nowhere"))
}
