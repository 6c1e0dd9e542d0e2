//! The client's IP address: the socket peer, unless the peer is a configured trusted proxy,
//! in which case `X-Forwarded-For` is read from the right, skipping our own proxies (S-AU-3:
//! a spoofed header from anyone else changes nothing).

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    if !is_trusted(peer, trusted) {
        return peer;
    }
    // Several X-Forwarded-For headers are one list, in order.
    let mut hops: Vec<IpAddr> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else {
            return peer;
        };
        for part in text.split(',') {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) => hops.push(canonical(ip)),
                // An unparsable hop means the chain cannot be trusted past this point.
                Err(_) => return peer,
            }
        }
    }
    // Rightmost first: each hop was appended by the proxy in front of the next one.
    let mut client = peer;
    for hop in hops.iter().rev() {
        client = *hop;
        if !is_trusted(*hop, trusted) {
            break;
        }
    }
    client
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

/// The address a block or a per-address budget is kept for: an IPv4 address itself, an IPv6
/// address's /64 network (one subscriber, home or phone owns a whole /64 and can pick any
/// address in it, so keying on the exact address would give it 2^64 fresh budgets).
pub fn group(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// `::ffff:192.0.2.1` is the IPv4 client 192.0.2.1, whichever socket family it arrived on.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }
    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }
    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address() {
        let h = headers(&["203.0.113.9"]);
        assert_eq!(
            resolve(ip("198.51.100.4"), &h, &nets(&["10.0.0.0/8"])),
            ip("198.51.100.4")
        );
        assert_eq!(resolve(ip("198.51.100.4"), &h, &[]), ip("198.51.100.4"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let h = headers(&["203.0.113.9"]);
        assert_eq!(
            resolve(ip("10.1.2.3"), &h, &nets(&["10.0.0.0/8"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn addresses_the_client_prepended_are_ignored() {
        // The client sent "X-Forwarded-For: 1.1.1.1"; our proxy appended the real address.
        let h = headers(&["1.1.1.1, 203.0.113.9"]);
        assert_eq!(
            resolve(ip("10.1.2.3"), &h, &nets(&["10.0.0.0/8"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn chains_of_trusted_proxies_are_walked() {
        let h = headers(&["203.0.113.9, 10.0.0.7", "10.0.0.8"]);
        assert_eq!(
            resolve(ip("10.1.2.3"), &h, &nets(&["10.0.0.0/8"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn garbage_in_the_header_falls_back_to_the_peer() {
        let h = headers(&["not-an-ip"]);
        assert_eq!(
            resolve(ip("10.1.2.3"), &h, &nets(&["10.0.0.0/8"])),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn ipv6_clients_are_grouped_by_their_64_and_ipv4_by_address() {
        assert_eq!(group(ip("2001:db8:1:2::5")), ip("2001:db8:1:2::"));
        assert_eq!(group(ip("2001:db8:1:2:ffff:1:2:3")), ip("2001:db8:1:2::"));
        assert_ne!(group(ip("2001:db8:1:3::5")), group(ip("2001:db8:1:2::5")));
        assert_eq!(group(ip("2001:db8::1:2:3:4")), group(ip("2001:db8::5")));
        assert_eq!(group(ip("203.0.113.9")), ip("203.0.113.9"));
        assert_eq!(group(ip("::ffff:203.0.113.9")), ip("203.0.113.9"));
    }

    #[test]
    fn ipv4_mapped_peers_are_matched_as_ipv4() {
        let h = headers(&["203.0.113.9"]);
        assert_eq!(
            resolve(ip("::ffff:10.1.2.3"), &h, &nets(&["10.0.0.0/8"])),
            ip("203.0.113.9")
        );
    }
}
