//! Header rewriting between client and upstream: hop-by-hop headers never cross the proxy, the
//! forwarding headers say who the client really is (believed from trusted proxies only), and every
//! request carries an id that ties the access log, the upstream's log and the client together.

use std::fmt::Write as _;
use std::net::IpAddr;

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// Headers that describe one hop (RFC 9110 section 7.6.1) and must not be forwarded.
static HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

/// End-to-end headers that `Connection` may not name (RFC 9110 section 7.6.1: a header meant for
/// every recipient is never a connection option) and the forwarding headers Pforte extends: a
/// `Connection` header naming one of them is ignored for that name, so no client can delete
/// what the app relies on.
static NEVER_HOP_BY_HOP: [&str; 19] = [
    "host",
    "content-length",
    "content-type",
    "content-encoding",
    "content-range",
    "cache-control",
    "authorization",
    "cookie",
    "set-cookie",
    "expect",
    "date",
    "location",
    "www-authenticate",
    "strict-transport-security",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "forwarded",
    "x-request-id",
];

/// The request id header.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const FORWARDED: HeaderName = HeaderName::from_static("forwarded");

/// Removes hop-by-hop headers and those the `Connection` header names, except end-to-end headers
/// it may not name ([`NEVER_HOP_BY_HOP`]). An `Upgrade` handshake keeps its `Upgrade` value,
/// returned so the caller can put it back with `Connection: upgrade`. Runs before Pforte sets
/// its own headers, so `Connection` can never remove those.
///
/// Runs twice per proxied request (request and answer), so it looks at each name present once
/// and removes only what is there, rather than hashing every hop-by-hop name for a removal.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) -> Option<HeaderValue> {
    let hop = |name: &HeaderName| *name == header::UPGRADE || HOP_BY_HOP.contains(name);
    if !headers.keys().any(hop) {
        return None;
    }
    // `Connection: keep-alive` (or `upgrade`) names nothing beyond the hop-by-hop headers; only
    // other names make every header worth checking against the list.
    let mut wants_upgrade = false;
    let mut names_others = false;
    for token in connection_tokens(headers) {
        if token.eq_ignore_ascii_case(header::UPGRADE.as_str()) {
            wants_upgrade = true;
        } else if !HOP_BY_HOP
            .iter()
            .any(|name| token.eq_ignore_ascii_case(name.as_str()))
        {
            names_others = true;
        }
    }
    let named = |name: &HeaderName| {
        names_others
            && !NEVER_HOP_BY_HOP.contains(&name.as_str())
            && connection_tokens(headers).any(|token| token.eq_ignore_ascii_case(name.as_str()))
    };
    let doomed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| hop(name) || named(name))
        .cloned()
        .collect();
    let upgrade = headers.remove(header::UPGRADE);
    for name in doomed {
        headers.remove(name);
    }
    if wants_upgrade { upgrade } else { None }
}

/// The names listed in the `Connection` header(s).
fn connection_tokens(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
}

/// Sets `Connection: upgrade` and `Upgrade` for a handshake that was stripped before.
pub fn restore_upgrade(headers: &mut HeaderMap, upgrade: HeaderValue) {
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, upgrade);
}

/// What the proxy knows about the client side of a request.
#[derive(Debug, Clone, Copy)]
pub struct ClientSide<'a> {
    /// The address of the peer that connected to us.
    pub peer: IpAddr,
    /// Whether that peer is a trusted proxy whose forwarding headers we extend.
    pub trusted: bool,
    /// The host the client asked for (lower case, no port).
    pub host: &'a str,
    /// This request's id.
    pub request_id: &'a str,
}

