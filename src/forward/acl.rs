//! Who may have names outside the domain relayed (`relayAllowFrom`), and the log line of a refusal.
//! Absent, the key means the node's own and private networks ([`DEFAULT_ALLOW_FROM`]: loopback,
//! RFC 1918, RFC 6598, link-local, IPv6 ULA), as BIND's `allow-recursion { localhost; localnets; }`
//! and Unbound's localhost-only default: a relay open to every address that can reach port 53 is an
//! open resolver (amplification, cache snooping). Given, the list replaces the default; `[]` lets
//! nobody relay. Names inside the domain are answered whoever asks; that is not decided here.

use std::fmt;
use std::net::IpAddr;
use std::time::Instant;

use crate::config::Cidr;
use crate::logline::throttle::{Suppressed, Throttle};

/// The networks that may relay when `relayAllowFrom` is absent: loopback, RFC 1918, RFC 6598 (carrier
/// NAT, used by some clouds and container networks), link-local, IPv6 ULA.
pub(crate) const DEFAULT_ALLOW_FROM: [&str; 9] = [
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
];

/// [`DEFAULT_ALLOW_FROM`], parsed.
pub(crate) fn default_allow_from() -> Vec<Cidr> {
    DEFAULT_ALLOW_FROM.iter().filter_map(|n| Cidr::parse(n).ok()).collect()
}

/// Whether a client at `ip` may relay through us: it is in one of `allow_from`'s networks (none
/// when the list is empty). IPv4-mapped IPv6 addresses (a dual-stack socket's view of an IPv4
/// client) are matched as IPv4.
#[inline]
pub(crate) fn allowed(allow_from: &[Cidr], ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    allow_from.iter().any(|net| net.contains(ip))
}

/// A client's network as logged: its /24 (IPv4) or /56 (IPv6), the blocks response rate limiting
/// counts by too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClientNet(IpAddr);

impl ClientNet {
    #[inline]
    pub(crate) fn of(ip: IpAddr) -> ClientNet {
        ClientNet(match ip.to_canonical() {
            IpAddr::V4(a) => IpAddr::V4((u32::from(a) & !0xff).into()),
            IpAddr::V6(a) => IpAddr::V6((u128::from(a) & !((1u128 << 72) - 1)).into()),
        })
    }

    /// The network as one number the two families cannot share (an IPv4 network has the top bit set,
    /// an IPv6 one fits in 56 bits): response rate limiting's key.
    #[inline]
    pub(crate) fn key(self) -> u64 {
        match self.0 {
            IpAddr::V4(a) => 1 << 63 | u64::from(u32::from(a) >> 8),
            IpAddr::V6(a) => (u128::from(a) >> 72) as u64,
        }
    }
}

impl fmt::Display for ClientNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = if self.0.is_ipv4() { 24 } else { 56 };
        write!(f, "{}/{prefix}", self.0)
    }
}

/// Refused relays: the log line of the first, then of one a minute at most.
#[derive(Debug, Default)]
pub(crate) struct Refusals {
    throttle: Throttle,
}

/// The log line of a refused relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused {
    pub net: ClientNet,
    /// The refusals not logged since the last line.
    pub suppressed: Suppressed,
}

