//! Host and forwarding headers: the host a request is for (`pforte::route::request_host`), what
//! a front proxy reports to forward auth (`forward_auth::original_request`, `web::client::address`),
//! and the headers the proxy strips and sets upstream (`proxy::headers`).
//!
//! The input is read as a small request: the first line is the request target, the second byte
//! of the input chooses HTTP/1.1 or HTTP/2, trusted proxy or not and the peer address, and every
//! further line is a `name: value` header.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Request, Version};
use pforte::forward_auth::original_request;
use pforte::proxy::headers::{ClientSide, set_forwarding, strip_hop_by_hop};
use pforte::route::{HostError, request_host};
use pforte::web::client::{address, network};

/// Headers that must never reach an upstream from a client.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Headers a `Connection` header may not remove.
const KEPT: [&str; 6] = [
    "host",
    "authorization",
    "cookie",
    "x-forwarded-for",
    "forwarded",
    "x-request-id",
];

/// See the module documentation for how the input is read.
pub fn headers(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let mut lines = text.split('\n');
    let target = lines.next().unwrap_or_default();
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim_start()),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    let version = if flags & 1 == 0 {
        Version::HTTP_11
    } else {
        Version::HTTP_2
    };
    let peer = match flags >> 2 & 3 {
        0 => IpAddr::V4(Ipv4Addr::new(203, 0, 113, flags)),
        1 => IpAddr::V4(Ipv4Addr::LOCALHOST),
        _ => IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            0,
            0,
            0,
            0,
            0,
            u16::from(flags),
        )),
    };
    let trusted = flags & 2 != 0;

    let host = request_host_holds(target, version, &headers);
    forward_auth_holds(&headers);
    proxy_headers_hold(headers, peer, trusted, host.as_deref());
}

/// The host routing and the policy judge is lower case, without a trailing dot, user info or
/// port; two `Host` headers are refused; a target's authority wins and becomes the `Host`.
fn request_host_holds(target: &str, version: Version, headers: &HeaderMap) -> Option<String> {
    let mut builder = Request::builder().uri(target).version(version);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let request = builder.body(()).ok()?;
    let hosts = headers.get_all(http::header::HOST).iter().count();
    match request_host(&request) {
        Ok(host) => {
            assert!(hosts <= 1, "{hosts} Host headers were accepted");
            assert!(!host.name.is_empty());
            assert_eq!(host.name, host.name.to_ascii_lowercase());
            assert!(!host.name.ends_with('.'), "{:?} keeps its dot", host.name);
            assert!(!host.name.contains('@'), "{:?} has user info", host.name);
            match (request.uri().authority(), &host.rebuilt) {
                (Some(authority), Some(rebuilt)) => {
                    assert_eq!(rebuilt.as_bytes(), authority.as_str().as_bytes());
                }
                (None, None) => {}
                other => panic!("Host rebuilt as {other:?}"),
            }
            Some(host.name)
        }
        Err(HostError::Repeated) => {
            assert!(hosts > 1, "one Host header called repeated");
            None
        }
        Err(_) => None,
    }
}

/// What forward auth judges: a host in lower case without trailing dot, and a request whose
/// target is a path (never an authority that could name another host than the one judged).
fn forward_auth_holds(headers: &HeaderMap) {
    if let Some((host, request)) = original_request(headers) {
        assert_eq!(host, host.to_ascii_lowercase());
        assert!(!host.ends_with('.'));
        assert!(
            request.uri().authority().is_none(),
            "forward auth's request names a host of its own: {}",
            request.uri()
        );
    }
    let peer = IpAddr::from([192, 0, 2, 1]);
    assert_eq!(
        address(peer, false, headers),
        peer,
        "an untrusted peer's headers changed who it is"
    );
    let reported = network(address(peer, true, headers));
    assert_eq!(network(reported), reported, "a network is its own network");
}

/// Upstream, no hop-by-hop header survives, no `Connection` option removes a header the app
/// relies on, and the forwarding headers name the peer: alone from an untrusted peer, last in
/// the chain from a trusted proxy.
fn proxy_headers_hold(mut headers: HeaderMap, peer: IpAddr, trusted: bool, host: Option<&str>) {
    let kept_before: Vec<usize> = KEPT
        .iter()
        .map(|name| headers.get_all(*name).iter().count())
        .collect();
    let upgrade = strip_hop_by_hop(&mut headers);
    for name in HOP_BY_HOP {
        assert!(!headers.contains_key(name), "{name} survived");
    }
    for (name, before) in KEPT.iter().zip(kept_before) {
        assert_eq!(
            headers.get_all(*name).iter().count(),
            before,
            "{name} removed"
        );
    }
    if upgrade.is_some() {
        assert!(!headers.contains_key("upgrade"));
    }

    let host = host.unwrap_or("app.example.org");
    set_forwarding(
        &mut headers,
        ClientSide {
            peer,
            trusted,
            host,
            request_id: "fuzz",
        },
    );
    let one = |name: &str| {
        let mut values = headers.get_all(name).iter();
        let value = values.next().map(|v| v.to_str().expect("ASCII"));
        assert!(values.next().is_none(), "{name} set twice");
        value.unwrap_or_else(|| panic!("{name} not set")).to_owned()
    };
    let xff = one("x-forwarded-for");
    let peer_text = peer.to_string();
    if trusted {
        assert!(
            xff.ends_with(&peer_text),
            "{xff:?} does not end with the peer"
        );
    } else {
        assert_eq!(xff, peer_text, "an untrusted peer's chain was kept");
        assert_eq!(one("x-forwarded-proto"), "https");
        assert_eq!(one("x-forwarded-host"), host);
    }
    let forwarded = one("forwarded");
    assert!(
        forwarded.ends_with(&format!(";host=\"{host}\";proto=https")),
        "{forwarded:?}"
    );
    assert!(trusted || forwarded.starts_with("for="), "{forwarded:?}");
    assert_eq!(one("x-request-id"), "fuzz");
}
