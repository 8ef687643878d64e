//! Who a request comes from, for limits: the peer's address, or — when the peer is a reverse
//! proxy the centre trusts (`--trusted-proxies`) — the address that proxy saw, from
//! `X-Forwarded-For`. The address is used for rate limits only; it is never logged.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

/// The networks whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies(nets)
    }

    /// Parse `10.0.0.0/8,::1` (a bare address is a single host).
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{item}` is not an address or a CIDR network (e.g. 10.0.0.0/8)"))?;
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(&canonical(ip)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The client behind `peer`: the peer itself unless it is trusted; then, reading
    /// `X-Forwarded-For` from the right (the entry the nearest proxy added), the first address
    /// that is not a trusted proxy. A header that does not parse is not believed.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let mut hops = Vec::new();
        for value in headers.get_all("x-forwarded-for") {
            let Ok(text) = value.to_str() else { return peer };
            for hop in text.split(',') {
                match hop.trim().parse::<IpAddr>() {
                    Ok(ip) => hops.push(canonical(ip)),
                    Err(_) => return peer,
                }
            }
        }
        let mut client = peer;
        for ip in hops.into_iter().rev() {
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client of a request, as far as limits are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Client(pub IpAddr);

impl Client {
    /// What one client is for a rate limit: an IPv4 address, or an IPv6 /64 (one host usually
    /// holds a whole /64, so counting addresses would let it walk around any limit).
    pub fn key(self) -> IpAddr {
        match self.0 {
            IpAddr::V6(v6) => IpAddr::V6(mask(v6, 64)),
            v4 => v4,
        }
    }

    /// The client's network, for limits shared by neighbours: an IPv4 /24 or an IPv6 /48.
    pub fn network(self) -> IpAddr {
        match self.0 {
            IpAddr::V4(v4) => {
                let [a, b, c, _] = v4.octets();
                IpAddr::V4([a, b, c, 0].into())
            }
            IpAddr::V6(v6) => IpAddr::V6(mask(v6, 48)),
        }
    }
}

fn mask(v6: Ipv6Addr, bits: u32) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(v6) & (u128::MAX << (128 - bits)))
}

/// Middleware: find the request's [`Client`] and put it in the request's extensions. A request
/// that came without a peer address (in-process tests) has none, and no per-client limit applies.
pub async fn identify(trusted: axum::extract::State<TrustedProxies>, mut req: Request, next: Next) -> Response {
    if let Some(peer) = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) {
        let client = Client(trusted.client(peer, req.headers()));
        req.extensions_mut().insert(client);
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }
    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let t = TrustedProxies::parse("10.0.0.0/8, 192.168.1.5").unwrap();
        // An untrusted peer is the client, whatever it claims.
        assert_eq!(t.client(ip("203.0.113.7"), &headers(&["198.51.100.1"])), ip("203.0.113.7"));
        // A trusted proxy: the rightmost untrusted hop (a client cannot push itself in front).
        assert_eq!(t.client(ip("10.1.2.3"), &headers(&["1.1.1.1, 198.51.100.9"])), ip("198.51.100.9"));
        assert_eq!(t.client(ip("10.1.2.3"), &headers(&["198.51.100.9, 10.9.9.9"])), ip("198.51.100.9"));
        assert_eq!(t.client(ip("192.168.1.5"), &headers(&["198.51.100.9", "10.0.0.2"])), ip("198.51.100.9"));
        // Nothing forwarded, or nonsense: the proxy itself.
        assert_eq!(t.client(ip("10.1.2.3"), &headers(&[])), ip("10.1.2.3"));
        assert_eq!(t.client(ip("10.1.2.3"), &headers(&["evil, 1.2.3.4"])), ip("10.1.2.3"));
        // Mapped IPv4 is IPv4.
        assert!(t.trusts(ip("::ffff:10.0.0.1")));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").unwrap_err().contains("proxy.local"));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
    }

    #[test]
    fn an_ipv6_host_is_one_client_however_many_addresses_it_uses() {
        let a = Client(ip("2001:db8:1:2:aaaa::1"));
        let b = Client(ip("2001:db8:1:2:bbbb::9"));
        assert_eq!(a.key(), b.key());
        assert_ne!(a.key(), Client(ip("2001:db8:1:3::1")).key());
        assert_eq!(Client(ip("198.51.100.7")).network(), ip("198.51.100.0"));
        assert_eq!(Client(ip("2001:db8:1:ffff::1")).network(), ip("2001:db8:1::"));
    }
}