/// Sets `X-Forwarded-For/-Proto/-Host`, `Forwarded` and `X-Request-Id`. From an untrusted peer
/// every client-supplied value is replaced; from a trusted proxy the chain is extended.
///
/// Runs for every proxied request, so the new values are written into one buffer and handed to
/// the header map as slices of it: two allocations, however many headers.
pub fn set_forwarding(headers: &mut HeaderMap, client: ClientSide<'_>) {
    let previous_xff = client
        .trusted
        .then(|| joined(headers, &X_FORWARDED_FOR))
        .flatten();
    let previous_forwarded = client
        .trusted
        .then(|| joined(headers, &FORWARDED))
        .flatten();
    let chains = previous_xff.as_ref().map_or(0, String::len)
        + previous_forwarded.as_ref().map_or(0, String::len);
    let mut buf = BytesMut::with_capacity(
        chains + 2 * client.host.len() + client.request_id.len() + FORWARDING_OVERHEAD,
    );

    write_ip(&mut buf, client.peer);
    let peer = buf.split().freeze();
    let xff = match &previous_xff {
        Some(chain) => {
            buf.extend_from_slice(chain.as_bytes());
            buf.extend_from_slice(b", ");
            buf.extend_from_slice(&peer);
            buf.split().freeze()
        }
        None => peer.clone(),
    };
    insert(headers, X_FORWARDED_FOR, xff);

    if !client.trusted || !headers.contains_key(&X_FORWARDED_PROTO) {
        headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("https"));
    }
    if !client.trusted || !headers.contains_key(&X_FORWARDED_HOST) {
        buf.extend_from_slice(client.host.as_bytes());
        insert(headers, X_FORWARDED_HOST, buf.split().freeze());
    }

    if let Some(chain) = &previous_forwarded {
        buf.extend_from_slice(chain.as_bytes());
        buf.extend_from_slice(b", ");
    }
    buf.extend_from_slice(b"for=");
    match client.peer {
        IpAddr::V4(_) => buf.extend_from_slice(&peer),
        IpAddr::V6(_) => {
            buf.extend_from_slice(b"\"[");
            buf.extend_from_slice(&peer);
            buf.extend_from_slice(b"]\"");
        }
    }
    buf.extend_from_slice(b";host=\"");
    buf.extend_from_slice(client.host.as_bytes());
    buf.extend_from_slice(b"\";proto=https");
    insert(headers, FORWARDED, buf.split().freeze());

    buf.extend_from_slice(client.request_id.as_bytes());
    insert(headers, REQUEST_ID, buf.split().freeze());
}

/// Room in [`set_forwarding`]'s buffer beyond the host (twice), the request id and the chains:
/// an address three times (45 bytes at most), the separators and `Forwarded`'s fixed text.
const FORWARDING_OVERHEAD: usize = 3 * 45 + 2 * 2 + 40;

/// Writes `ip` as text; IPv4 by hand, as the formatter's machinery costs more than the digits.
fn write_ip(buf: &mut BytesMut, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    buf.put_u8(b'.');
                }
                if octet >= 100 {
                    buf.put_u8(b'0' + octet / 100);
                }
                if octet >= 10 {
                    buf.put_u8(b'0' + octet / 10 % 10);
                }
                buf.put_u8(b'0' + octet % 10);
            }
        }
        // Writing into a BytesMut cannot fail (it grows), so the result carries nothing.
        IpAddr::V6(v6) => {
            let _ = write!(buf, "{v6}");
        }
    }
}

fn joined(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        None
    } else {
        Some(values.join(", "))
    }
}

fn insert(headers: &mut HeaderMap, name: HeaderName, value: Bytes) {
    // Values built from parsed addresses, validated hosts and ids are always valid header values.
    if let Ok(value) = HeaderValue::from_maybe_shared(value) {
        headers.insert(name, value);
    }
}

/// A client's request id is kept when it is short and plain; otherwise a new one is made
/// (128 random bits in hex).
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=128).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map_or_else(|| hex_id(rand::random::<u128>()), str::to_string)
}

