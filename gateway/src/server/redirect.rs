//! The plain-HTTP listener: every request for a host the gateway serves is redirected to the same
//! URL over HTTPS (308 keeps the method); any other host gets 404, so the listener cannot be used
//! to bounce browsers to foreign sites.

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;

use crate::route;
use crate::state::Snapshot;

/// The answer of the redirect listener.
pub fn redirect<B>(snapshot: &Snapshot, req: &Request<B>) -> Response<Full<Bytes>> {
    let location = route::request_host(req)
        .ok()
        .map(|host| host.name)
        .filter(|host| snapshot.routes.knows_host(host))
        .and_then(|host| {
            let port = snapshot.config.server.public_https_port;
            let port = if port == 443 {
                String::new()
            } else {
                format!(":{port}")
            };
            let path = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
            HeaderValue::from_str(&format!("https://{host}{port}{path}")).ok()
        });
    let mut response = Response::new(Full::new(Bytes::new()));
    match location {
        Some(location) => {
            *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
            response.headers_mut().insert(header::LOCATION, location);
        }
        None => *response.status_mut() = StatusCode::NOT_FOUND,
    }
    response
}
