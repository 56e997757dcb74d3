//! The host this server runs on, as record generation needs it: its own addresses (the `SOAMname`
//! records, and which agent the host is for `preferLocalZone`) from `getifaddrs(3)`, and the system
//! resolver for host names in the state. The only blocking OS look-ups of a refresh live here.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

use crate::snapshot::{RecordList, ZoneMap};

/// The addresses the server answers on, for the `SOAMname` records: the listener address itself, or,
/// when listening on the unspecified address, every address of every interface that is up, except
/// loopback and IPv6 link-local ones (useless to other hosts). `0.0.0.0` serves IPv4 only, so it gives
/// IPv4 addresses only; `::` gives both families.
pub(crate) fn self_addrs(listener: IpAddr) -> Vec<IpAddr> {
    if !listener.is_unspecified() {
        return vec![listener];
    }
    let all = match interface_addrs() {
        Ok(all) => all,
        Err(e) => {
            log::warn!("cannot list the interface addresses for the {listener} listener's own records: {e}");
            return Vec::new();
        }
    };
    let mut out: Vec<IpAddr> = Vec::new();
    for ip in all {
        let wanted = match ip {
            IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_unspecified(),
            IpAddr::V6(v6) => listener.is_ipv6() && !v6.is_loopback() && !v6.is_unspecified() && !is_link_local(v6),
        };
        if wanted && !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}

/// `fe80::/10` (`Ipv6Addr::is_unicast_link_local` needs a newer Rust than our minimum).
fn is_link_local(ip: Ipv6Addr) -> bool {
    ip.segments()[0] & 0xffc0 == 0xfe80
}

/// The list `getifaddrs(3)` gives, owned: freed exactly once when dropped, whatever happens while it is
/// read.
struct IfAddrs(*mut libc::ifaddrs);

impl IfAddrs {
    fn get() -> io::Result<IfAddrs> {
        let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
        // SAFETY: `getifaddrs` either fails (returns -1, `head` untouched, nothing to free) or gives a
        // list we own until `freeifaddrs`, which `Drop` calls.
        if unsafe { libc::getifaddrs(&mut head) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(IfAddrs(head))
    }

    /// The address of every interface that is up.
    fn addresses(&self) -> Vec<IpAddr> {
        let mut out = Vec::new();
        let mut node = self.0;
        // SAFETY: the list is alive while `self` is. Every node pointer and every `ifa_addr` is checked
        // for null before it is dereferenced, and an `ifa_addr` is reinterpreted as `sockaddr_in` or
        // `sockaddr_in6` only when its `sa_family` says it is one (the C API guarantees the storage is
        // that large then). Nothing read is kept past the walk but copied addresses.
        unsafe {
            while !node.is_null() {
                let ifa = &*node;
                let up = ifa.ifa_flags & (libc::IFF_UP as libc::c_uint) != 0;
                if up && !ifa.ifa_addr.is_null() {
                    match i32::from((*ifa.ifa_addr).sa_family) {
                        libc::AF_INET => {
                            let sin = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                            out.push(IpAddr::V4(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr))));
                        }
                        libc::AF_INET6 => {
                            let sin6 = &*(ifa.ifa_addr as *const libc::sockaddr_in6);
                            out.push(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)));
                        }
                        _ => {}
                    }
                }
                node = ifa.ifa_next;
            }
        }
        out
    }
}

impl Drop for IfAddrs {
    fn drop(&mut self) {
        // SAFETY: `self.0` came from a successful `getifaddrs` and is freed only here, once.
        unsafe { libc::freeifaddrs(self.0) }
    }
}

/// The addresses of every interface that is up (loopback included), from `getifaddrs(3)`.
pub(crate) fn interface_addrs() -> io::Result<Vec<IpAddr>> {
    Ok(IfAddrs::get()?.addresses())
}

/// The zones `preferLocalZone` answers by, for the records of `list`: its agents' fault domains, and
/// this host's interface addresses as they are at this build (loopback queries are the host's, when
/// the host is an agent). `None` when no agent is in a zone.
pub(crate) fn local_zones(list: &RecordList) -> Option<ZoneMap> {
    let host = interface_addrs().unwrap_or_else(|e| {
        log::warn!(
            "preferLocalZone: cannot list the interface addresses, so queries from loopback are in no zone: {e}"
        );
        Vec::new()
    });
    let zones = ZoneMap::of_list(list, &host);
    match &zones {
        Some(z) => {
            let (zones, agents, addresses) = z.counts();
            log::debug!("preferLocalZone: {zones} zones, {agents} agent addresses, {addresses} record addresses");
        }
        None => log::debug!("preferLocalZone: no agent has a fault domain zone"),
    }
    zones
}

/// The system resolver (`/etc/hosts`, then DNS as `nsswitch.conf` says) for host names in the state
/// (agent pids, framework hosts); IP literals are returned as they are, without a lookup. A name that
/// does not resolve gives no addresses (logged at debug level).
pub(crate) fn system_resolve(host: &str) -> Vec<IpAddr> {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return vec![ip];
    }
    match (bare, 0u16).to_socket_addrs() {
        Ok(addrs) => {
            let mut out: Vec<IpAddr> = Vec::new();
            for a in addrs {
                if !out.contains(&a.ip()) {
                    out.push(a.ip());
                }
            }
            out
        }
        Err(e) => {
            log::debug!("cannot resolve {host}: {e}");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_specific_listener_is_its_own_address() {
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(self_addrs(ip), vec![ip]);
        let v6: IpAddr = "2001:db8::5".parse().unwrap();
        assert_eq!(self_addrs(v6), vec![v6]);
    }

    #[test]
    fn wildcard_listener_gives_non_loopback_interface_addresses() {
        let all = interface_addrs().unwrap();
        assert!(all.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)), "lo is up: {all:?}");
        let v4 = self_addrs(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert!(v4.iter().all(|ip| ip.is_ipv4() && !ip.is_loopback()), "{v4:?}");
        let both = self_addrs(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        assert!(both.iter().all(|ip| !ip.is_loopback()), "{both:?}");
        assert!(v4.iter().all(|ip| both.contains(ip)));
        assert!(both.iter().all(|ip| match ip {
            IpAddr::V6(v6) => !is_link_local(*v6),
            IpAddr::V4(_) => true,
        }));
    }

    #[test]
    fn ip_literals_resolve_without_a_lookup() {
        assert_eq!(system_resolve("10.0.0.1"), vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))]);
        assert_eq!(system_resolve("[::1]"), vec![IpAddr::V6(Ipv6Addr::LOCALHOST)]);
    }
}
