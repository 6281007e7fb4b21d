//! The demo apps: one tiny HTTP server per app, on the loopback address the apps file gives as
//! its upstream. Each page names the app, says who the gateway says the person is (from the
//! identity headers), and lists the request headers it received, so a newcomer sees exactly what
//! the gateway forwards.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

use super::DemoError;
use crate::config::App;
use crate::web::html::{escape, html_page, html_response};

/// Starts a demo app for each loopback `http://` upstream; returns how many were started.
pub async fn start_all(apps: &[App]) -> Result<usize, DemoError> {
    let mut started = 0;
    for app in apps {
        for url in &app.upstreams {
            if url.scheme != http::uri::Scheme::HTTP {
                continue;
            }
            let Ok(ip) = url.authority.host().parse::<IpAddr>() else {
                continue;
            };
            if !ip.is_loopback() {
                continue;
            }
            let addr = SocketAddr::new(ip, url.authority.port_u16().unwrap_or(80));
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| DemoError::Upstream {
                    app: app.name.clone(),
                    addr,
                    source,
                })?;
            tokio::spawn(serve(listener, app.display_name.clone()));
            started += 1;
        }
    }
    Ok(started)
}

async fn serve(listener: TcpListener, name: String) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let name = name.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let page = page(&name, &req);
                async move { Ok::<_, Infallible>(page) }
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn page<B>(name: &str, req: &Request<B>) -> Response<Full<Bytes>> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let who = match (header("x-forwarded-name"), header("x-forwarded-user")) {
        (Some(display), Some(user)) => format!(
            "<p>Pforte says you are <strong>{}</strong> (<code>{}</code>), in the groups <code>{}</code>.</p>",
            escape(&display),
            escape(&user),
            escape(&header("x-forwarded-groups").unwrap_or_default()),
        ),
        _ => "<p>Pforte sent no identity: this page is public.</p>".to_string(),
    };
    let mut rows = String::new();
    for (header, value) in req.headers() {
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td><code>{}</code></td></tr>",
            escape(header.as_str()),
            escape(&String::from_utf8_lossy(value.as_bytes())),
        ));
    }
    let body = html_page(
        name,
        &format!(
            "<h1>{name}</h1>{who}<p>This is the demo app <strong>{name}</strong>. It received \
<code>{method} {path}</code> with these headers:</p>\
<table><tbody>{rows}</tbody></table>",
            name = escape(name),
            method = escape(req.method().as_str()),
            path = escape(req.uri().path()),
        ),
    );
    html_response(StatusCode::OK, body).map(Full::new)
}
