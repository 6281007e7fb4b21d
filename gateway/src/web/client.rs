//! The client's address as the gateway believes it: the peer's, unless the peer is a trusted
//! proxy (`server.trusted_proxies`), whose report (`X-Real-IP`, else the last `X-Forwarded-For`
//! entry, the one that proxy added) is taken instead. Forward auth's `from` rules and the rate
//! limits per address both read it here, so they cannot disagree about who is asking.

use std::net::IpAddr;

use http::HeaderMap;

/// The client of a request from `peer`; `trusted`: the peer is a trusted proxy.
pub fn address(peer: IpAddr, trusted: bool, headers: &HeaderMap) -> IpAddr {
    if trusted {
        reported(headers).unwrap_or(peer)
    } else {
        peer
    }
}

/// The address a front proxy reports for its client.
fn reported(headers: &HeaderMap) -> Option<IpAddr> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    get("x-real-ip")
        .and_then(|v| v.trim().parse().ok())
        .or_else(|| {
            get("x-forwarded-for")?
                .rsplit(',')
                .next()?
                .trim()
                .parse()
                .ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_trusted_peer_names_the_client() {
        let peer: IpAddr = [10, 0, 0, 1].into();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "198.51.100.1, 203.0.113.5".parse().unwrap(),
        );
        assert_eq!(address(peer, false, &headers), peer);
        assert_eq!(
            address(peer, true, &headers),
            IpAddr::from([203, 0, 113, 5])
        );
        headers.insert("x-real-ip", "192.0.2.9".parse().unwrap());
        assert_eq!(address(peer, true, &headers), IpAddr::from([192, 0, 2, 9]));
        let garbage: HeaderMap = [(
            http::header::HeaderName::from_static("x-forwarded-for"),
            "not an address".parse().unwrap(),
        )]
        .into_iter()
        .collect();
        assert_eq!(address(peer, true, &garbage), peer);
    }
}
