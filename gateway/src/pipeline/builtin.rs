//! The gateway's own endpoints, dispatched to the module that owns each: the hand-over on app
//! hosts (`/.pforte/sso`, `/.pforte/login`), forward auth, the public key set, the logo and the
//! passkey script on the login host. None of them is an app, so no policy rule applies and nothing is proxied.

use bytes::Bytes;
use http::{Method, Request, Response};

use crate::forward_auth;
use crate::handover;
use crate::login_host::LoginHost;
use crate::proxy::body::FromClient;
use crate::route::Builtin;
use crate::web::error::GatewayError;
use crate::web::reply::{asset, json_public};

/// The browser's half of the passkey ceremonies, compiled in (see `portal::passkey`).
const PASSKEY_SCRIPT: &str = include_str!("../../assets/passkey.js");

/// Answers a request for the built-in `which`, asked on the host `host_name`.
pub async fn answer<B: FromClient>(
    host: &LoginHost<'_>,
    which: Builtin,
    host_name: &str,
    req: Request<B>,
) -> Result<Response<Bytes>, GatewayError> {
    let (parts, _) = req.into_parts();
    if !matches!(parts.method, Method::GET | Method::HEAD) {
        return Err(GatewayError::MethodNotAllowed);
    }
    let snapshot = host.snapshot;
    match which {
        Builtin::Redeem(_) => {
            handover::redeem(host.shared, snapshot, host_name, &parts, host.ctx.now).await
        }
        Builtin::StartLogin(_) => Ok(handover::start_login(snapshot, host_name, &parts)),
        Builtin::ForwardAuth => {
            let visitor = super::identify(host, &parts.headers).await?;
            let prepared = visitor
                .as_ref()
                .map(|v| host.shared.prepared.get(&v.session, &snapshot.policy));
            Ok(forward_auth::answer(
                host,
                prepared.as_deref(),
                &parts.headers,
            ))
        }
        Builtin::Jwks => match &snapshot.keys {
            Some(_) => Ok(json_public(snapshot.jwks.clone())),
            None => Err(GatewayError::NotFound),
        },
        Builtin::PasskeyScript => Ok(asset(
            Bytes::from_static(PASSKEY_SCRIPT.as_bytes()),
            "application/javascript; charset=utf-8",
        )),
        Builtin::Logo => match &host.config().portal.theme.logo {
            Some(logo) => Ok(asset(logo.bytes.clone(), logo.content_type)),
            None => Err(GatewayError::NotFound),
        },
    }
}
