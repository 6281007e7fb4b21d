//! The login host. For now it serves the start page that links every app; login, the personal
//! app tiles and the OIDC endpoints join it in later steps.

pub mod i18n;
pub mod pages;
pub mod return_to;
pub mod theme;

use bytes::Bytes;
use http::{Response, StatusCode};

use crate::pipeline::pages::{escape, html_page, html_response};
use crate::state::Snapshot;

/// The start page: a link to each app, in the order of the apps file.
pub fn start_page(snapshot: &Snapshot) -> Response<Bytes> {
    let port = snapshot.config.server.public_https_port;
    let port_suffix = if port == 443 {
        String::new()
    } else {
        format!(":{port}")
    };
    let mut items = String::new();
    for runtime in &snapshot.apps {
        let app = &runtime.app;
        let Some(host) = app.hosts.first() else {
            continue;
        };
        let path = if app.path_prefix == "/" {
            "/".to_string()
        } else {
            format!("{}/", app.path_prefix)
        };
        items.push_str(&format!(
            "<li><a href=\"https://{host}{port_suffix}{path}\">{name}</a></li>",
            host = escape(host),
            path = escape(&path),
            name = escape(&app.display_name),
        ));
    }
    let body = html_page(
        "Pforte",
        &format!("<h1>Your workplace</h1><nav aria-label=\"Apps\"><ul>{items}</ul></nav>"),
    );
    html_response(StatusCode::OK, body)
}
