//! Who the client is: the socket's peer address, or — when the peer is one of the configured trusted
//! proxies (`--trusted-proxies`) — the address that proxy reports in `Forwarded` (RFC 7239) or
//! `X-Forwarded-For`.
//!
//! The forwarding chain is read from the right (the hop nearest to us) and trusted proxies are
//! skipped; the first address that is not a trusted proxy is the client. Anything left of it was
//! written by the client itself and is ignored, so a client cannot pick its own address. From a peer
//! that is not a trusted proxy the headers are ignored entirely.
//!
//! Rate limits and connection caps key IPv6 clients by their /64: one subscriber typically gets a
//! whole /64, so per-address budgets would otherwise be 2^64 budgets. IPv4-mapped IPv6 addresses
//! count as the IPv4 address.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};

/// An IP range: an address and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let net =
            canonical(IpAddr::from_str(addr).map_err(|_| format!("`{s}` is not an IP address or range"))?);
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{s}`: bad prefix length"))?,
            None => max,
        };
        Ok(Cidr { net, prefix })
    }
}

/// The configured trusted proxies.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Parses `--trusted-proxies` entries (empty entries are skipped).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TrustedProxies, String> {
        let ranges = entries
            .iter()
            .map(AsRef::as_ref)
            .filter(|e| !e.trim().is_empty())
            .map(Cidr::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedProxies(ranges))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The client's address (`None` without a socket: in-process tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// The client of a request that arrived from `peer` with `headers`.
    pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &TrustedProxies) -> ClientAddr {
        let Some(peer) = peer.map(canonical) else { return ClientAddr(None) };
        if !trusted.contains(peer) {
            return ClientAddr(Some(peer));
        }
        // `Forwarded` when present (the standard), otherwise `X-Forwarded-For`. Every header line
        // counts, in order, as one comma-separated list.
        let forwarded: Vec<&str> =
            headers.get_all("forwarded").iter().filter_map(|v| v.to_str().ok()).collect();
        let chain: Vec<Option<IpAddr>> = if !forwarded.is_empty() {
            forwarded.iter().flat_map(|v| v.split(',')).map(forwarded_for).collect()
        } else {
            headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(parse_node)
                .collect()
        };
        let mut client = peer;
        for hop in chain.into_iter().rev() {
            // An unreadable entry ("unknown", garbage) ends the walk: what is left of it cannot be
            // attributed, so the last hop we could read is the client.
            let Some(hop) = hop.map(canonical) else { break };
            client = hop;
            if !trusted.contains(hop) {
                break;
            }
        }
        ClientAddr(Some(client))
    }

    /// [`Self::resolve`] for a request inside the router (its socket address from `ConnectInfo`).
    pub fn of(extensions: &Extensions, headers: &HeaderMap, trusted: &TrustedProxies) -> ClientAddr {
        let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip());
        ClientAddr::resolve(peer, headers, trusted)
    }

    /// The key rate limits use: the IPv4 address, or the IPv6 /64 (`2001:db8:1:2::/64`).
    pub fn limit_key(&self) -> String {
        match self.0 {
            None => "local".into(),
            Some(ip) => limit_key(ip),
        }
    }
}

impl std::fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(ip) => write!(f, "{ip}"),
            None => f.write_str("local"),
        }
    }
}

/// The rate-limit key of `ip` (see [`ClientAddr::limit_key`]).
pub fn limit_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & (u128::MAX << 64);
            format!("{}/64", Ipv6Addr::from(prefix))
        }
    }
}

/// IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The `for=` of one `Forwarded` element (`for=192.0.2.1;proto=https`, `for="[2001:db8::1]:443"`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim().eq_ignore_ascii_case("for").then(|| parse_node(value.trim().trim_matches('"')))?
    })
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`.
fn parse_node(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = IpAddr::from_str(s) {
        return Some(ip);
    }
    if let Ok(sock) = SocketAddr::from_str(s) {
        return Some(sock.ip());
    }
    s.strip_prefix('[').and_then(|r| r.strip_suffix(']')).and_then(|r| IpAddr::from_str(r).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn ranges_parse_and_match() {
        let t = TrustedProxies::parse(&["10.0.0.0/8", "127.0.0.1", "2001:db8::/32", " "]).unwrap();
        assert!(t.contains(ip("10.200.1.1")));
        assert!(t.contains(ip("127.0.0.1")));
        assert!(!t.contains(ip("127.0.0.2")));
        assert!(t.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped counts as IPv4");
        assert!(t.contains(ip("2001:db8:ffff::1")));
        assert!(!t.contains(ip("2001:db9::1")));
        assert!(TrustedProxies::parse(&["0.0.0.0/0"]).unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "proxy.local", "::/129", "1.2.3.4/x"] {
            assert!(TrustedProxies::parse(&[bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_are_believed_only_from_a_trusted_proxy() {
        let trusted = TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8"]).unwrap();
        let xff = headers(&[("x-forwarded-for", "203.0.113.9")]);
        // From the proxy: the client it names.
        assert_eq!(ClientAddr::resolve(Some(ip("127.0.0.1")), &xff, &trusted).0, Some(ip("203.0.113.9")));
        // From anyone else: their own address, whatever they claim.
        assert_eq!(ClientAddr::resolve(Some(ip("198.51.100.1")), &xff, &trusted).0, Some(ip("198.51.100.1")));
        // Nothing configured: never believed.
        let none = TrustedProxies::default();
        assert_eq!(ClientAddr::resolve(Some(ip("127.0.0.1")), &xff, &none).0, Some(ip("127.0.0.1")));
        // No header from the proxy: the proxy is the client.
        assert_eq!(
            ClientAddr::resolve(Some(ip("127.0.0.1")), &HeaderMap::new(), &trusted).0,
            Some(ip("127.0.0.1"))
        );
        assert_eq!(ClientAddr::resolve(None, &xff, &trusted), ClientAddr(None));
    }

    #[test]
    fn the_chain_is_read_from_the_right_skipping_trusted_hops() {
        let trusted = TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8"]).unwrap();
        let peer = Some(ip("127.0.0.1"));
        // The client wrote a fake first entry; the proxies appended the real one.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.5")]);
        assert_eq!(ClientAddr::resolve(peer, &h, &trusted).0, Some(ip("203.0.113.9")));
        // Several header lines are one list.
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "203.0.113.9:4711")]);
        assert_eq!(ClientAddr::resolve(peer, &h, &trusted).0, Some(ip("203.0.113.9")));
        // Garbage stops the walk at the last readable hop.
        let h = headers(&[("x-forwarded-for", "203.0.113.9, unknown, 10.0.0.7")]);
        assert_eq!(ClientAddr::resolve(peer, &h, &trusted).0, Some(ip("10.0.0.7")));
        // Forwarded wins over X-Forwarded-For, with quoting, ports and IPv6 brackets.
        let h = headers(&[
            ("x-forwarded-for", "9.9.9.9"),
            ("forwarded", r#"for=1.1.1.1, for="[2001:db8:cafe::17]:4711";proto=https"#),
        ]);
        assert_eq!(ClientAddr::resolve(peer, &h, &trusted).0, Some(ip("2001:db8:cafe::17")));
        let h = headers(&[("forwarded", "proto=https;For=198.51.100.4")]);
        assert_eq!(ClientAddr::resolve(peer, &h, &trusted).0, Some(ip("198.51.100.4")));
    }

    #[test]
    fn limit_keys_group_ipv6_by_64() {
        assert_eq!(limit_key(ip("203.0.113.9")), "203.0.113.9");
        assert_eq!(limit_key(ip("::ffff:203.0.113.9")), "203.0.113.9");
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(limit_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), "2001:db8:1:2::/64");
        assert_ne!(limit_key(ip("2001:db8:1:3::1")), limit_key(ip("2001:db8:1:2::1")));
        assert_eq!(ClientAddr(None).limit_key(), "local");
    }
}
