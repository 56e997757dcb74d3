//! Zone-local answers (`preferLocalZone`): which Mesos fault-domain zone a query's source address is
//! in, and which zone the address of each A and AAAA record is in ([`ZoneMap`]), both sorted tables
//! built once with the snapshot, so that answering asks a binary search and copies.
//!
//! A zone is an agent's (region, zone) pair, numbered by a `u16` id; a task's zone is its agent's. The
//! sources are the agents' addresses; a query from loopback counts as from the server's own host, whose
//! zone is that of an agent at one of the host's interface addresses. The record addresses are the
//! agents' (host networking, and the `.slave.` SRV targets) and the tasks' own on zoned agents. An
//! address two zones claim (a bridge address reused on every agent) belongs to none. What the
//! answer does with a zone is `crate::answer`'s; reading agents' domains is `crate::records`'.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use super::RecordList;

/// No zone (an address no zone claims, or two do).
pub(crate) const NO_ZONE: u16 = u16::MAX;

/// An agent in a zone, as record generation saw it: its id, zone and addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AgentZone {
    pub agent: Box<str>,
    pub region: Box<str>,
    pub zone: Box<str>,
    pub addrs: Vec<IpAddr>,
}

/// Source address -> zone and record address -> zone, keyed by the address as a `u128` (IPv4 as
/// its IPv4-mapped IPv6 form, so that a dual-stack socket's `::ffff:a.b.c.d` is the same source).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZoneMap {
    /// Agent addresses, sorted, each with its agent's zone.
    sources: Box<[(u128, u16)]>,
    /// Record addresses (agents' and tasks'), sorted, each with its zone.
    addresses: Box<[(u128, u16)]>,
    /// The zone of queries from loopback: the server's host's, when it is an agent ([`NO_ZONE`] if not).
    loopback: u16,
    /// Zone names by id: (region, zone).
    names: Box<[(Box<str>, Box<str>)]>,
}

impl ZoneMap {
    /// The map of `agents` (their zones and addresses), `tasks` (the id of a task's agent and one of
    /// its record addresses) and the host's interface addresses `host`. `None` when no agent is in a
    /// zone: answers are then as without `preferLocalZone`.
    pub(crate) fn build<'t>(
        agents: &[AgentZone],
        tasks: impl Iterator<Item = (&'t str, IpAddr)>,
        host: &[IpAddr],
    ) -> Option<ZoneMap> {
        let mut names: Vec<(Box<str>, Box<str>)> = agents.iter().map(|a| (a.region.clone(), a.zone.clone())).collect();
        names.sort_unstable();
        names.dedup();
        names.truncate(usize::from(NO_ZONE));
        if names.is_empty() {
            return None;
        }
        let id_of = |a: &AgentZone| {
            let key = (a.region.clone(), a.zone.clone());
            names.binary_search(&key).map_or(NO_ZONE, |i| i as u16)
        };
        let mut by_agent: HashMap<&str, u16> = HashMap::with_capacity(agents.len());
        let mut sources = Vec::new();
        for a in agents {
            let zone = id_of(a);
            by_agent.insert(&a.agent, zone);
            sources.extend(a.addrs.iter().map(|&ip| (key(ip), zone)));
        }
        let mut addresses = sources.clone();
        for (agent, ip) in tasks {
            if let Some(&zone) = by_agent.get(agent) {
                addresses.push((key(ip), zone));
            }
        }
        let sources = settle(sources);
        let addresses = settle(addresses);
        let loopback = host
            .iter()
            .filter_map(|&ip| find(&sources, key(ip)))
            .find(|&z| z != NO_ZONE)
            .unwrap_or(NO_ZONE);
        Some(ZoneMap {
            sources,
            addresses,
            loopback,
            names: names.into_boxed_slice(),
        })
    }

    /// The map of the agents and tasks of `list` (see [`build`](Self::build)).
    pub fn of_list(list: &RecordList, host: &[IpAddr]) -> Option<ZoneMap> {
        ZoneMap::build(list.agent_zones(), list.task_addresses(), host)
    }

    /// The zone of a query from `source`: its agent's, or for loopback the host's; `None` when the
    /// source is in no zone (answered as without `preferLocalZone`).
    #[inline]
    pub fn zone_of_source(&self, source: IpAddr) -> Option<u16> {
        let k = key(source);
        let zone = match find(&self.sources, k) {
            Some(z) => z,
            None if is_loopback(k) => self.loopback,
            None => NO_ZONE,
        };
        (zone != NO_ZONE).then_some(zone)
    }

    /// The zone of a record address (4 or 16 octets), [`NO_ZONE`] if none.
    #[inline]
    pub fn zone_of_address(&self, address: &[u8]) -> u16 {
        let k = match address.len() {
            4 => v4_key(address.try_into().unwrap_or_default()),
            _ => u128::from_be_bytes(address.try_into().unwrap_or_default()),
        };
        find(&self.addresses, k).unwrap_or(NO_ZONE)
    }

    /// The (region, zone) names of zone `id`.
    #[cfg(test)]
    pub fn name(&self, id: u16) -> Option<(&str, &str)> {
        self.names.get(usize::from(id)).map(|(r, z)| (&**r, &**z))
    }

