//! `status`: the running gateway's own account of itself, from `GET /status` on its admin
//! listener (address from the config; the config's admin token when there is one, else the
//! listener must be on loopback). Exit 3 when the gateway is unhealthy or does not answer.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::Ctx;
use crate::error::{CmdError, Exit};
use crate::output::{self, Table};

/// How long the gateway has to answer.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs `status`.
pub async fn run(ctx: &Ctx, json: bool) -> Result<Exit, CmdError> {
    let admin = &ctx.config()?.admin;
    let addr = admin.listen.to_string();
    let failed = |reason: String| CmdError::Gateway {
        addr: addr.clone(),
        reason,
    };
    let (status, body) = tokio::time::timeout(TIMEOUT, ask(&addr, admin.token.as_ref()))
        .await
        .map_err(|_| failed(format!("no answer within {}s", TIMEOUT.as_secs())))?
        .map_err(failed)?;
    if status == http::StatusCode::UNAUTHORIZED {
        return Err(failed(
            "refused: set [admin] token in the config, or run on the gateway's host".into(),
        ));
    }
    let report: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| failed(format!("answered {status} without a status document: {e}")))?;
    let mut table = Table::new(&["WHAT", "STATE"]);
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for (what, value) in [
        ("healthy", &report["healthy"]),
        ("version", &report["version"]),
        ("uptime (s)", &report["uptime_seconds"]),
        ("config", &report["config"]),
        ("last reload (unix)", &report["last_reload_success"]),
        ("apps", &report["apps"]),
        ("policy rules", &report["policy"]["rules"]),
        ("certificates", &report["certificates"]),
        ("signing key", &report["keys"]),
        ("session store", &report["sessions"]["store"]),
        ("sessions", &report["sessions"]["detail"]),
        ("directory", &report["directory"]),
    ] {
        table.row(vec![what.to_string(), text(value)]);
    }
    output::show(json, &report, &table)?;
    Ok(if report["healthy"] == true {
        Exit::OK
    } else {
        Exit::UNHEALTHY
    })
}

/// `GET /status` over plain HTTP/1.1 on the admin listener.
async fn ask(
    addr: &str,
    token: Option<&pforte::config::Secret>,
) -> Result<(http::StatusCode, Bytes), String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let mut request = http::Request::get("/status").header(http::header::HOST, addr);
    if let Some(token) = token {
        request = request.header(
            http::header::AUTHORIZATION,
            format!("Bearer {}", token.expose()),
        );
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body))
}
