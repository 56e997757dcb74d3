//! Who may have names outside the domain relayed (`relayAllowFrom`): a client whose address is in one
//! of the listed networks, or anyone when the list is empty (as the original). Names inside the domain
//! are answered whoever asks; that is not decided here. A relay open to every address that can reach
//! port 53 is an open resolver (amplification, cache snooping), hence the list.

use std::net::IpAddr;

use crate::config::Cidr;

/// Whether a client at `ip` may relay through us. IPv4-mapped IPv6 addresses (a dual-stack socket's
/// view of an IPv4 client) are matched as IPv4.
#[inline]
pub(crate) fn allowed(allow_from: &[Cidr], ip: IpAddr) -> bool {
    if allow_from.is_empty() {
        return true;
    }
    let ip = ip.to_canonical();
    allow_from.iter().any(|net| net.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|n| Cidr::parse(n).unwrap()).collect()
    }

    #[test]
    fn an_empty_list_lets_everyone_relay() {
        for ip in ["127.0.0.5", "192.0.2.1", "::1"] {
            assert!(allowed(&[], ip.parse().unwrap()), "{ip}");
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
}