    /// How many zones, agent addresses and record addresses the map knows (for the log).
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.names.len(), self.sources.len(), self.addresses.len())
    }
}

/// Sorted by address, one entry per address: an address claimed by two zones gets [`NO_ZONE`].
fn settle(mut table: Vec<(u128, u16)>) -> Box<[(u128, u16)]> {
    table.sort_unstable();
    table.dedup();
    let mut out: Vec<(u128, u16)> = Vec::with_capacity(table.len());
    for (k, z) in table {
        match out.last_mut() {
            Some(last) if last.0 == k => last.1 = NO_ZONE,
            _ => out.push((k, z)),
        }
    }
    out.into_boxed_slice()
}

#[inline]
fn find(table: &[(u128, u16)], k: u128) -> Option<u16> {
    table
        .binary_search_by(|e| e.0.cmp(&k))
        .ok()
        .and_then(|i| table.get(i))
        .map(|e| e.1)
}

#[inline]
fn v4_key(octets: [u8; 4]) -> u128 {
    (0xffff << 32) | u128::from(u32::from_be_bytes(octets))
}

fn key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => v4_key(v4.octets()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// `127.0.0.0/8` (as its mapped form) or `::1`.
fn is_loopback(k: u128) -> bool {
    k == 1 || (k >> 32 == 0xffff && Ipv4Addr::from(k as u32).is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn agent(id: &str, region: &str, zone: &str, addrs: &[&str]) -> AgentZone {
        AgentZone {
            agent: id.into(),
            region: region.into(),
            zone: zone.into(),
            addrs: addrs.iter().map(|a| ip(a)).collect(),
        }
    }

    fn map(host: &[&str]) -> ZoneMap {
        let agents = [
            agent("a1", "eu", "eu-1", &["10.0.0.1", "fd00::1"]),
            agent("a2", "eu", "eu-2", &["10.0.0.2"]),
            agent("a3", "eu", "eu-1", &["10.0.0.3"]),
        ];
        let tasks = [
            ("a1", ip("172.17.0.2")),
            ("a2", ip("172.17.0.2")),
            ("a2", ip("192.168.5.5")),
            ("unzoned", ip("192.168.9.9")),
        ];
        let host: Vec<IpAddr> = host.iter().map(|a| ip(a)).collect();
        ZoneMap::build(&agents, tasks.into_iter(), &host).unwrap()
    }

    #[test]
    fn agents_in_one_region_and_zone_share_a_zone_id_and_sources_find_it() {
        let m = map(&[]);
        let one = m.zone_of_source(ip("10.0.0.1")).unwrap();
        assert_eq!(m.zone_of_source(ip("10.0.0.3")), Some(one));
        assert_eq!(m.zone_of_source(ip("fd00::1")), Some(one), "IPv6 agent addresses too");
        assert_eq!(
            m.zone_of_source(ip("::ffff:10.0.0.1")),
            Some(one),
            "a v4-mapped source is the v4 one"
        );
        let two = m.zone_of_source(ip("10.0.0.2")).unwrap();
        assert_ne!(one, two);
        assert_eq!(m.name(one), Some(("eu", "eu-1")));
        assert_eq!(m.name(two), Some(("eu", "eu-2")));
        assert_eq!(m.zone_of_source(ip("10.0.0.9")), None, "not an agent");
        assert_eq!(
            m.zone_of_source(ip("192.168.5.5")),
            None,
            "a task's address is no source"
        );
    }

    #[test]
    fn record_addresses_are_agents_and_tasks_on_zoned_agents() {
        let m = map(&[]);
        let one = m.zone_of_source(ip("10.0.0.1")).unwrap();
        let two = m.zone_of_source(ip("10.0.0.2")).unwrap();
        assert_eq!(m.zone_of_address(&[10, 0, 0, 3]), one);
        assert_eq!(m.zone_of_address(&[192, 168, 5, 5]), two);
        assert_eq!(m.zone_of_address(&ip6("fd00::1")), one);
        assert_eq!(
            m.zone_of_address(&[172, 17, 0, 2]),
            NO_ZONE,
            "claimed by two zones: none"
        );
        assert_eq!(m.zone_of_address(&[192, 168, 9, 9]), NO_ZONE, "its agent has no zone");
        assert_eq!(m.zone_of_address(&[1, 2, 3]), NO_ZONE, "not an address");
    }

    fn ip6(s: &str) -> [u8; 16] {
        s.parse::<std::net::Ipv6Addr>().unwrap().octets()
    }

    #[test]
    fn loopback_is_the_hosts_zone_when_the_host_is_an_agent() {
        let unknown = map(&["127.0.0.1", "10.9.9.9", "::1"]);
        assert_eq!(unknown.zone_of_source(ip("127.0.0.1")), None, "the host is no agent");
        let m = map(&["127.0.0.1", "10.0.0.2", "::1"]);
        let two = m.zone_of_source(ip("10.0.0.2"));
        assert!(two.is_some());
        for lo in ["127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(m.zone_of_source(ip(lo)), two, "{lo}");
        }
        assert_eq!(m.zone_of_source(ip("10.0.0.1")), m.zone_of_source(ip("10.0.0.3")));
    }

    #[test]
    fn no_zoned_agent_no_map() {
        assert_eq!(ZoneMap::build(&[], std::iter::empty(), &[]), None);
    }
}
