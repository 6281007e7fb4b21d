//! The client's address as the gateway believes it: the peer's, unless the peer is a trusted
//! proxy (`server.trusted_proxies`), whose report (`X-Real-IP`, else the last `X-Forwarded-For`
//! entry, the one that proxy added) is taken instead. Forward auth's `from` rules and the rate
//! limits per address both read it here, so they cannot disagree about who is asking.

use std::net::{IpAddr, Ipv6Addr};

use http::HeaderMap;

/// The client of a request from `peer`; `trusted`: the peer is a trusted proxy.
pub fn address(peer: IpAddr, trusted: bool, headers: &HeaderMap) -> IpAddr {
    if trusted {
        reported(headers).unwrap_or(peer)
    } else {
        peer
    }
}

/// The network an address is limited as (connections and rates per address): an IPv4 address
/// alone, an IPv6 address by its /64, the smallest network a site is given (one host can use
/// any address in it, so counting each apart would count nothing).
pub fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))),
        },
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

    #[test]
    fn ipv6_addresses_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(network(a), network(b));
        assert_ne!(network(a), network(c));
        assert_eq!(network(a), "2001:db8:1:2::".parse::<IpAddr>().unwrap());
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(network(mapped), IpAddr::from([192, 0, 2, 7]));
        assert_eq!(
            network(IpAddr::from([192, 0, 2, 7])),
            IpAddr::from([192, 0, 2, 7])
        );
    }
}
