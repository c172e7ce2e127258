//! Where webhooks may go. An endpoint URL is `http://` or `https://` with a host and no credentials,
//! and — unless the server runs with `--webhooks-allow-private-networks` — every address it leads to
//! must be a public one: not loopback, private (RFC 1918, CGNAT), link-local, unique-local,
//! multicast, unspecified, broadcast, documentation or otherwise reserved, for IPv4 and IPv6, with
//! IPv4 addresses embedded in IPv6 ones (`::ffff:127.0.0.1`, NAT64, 6to4) judged as the IPv4 address.
//!
//! The check runs when an endpoint is created or changed, and again at every delivery on the
//! addresses the delivery then connects to (`super::client`): a name that resolves elsewhere later
//! (DNS rebinding) is refused then.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// The longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Why an endpoint URL is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    #[error("the URL is not valid: {0}")]
    Syntax(String),
    #[error("the URL is longer than {MAX_URL_LEN} characters")]
    TooLong,
    #[error("only http:// and https:// URLs can receive webhooks")]
    Scheme,
    #[error("the URL has no host")]
    NoHost,
    #[error("the URL carries a user name or password; the signature authenticates deliveries instead")]
    Credentials,
    #[error("the URL has a #fragment, which is never sent")]
    Fragment,
    #[error(
        "{0} is a loopback, private or otherwise non-public address; webhooks go to public addresses \
         unless the server runs with HALLPASS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true"
    )]
    NotPublic(IpAddr),
}

/// Parses an endpoint URL and checks its shape (not where it resolves to).
pub fn parse(url: &str) -> Result<Url, UrlRefused> {
    if url.len() > MAX_URL_LEN {
        return Err(UrlRefused::TooLong);
    }
    let parsed = Url::parse(url.trim()).map_err(|e| UrlRefused::Syntax(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UrlRefused::Scheme);
    }
    if parsed.host().is_none() {
        return Err(UrlRefused::NoHost);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlRefused::Credentials);
    }
    if parsed.fragment().is_some() {
        return Err(UrlRefused::Fragment);
    }
    Ok(parsed)
}

/// The URL's host when it is an IP address (such a URL is never resolved).
pub fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        Host::Domain(_) => None,
    }
}

/// `Ok` if `ip` may receive webhooks under this policy.
pub fn check(ip: IpAddr, allow_private: bool) -> Result<(), UrlRefused> {
    if allow_private || is_public(ip) { Ok(()) } else { Err(UrlRefused::NotPublic(ip)) }
}

/// Whether `ip` is a public, routable unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0                                  // "this network", 0.0.0.0
        || a == 10                                        // private
        || a == 127                                       // loopback
        || (a == 100 && (64..128).contains(&b))           // CGNAT, shared address space
        || (a == 169 && b == 254)                         // link-local (cloud metadata)
        || (a == 172 && (16..32).contains(&b))            // private
        || (a == 192 && b == 0 && c == 0)                 // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)                 // documentation
        || (a == 192 && b == 88 && c == 99)               // 6to4 relay anycast (deprecated)
        || (a == 192 && b == 168)                         // private
        || (a == 198 && (18..20).contains(&b))            // benchmarking
        || (a == 198 && b == 51 && c == 100)              // documentation
        || (a == 203 && b == 0 && c == 113)               // documentation
        || a >= 224; // multicast, reserved, broadcast
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let refused = ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xff00) == 0xff00                      // multicast
        || (s[0] & 0xffc0) == 0xfe80                      // link-local
        || (s[0] & 0xffc0) == 0xfec0                      // site-local (deprecated)
        || (s[0] & 0xfe00) == 0xfc00                      // unique local
        || (s[0] == 0x2001 && s[1] == 0x0db8)             // documentation
        || (s[0] == 0x3fff && s[1] < 0x1000)              // documentation (RFC 9637)
        || (s[0] == 0x2001 && s[1] < 0x0200)              // IETF protocol assignments, Teredo
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0) // discard-only
        || s[0] == 0                                      // ::/16: the rest of the IPv4-compatible space
        || (s[0] & 0xe000) != 0x2000; // outside global unicast 2000::/3
    !refused
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64
/// (`64:ff9b::a.b.c.d`) or 6to4 (`2002:aabb:ccdd::`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if s[..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || (s[5] == 0 && (s[6] != 0 || s[7] > 1))) {
        return Some(low(s[6], s[7]));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(low(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return Some(low(s[1], s[2]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn refuses_every_non_public_range() {
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.9.9.9",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "ff0e::1",
            "2001:db8::1",
            "2001::1",
            "2001:0:4136:e378::1",
            "100::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::10.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::1",
            "2002:c0a8:101::",
            "::2",
            "3fff::1",
            "4000::1",
        ] {
            assert!(!is_public(ip(s)), "{s} must be refused");
            assert_eq!(check(ip(s), false), Err(UrlRefused::NotPublic(ip(s))));
            assert_eq!(check(ip(s), true), Ok(()), "{s} is allowed with the flag");
        }
    }

    #[test]
    fn accepts_public_addresses_in_every_form() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.0.1",
            "172.32.0.1",
            "192.167.1.1",
            "198.17.0.1",
            "223.255.255.254",
            "2606:4700:4700::1111",
            "2a00:1450:4001:81b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip(s)), "{s} is public");
        }
    }

    #[test]
    fn url_shapes() {
        assert!(parse("https://example.com/hooks?x=1").is_ok());
        assert!(parse("http://[2606:4700::1111]:8080/").is_ok());
        assert_eq!(parse("ftp://example.com/"), Err(UrlRefused::Scheme));
        assert_eq!(parse("javascript:alert(1)"), Err(UrlRefused::Scheme));
        assert_eq!(parse("https://user:pw@example.com/"), Err(UrlRefused::Credentials));
        assert_eq!(parse("https://example.com/#x"), Err(UrlRefused::Fragment));
        assert!(matches!(parse("not a url"), Err(UrlRefused::Syntax(_))));
        assert!(matches!(parse("https://"), Err(UrlRefused::Syntax(_) | UrlRefused::NoHost)));
        assert_eq!(
            parse(&format!("https://example.com/{}", "a".repeat(MAX_URL_LEN))),
            Err(UrlRefused::TooLong)
        );
        let u = parse("http://127.0.0.1:9/x").unwrap();
        assert_eq!(literal_ip(&u), Some(ip("127.0.0.1")));
        // The URL parser normalises the forms a browser would accept for an IPv4 address.
        for odd in ["http://2130706433/", "http://0x7f.1/", "http://017700000001/", "http://127.1/"] {
            assert_eq!(literal_ip(&parse(odd).unwrap()), Some(ip("127.0.0.1")), "{odd}");
        }
        assert_eq!(literal_ip(&parse("http://[::ffff:7f00:1]/").unwrap()), Some(ip("::ffff:127.0.0.1")));
        assert_eq!(literal_ip(&parse("https://example.com").unwrap()), None);
    }
}
