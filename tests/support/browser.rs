//! A small scripted browser for login tests: it keeps cookies per host (as a browser does for
//! host-only cookies), sends every request to the gateway's address whatever the host, and
//! follows redirects only when asked, so tests can look at each hop.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use rustls_pki_types::CertificateDer;

use crate::client::{H1, Reply};

/// Cookies and a connection recipe.
pub struct Browser {
    addr: SocketAddr,
    root: CertificateDer<'static>,
    /// Cookies by host, then name.
    pub cookies: BTreeMap<String, BTreeMap<String, String>>,
    /// Extra headers on every request (e.g. `accept-language`).
    pub extra_headers: Vec<(String, String)>,
    /// Hosts served elsewhere than the gateway (a site behind its own proxy), by name.
    pub elsewhere: BTreeMap<String, SocketAddr>,
}

/// One hop of a followed chain.
pub struct Hop {
    pub url: String,
    pub reply: Reply,
}

impl Browser {
    pub fn new(addr: SocketAddr, root: CertificateDer<'static>) -> Self {
        Self {
            addr,
            root,
            cookies: BTreeMap::new(),
            extra_headers: Vec::new(),
            elsewhere: BTreeMap::new(),
        }
    }

    /// The same cookies, another gateway (a second replica behind the same names, trusted
    /// through its own `root`).
    pub fn at(&self, addr: SocketAddr, root: CertificateDer<'static>) -> Self {
        Self {
            addr,
            root,
            cookies: self.cookies.clone(),
            extra_headers: self.extra_headers.clone(),
            elsewhere: self.elsewhere.clone(),
        }
    }

    pub fn cookie(&self, host: &str, name: &str) -> Option<&str> {
        self.cookies.get(host)?.get(name).map(String::as_str)
    }

    /// A `POST` of `body` as `application/json` from the page's own origin, with the anti-forgery
    /// token in `X-CSRF-Token`, as the login host's passkey script sends it.
    pub async fn post_json(&mut self, url: &str, body: &str, csrf: &str) -> Reply {
        self.send_json(url, "application/json", body.as_bytes(), csrf)
            .await
    }

    /// [`Browser::post_json`] with any content type and body bytes (for bad input).
    pub async fn send_json(
        &mut self,
        url: &str,
        content_type: &str,
        body: &[u8],
        csrf: &str,
    ) -> Reply {
        let uri: http::Uri = url.parse().unwrap();
        let authority = uri.authority().unwrap().to_string();
        let headers = [
            ("content-type", content_type.to_owned()),
            ("accept", "application/json".to_owned()),
            ("origin", format!("https://{authority}")),
            ("x-csrf-token", csrf.to_owned()),
        ];
        self.send(url, "POST", &headers, Bytes::copy_from_slice(body))
            .await
    }

    /// One request to an absolute `https://host[:port]/path` URL; stores the cookies it sets.
    pub async fn request(
        &mut self,
        method: &str,
        url: &str,
        form: Option<&[(&str, &str)]>,
    ) -> Reply {
        let (headers, body) = match form {
            Some(fields) => {
                let encoded: String = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(fields.iter())
                    .finish();
                let uri: http::Uri = url.parse().unwrap();
                let authority = uri.authority().unwrap().to_string();
                (
                    vec![
                        (
                            "content-type",
                            "application/x-www-form-urlencoded".to_owned(),
                        ),
                        ("origin", format!("https://{authority}")),
                    ],
                    Bytes::from(encoded),
                )
            }
            None => (Vec::new(), Bytes::new()),
        };
        self.send(url, method, &headers, body).await
    }