/// `id` as 32 lower-case hex digits (what `format!("{id:032x}")` gives, without the formatter).
fn hex_id(id: u128) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = [0u8; 32];
    for (i, digit) in hex.iter_mut().enumerate() {
        *digit = DIGITS[((id >> (124 - 4 * i)) & 0xf) as usize];
    }
    String::from_utf8_lossy(&hex).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn hop_by_hop_and_connection_named_headers_go() {
        let mut h = map(&[
            ("connection", "keep-alive, x-secret-hop"),
            ("keep-alive", "timeout=5"),
            ("x-secret-hop", "1"),
            ("te", "trailers"),
            ("upgrade", "websocket"),
            ("accept", "*/*"),
        ]);
        assert_eq!(strip_hop_by_hop(&mut h), None);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("accept"));
    }

    #[test]
    fn connection_cannot_name_end_to_end_or_forwarding_headers() {
        let mut h = map(&[
            (
                "connection",
                "keep-alive, Host, Content-Length, Authorization, X-Forwarded-For, Cookie",
            ),
            ("host", "app.example.org"),
            ("content-length", "3"),
            ("authorization", "Bearer t"),
            ("x-forwarded-for", "203.0.113.9"),
            ("cookie", "a=1"),
        ]);
        strip_hop_by_hop(&mut h);
        for kept in [
            "host",
            "content-length",
            "authorization",
            "x-forwarded-for",
            "cookie",
        ] {
            assert!(h.contains_key(kept), "{kept} was removed");
        }
        assert!(!h.contains_key("connection"));
    }

    #[test]
    fn upgrade_survives_when_connection_asks_for_it() {
        let mut h = map(&[("connection", "Upgrade"), ("upgrade", "websocket")]);
        let upgrade = strip_hop_by_hop(&mut h).unwrap();
        assert_eq!(upgrade, "websocket");
        restore_upgrade(&mut h, upgrade);
        assert_eq!(h["connection"], "upgrade");
    }

    #[test]
    fn untrusted_client_values_are_replaced() {
        let mut h = map(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-host", "evil.org"),
            ("x-forwarded-proto", "http"),
            ("forwarded", "for=1.2.3.4"),
        ]);
        let client = ClientSide {
            peer: "192.0.2.7".parse().unwrap(),
            trusted: false,
            host: "mail.example.org",
            request_id: "r1",
        };
        set_forwarding(&mut h, client);
        assert_eq!(h["x-forwarded-for"], "192.0.2.7");
        assert_eq!(h["x-forwarded-host"], "mail.example.org");
        assert_eq!(h["x-forwarded-proto"], "https");
        assert_eq!(
            h["forwarded"],
            "for=192.0.2.7;host=\"mail.example.org\";proto=https"
        );
        assert_eq!(h["x-request-id"], "r1");
    }

    #[test]
    fn trusted_proxy_chain_is_extended() {
        let mut h = map(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "5.6.7.8"),
            ("forwarded", "for=1.2.3.4"),
        ]);
        let client = ClientSide {
            peer: "::1".parse().unwrap(),
            trusted: true,
            host: "m.org",
            request_id: "r",
        };
        set_forwarding(&mut h, client);
        assert_eq!(h["x-forwarded-for"], "1.2.3.4, 5.6.7.8, ::1");
        assert_eq!(
            h["forwarded"],
            "for=1.2.3.4, for=\"[::1]\";host=\"m.org\";proto=https"
        );
    }

    #[test]
    fn request_id_kept_only_when_plain() {
        assert_eq!(request_id(&map(&[("x-request-id", "abc-123")])), "abc-123");
        let fresh = request_id(&map(&[("x-request-id", "bad id\"")]));
        assert_eq!(fresh.len(), 32);
        assert_ne!(request_id(&HeaderMap::new()), request_id(&HeaderMap::new()));
        let id = 0x0123_4567_89ab_cdef_0011_2233_4455_6677_u128;
        assert_eq!(hex_id(id), format!("{id:032x}"));
        assert_eq!(hex_id(7), format!("{:032x}", 7));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn header_name() -> impl Strategy<Value = HeaderName> {
        prop_oneof![
            Just(header::CONNECTION),
            Just(header::UPGRADE),
            Just(header::TE),
            Just(header::TRANSFER_ENCODING),
            Just(HeaderName::from_static("keep-alive")),
            Just(X_FORWARDED_FOR),
            Just(FORWARDED),
            Just(REQUEST_ID),
            "[a-z][a-z0-9-]{0,12}".prop_map(|s| HeaderName::from_bytes(s.as_bytes()).unwrap()),
        ]
    }

    fn headers() -> impl Strategy<Value = HeaderMap> {
        proptest::collection::vec((header_name(), "[ -~]{0,40}"), 0..12).prop_map(|pairs| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    map.append(name, value);
                }
            }
            map
        })
    }

    proptest! {
        /// Whatever a client sends, nothing hop-by-hop crosses, nothing named in `Connection`
        /// crosses, and an untrusted client's forwarding chain is exactly its own address.
        #[test]
        fn rewriting_any_headers_keeps_the_invariants(mut map in headers(), trusted: bool, v4: [u8; 4]) {
            let named: Vec<HeaderName> = map
                .get_all(header::CONNECTION)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
                .filter(|n| *n != header::UPGRADE && !NEVER_HOP_BY_HOP.contains(&n.as_str()))
                .collect();
            strip_hop_by_hop(&mut map);
            for name in HOP_BY_HOP.iter().chain(named.iter()) {
                prop_assert!(!map.contains_key(name), "{name} crossed");
            }
            prop_assert!(!map.contains_key(header::UPGRADE));
            let peer = IpAddr::from(v4);
            set_forwarding(&mut map, ClientSide { peer, trusted, host: "app.example.org", request_id: "rid" });
            let xff = map.get(&X_FORWARDED_FOR).unwrap().to_str().unwrap().to_string();
            prop_assert!(xff.ends_with(&peer.to_string()));
            if !trusted {
                prop_assert_eq!(xff, peer.to_string());
                prop_assert_eq!(map.get(&X_FORWARDED_HOST).unwrap(), "app.example.org");
                prop_assert_eq!(map.get(&X_FORWARDED_PROTO).unwrap(), "https");
            }
            prop_assert_eq!(map.get_all(&REQUEST_ID).iter().count(), 1);
        }

        /// Request ids from clients are kept only when plain, and are always valid header values.
        #[test]
        fn request_ids_are_always_plain(raw in "[ -~]{0,200}") {
            let mut map = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(&raw) {
                map.insert(REQUEST_ID, value);
            }
            let id = request_id(&map);
            prop_assert!((1..=128).contains(&id.len()));
            prop_assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')));
        }
    }
}
