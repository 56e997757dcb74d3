//! `unroutableNetworks`' entries: an IPv4 or IPv6 network in CIDR notation (`172.17.0.0/16`,
//! `fd00::/8`), parsed once when the config is read, and the one question records ask of it: does it
//! hold an address. It does not decide what an address in it means (that is `records::generate`).

use std::fmt;
use std::net::IpAddr;

/// A network: its first address (host bits cleared) and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `address/prefix`. Host bits may be set (`172.17.0.1/16` is `172.17.0.0/16`), as Go's
    /// `net.ParseCIDR` allows; a bare address is refused, so that a forgotten prefix is not read as
    /// one host.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let expected =
            || format!("`{text}` is not a network: expected address/prefix, such as 172.17.0.0/16 or fd00::/8");
        let (addr, prefix) = text.trim().split_once('/').ok_or_else(expected)?;
        let addr: IpAddr = addr.parse().map_err(|_| expected())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| format!("`{text}`: the prefix length must be 0 to {max}"))?;
        let network = match addr {
            IpAddr::V4(a) => IpAddr::V4((u32::from(a) & mask32(prefix)).into()),
            IpAddr::V6(a) => IpAddr::V6((u128::from(a) & mask128(prefix)).into()),
        };
        Ok(Cidr { network, prefix })
    }

    /// Whether `ip` is in the network. An IPv4 network never holds an IPv6 address (nor the reverse):
    /// callers pass IPv4-mapped IPv6 addresses as IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => u32::from(a) & mask32(self.prefix) == u32::from(n),
            (IpAddr::V6(n), IpAddr::V6(a)) => u128::from(a) & mask128(self.prefix) == u128::from(n),
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

impl fmt::Display for Cidr {
    /// `network/prefix`, the host bits cleared: what `/v1/config` shows.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_networks_hold_their_addresses_only() {
        let n = Cidr::parse("172.17.0.0/16").unwrap();
        assert!(n.contains(ip("172.17.0.2")));
        assert!(n.contains(ip("172.17.255.255")));
        assert!(!n.contains(ip("172.18.0.1")));
        assert!(
            !n.contains(ip("::ffff:172.17.0.2")),
            "callers pass mapped addresses as IPv4"
        );
        assert_eq!(n.to_string(), "172.17.0.0/16");
    }

    #[test]
    fn ipv6_networks_and_the_edge_prefixes() {
        let n = Cidr::parse("fd00:1::/32").unwrap();
        assert!(n.contains(ip("fd00:1::5")));
        assert!(!n.contains(ip("fd00:2::5")));
        assert!(!n.contains(ip("10.0.0.1")));
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains(ip("1.2.3.4")) && all.contains(ip("255.255.255.255")));
        let one = Cidr::parse("::1/128").unwrap();
        assert!(one.contains(ip("::1")) && !one.contains(ip("::2")));
        assert!(Cidr::parse("::/0").unwrap().contains(ip("2001:db8::1")));
    }

    #[test]
    fn host_bits_are_cleared() {
        assert_eq!(Cidr::parse("172.17.0.1/16").unwrap().to_string(), "172.17.0.0/16");
        assert_eq!(Cidr::parse("fd00::ff/120").unwrap().to_string(), "fd00::/120");
    }

    #[test]
    fn bad_networks_say_what_is_expected() {
        for (bad, says) in [
            ("172.17.0.0", "expected address/prefix"),
            ("172.17.0.0/33", "0 to 32"),
            ("fd00::/129", "0 to 128"),
            ("172.17.0.0/-1", "0 to 32"),
            ("172.17.0.0/1x", "0 to 32"),
            ("docker0/16", "expected address/prefix"),
            ("", "expected address/prefix"),
        ] {
            let e = Cidr::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
    }
}