    /// Sends one request with `headers` (besides host, cookies and the extra ones) and `body`.
    async fn send(
        &mut self,
        url: &str,
        method: &str,
        headers: &[(&str, String)],
        body: Bytes,
    ) -> Reply {
        let uri: http::Uri = url.parse().unwrap();
        let host = uri.host().unwrap().to_string();
        let authority = uri.authority().unwrap().to_string();
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        let addr = self.elsewhere.get(&host).copied().unwrap_or(self.addr);
        let mut h1 = H1::connect(addr, &host, &self.root).await;
        let mut builder = Request::builder()
            .method(method)
            .uri(&path)
            .header("host", &authority);
        if !headers.iter().any(|(name, _)| *name == "accept") {
            builder = builder.header("accept", "text/html");
        }
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        for (name, value) in &self.extra_headers {
            builder = builder.header(name, value);
        }
        let line: Vec<String> = self
            .cookies
            .iter()
            .filter(|(scope, _)| applies(scope, &host))
            .flat_map(|(_, jar)| jar.iter().map(|(k, v)| format!("{k}={v}")))
            .collect();
        if !line.is_empty() {
            builder = builder.header("cookie", line.join("; "));
        }
        let reply = h1.send(builder.body(Full::new(body)).unwrap()).await;
        self.store_cookies(&host, &reply);
        reply
    }

    pub async fn get(&mut self, url: &str) -> Reply {
        self.request("GET", url, None).await
    }

    pub async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Reply {
        self.request("POST", url, Some(form)).await
    }

    /// Follows redirects from `url` (GET), at most 10; returns every hop, the last one first.
    pub async fn follow(&mut self, url: &str) -> Vec<Hop> {
        let first = self.get(url).await;
        self.follow_from(url, first).await
    }

    /// Follows the redirects of a reply already received for `url`.
    pub async fn follow_from(&mut self, url: &str, reply: Reply) -> Vec<Hop> {
        let mut hops = vec![Hop {
            url: url.to_string(),
            reply,
        }];
        for _ in 0..10 {
            let last = hops.last().unwrap();
            if !(300..400).contains(&last.reply.status) {
                break;
            }
            let next = absolute(&last.url, last.reply.header("location").unwrap());
            let reply = self.get(&next).await;
            hops.push(Hop { url: next, reply });
        }
        hops.reverse();
        hops
    }

    /// Logs in through the form on `login_base` (`https://login.host:port`), starting from
    /// `start` (an app URL or the login page); returns the hops after the form post.
    pub async fn login(&mut self, start: &str, username: &str, password: &str) -> Vec<Hop> {
        let hops = self.follow(start).await;
        let form_hop = &hops[0];
        assert_eq!(
            form_hop.reply.status, 200,
            "no login form at {}",
            form_hop.url
        );
        let page = form_hop.reply.text();
        let csrf = hidden_value(&page, "csrf").expect("the form has a csrf field");
        let return_to = hidden_value(&page, "return_to");
        let action = absolute(&form_hop.url, "/login");
        let mut fields = vec![
            ("username", username),
            ("password", password),
            ("csrf", csrf.as_str()),
        ];
        if let Some(rt) = &return_to {
            fields.push(("return_to", rt.as_str()));
        }
        let reply = self.post(&action, &fields).await;
        self.follow_from(&action, reply).await
    }

    fn store_cookies(&mut self, host: &str, reply: &Reply) {
        for value in reply.headers.get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            // A Domain attribute makes the cookie visible to the domain and its subdomains
            // (kept under ".domain"); without one it belongs to this host alone.
            let scope = text
                .split(';')
                .find_map(|a| a.trim().strip_prefix("Domain="))
                .map_or_else(
                    || host.to_string(),
                    |d| format!(".{}", d.trim_start_matches('.')),
                );
            let jar = self.cookies.entry(scope).or_default();
            let expired = text.contains("Max-Age=0");
            if expired || value.is_empty() {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_string(), value.trim().to_string());
            }
        }
    }
}

/// Whether cookies kept under `scope` (a host, or `.domain`) go to `host`.
fn applies(scope: &str, host: &str) -> bool {
    match scope.strip_prefix('.') {
        Some(domain) => host == domain || host.ends_with(scope),
        None => scope == host,
    }
}

/// Resolves a `Location` against the URL it came from.
pub fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("https://") || location.starts_with("http://") {
        return location.to_string();
    }
    let uri: http::Uri = base.parse().unwrap();
    format!("https://{}{}", uri.authority().unwrap(), location)
}

/// The value of `<input type="hidden" name="NAME" value="...">` in a page (HTML-unescaped).
pub fn hidden_value(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(
        page[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}