impl Refusals {
    /// Counts a client at `ip` refused at `now`: `Some` when a line is to be logged.
    pub(crate) fn refused(&mut self, ip: IpAddr, now: Instant) -> Option<Refused> {
        // One text for every refusal: one line a minute, whichever networks ask.
        let suppressed = self.throttle.failure(now, "relay refused")?;
        Some(Refused {
            net: ClientNet::of(ip),
            suppressed,
        })
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let net = self.net;
        write!(
            f,
            "names outside the domain not relayed for clients in {net} (REFUSED): they are not in \
             `relayAllowFrom` (absent: loopback and private networks only); to relay for them, add \
             \"{net}\" to `relayAllowFrom` (logged once a minute at most"
        )?;
        match self.suppressed {
            Suppressed { count: 0, .. } => f.write_str(")"),
            Suppressed { count, over } => write!(f, "; {count} more refused in the last {} s)", over.as_secs()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn nets(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|n| Cidr::parse(n).unwrap()).collect()
    }

    #[test]
    fn an_empty_list_lets_nobody_relay() {
        for ip in ["127.0.0.5", "192.0.2.1", "::1", "10.0.0.1"] {
            assert!(!allowed(&[], ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn by_default_only_loopback_and_private_clients_relay() {
        let default = default_allow_from();
        assert_eq!(default.len(), DEFAULT_ALLOW_FROM.len(), "every default network parses");
        for (ip, want) in [
            ("127.0.0.1", true),
            ("127.255.0.9", true),
            ("10.1.2.3", true),
            ("172.16.0.1", true),
            ("172.31.255.255", true),
            ("172.32.0.1", false),
            ("192.168.77.1", true),
            ("192.169.0.1", false),
            ("100.64.0.1", true),
            ("100.127.255.254", true),
            ("100.128.0.1", false),
            ("100.63.255.255", false),
            ("169.254.169.254", true),
            ("198.51.100.7", false),
            ("203.0.113.9", false),
            ("8.8.8.8", false),
            ("::1", true),
            ("fd12:3456::1", true),
            ("fc00::1", true),
            ("fe80::1", true),
            ("febf::1", true),
            ("fec0::1", false),
            ("2001:db8::1", false),
            // A dual-stack socket's view of IPv4 clients.
            ("::ffff:10.1.2.3", true),
            ("::ffff:127.0.0.1", true),
            ("::ffff:198.51.100.7", false),
        ] {
            assert_eq!(allowed(&default, ip.parse().unwrap()), want, "{ip}");
        }
    }

    #[test]
    fn everyone_relays_with_both_whole_address_spaces() {
        let all = nets(&["0.0.0.0/0", "::/0"]);
        for ip in ["198.51.100.7", "2001:db8::1", "::ffff:203.0.113.9", "127.0.0.1"] {
            assert!(allowed(&all, ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn only_the_listed_networks_may_relay() {
        let allow = nets(&["127.0.0.1/32", "10.0.0.0/8", "fd00::/8"]);
        for (ip, want) in [
            ("127.0.0.1", true),
            ("127.0.0.5", false),
            ("10.200.3.4", true),
            ("11.0.0.1", false),
            ("fd12::1", true),
            ("::1", false),
            // A dual-stack socket's view of an IPv4 client.
            ("::ffff:10.1.2.3", true),
            ("::ffff:127.0.0.5", false),
        ] {
            assert_eq!(allowed(&allow, ip.parse().unwrap()), want, "{ip}");
        }
    }

    #[test]
    fn a_client_network_is_its_24_or_56() {
        for (ip, net) in [
            ("198.51.100.7", "198.51.100.0/24"),
            ("::ffff:203.0.113.9", "203.0.113.0/24"),
            ("2001:db8:1:2345:6789::1", "2001:db8:1:2300::/56"),
        ] {
            assert_eq!(ClientNet::of(ip.parse().unwrap()).to_string(), net);
        }
    }

    #[test]
    fn refusals_are_logged_once_a_minute_whichever_network_asks() {
        let mut refusals = Refusals::default();
        let t0 = Instant::now();
        let a: IpAddr = "198.51.100.7".parse().unwrap();
        let b: IpAddr = "203.0.113.9".parse().unwrap();
        let first = refusals.refused(a, t0).expect("the first is logged");
        assert_eq!(
            first.to_string(),
            "names outside the domain not relayed for clients in 198.51.100.0/24 (REFUSED): they are not in \
             `relayAllowFrom` (absent: loopback and private networks only); to relay for them, add \
             \"198.51.100.0/24\" to `relayAllowFrom` (logged once a minute at most)"
        );
        for s in 1..=59 {
            let ip = if s % 2 == 0 { a } else { b };
            assert_eq!(refusals.refused(ip, t0 + Duration::from_secs(s)), None, "{s}");
        }
        let next = refusals
            .refused(b, t0 + Duration::from_secs(60))
            .expect("a minute later");
        assert_eq!(next.net.to_string(), "203.0.113.0/24");
        assert!(
            next.to_string().ends_with("; 59 more refused in the last 60 s)"),
            "{next}"
        );
    }
}
