//! The host names record generation needs addresses for, resolved before it runs. [`names_to_resolve`]
//! lists them (pure, in the order generation meets them: framework hosts, agent hosts, the leader,
//! the masters), the caller resolves each one ([`HostAddrs::resolve`]: the one I/O step, through the
//! system resolver in the refresher and a fake in tests), and generation reads the answers from
//! [`HostAddrs`], so it is a pure function of the state, the config and these addresses.
//!
//! IP literals (`10.0.0.1`, `[fd00::1]`) are never looked up; neither is text that cannot be a host
//! name. Host names are case-insensitive: `Agent1` and `agent1` are one look-up.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use crate::addr::{split_host_port, Host, HostPort};
use crate::mesos::state::State;
use crate::records::label::{self, Spec};

/// A host as the state or the config gives it.
enum HostText<'a> {
    /// An IP literal, bracketed or not.
    Ip(IpAddr),
    /// Something that looks like a host name, as written.
    Name(&'a str),
    /// Nothing a resolver could answer (empty, too long, spaces or control characters).
    Unusable,
}

fn classify(host: &str) -> HostText<'_> {
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if let Ok(ip) = host.parse::<IpAddr>() {
        return HostText::Ip(ip);
    }
    if host.is_empty() || host.len() > label::MAX_NAME_LEN || !host.bytes().all(|b| b.is_ascii_graphic()) {
        return HostText::Unusable;
    }
    HostText::Name(host)
}

/// Every host name generation asks addresses for, once each (in the spelling first met), in the order
/// it asks: the host of each framework that gets a name (`spec` makes its label), of each agent, of
/// the leader, then of each master in `masters` (those only when the state names a readable leader).
pub(crate) fn names_to_resolve<'a, T>(state: &'a State<'a, T>, masters: &'a [HostPort], spec: Spec) -> Vec<&'a str> {
    let mut names = Names::default();
    for f in &state.frameworks {
        if !spec.domain_frag(&f.name).is_empty() {
            names.add(f.host_port().0);
        }
    }
    for s in &state.slaves {
        names.add(s.host_port().0);
    }
    let Some((leader, _)) = state.leader.split('@').nth(1).and_then(split_host_port) else {
        return names.list;
    };
    names.add(leader);
    for master in masters {
        if let Host::Name(name) = master.host() {
            names.add(name);
        }
    }
    names.list
}

/// The names listed so far, and their lower-case forms.
#[derive(Default)]
struct Names<'a> {
    list: Vec<&'a str>,
    seen: HashSet<String>,
}

impl<'a> Names<'a> {
    fn add(&mut self, host: &'a str) {
        if let HostText::Name(name) = classify(host) {
            if self.seen.insert(name.to_ascii_lowercase()) {
                self.list.push(name);
            }
        }
    }
}

/// The addresses of the host names of one generation run, by lower-case name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct HostAddrs {
    by_name: HashMap<String, Vec<IpAddr>>,
}

impl HostAddrs {
    /// Resolves each name with `resolve` (which gets the name as listed), keeping each address once.
    pub(crate) fn resolve(names: &[&str], resolve: &dyn Fn(&str) -> Vec<IpAddr>) -> HostAddrs {
        let mut by_name = HashMap::with_capacity(names.len());
        for name in names {
            let mut ips: Vec<IpAddr> = Vec::new();
            for ip in resolve(name) {
                if !ips.contains(&ip) {
                    ips.push(ip);
                }
            }
            by_name.entry(name.to_ascii_lowercase()).or_insert(ips);
        }
        HostAddrs { by_name }
    }

    /// The addresses of a host as the state writes it: an IP literal (`[v6]` allowed) as it is, a
    /// name as it resolved (none when it did not, or was not listed), nothing for unusable text.
    pub(crate) fn of(&self, host: &str) -> Vec<IpAddr> {
        match classify(host) {
            HostText::Ip(ip) => vec![ip],
            HostText::Name(name) => self.of_name(name),
            HostText::Unusable => Vec::new(),
        }
    }

    /// The addresses of a parsed host.
    pub(crate) fn of_host(&self, host: &Host) -> Vec<IpAddr> {
        match host {
            Host::Ip(ip) => vec![*ip],
            Host::Name(name) => self.of(name),
        }
    }

    fn of_name(&self, name: &str) -> Vec<IpAddr> {
        let found = match self.by_name.get(name) {
            Some(ips) => Some(ips),
            None => self.by_name.get(&name.to_ascii_lowercase()),
        };
        found.cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesos::state::parse;

    const DOC: &[u8] = br#"{"leader": "master@Leader.Example:5050",
        "frameworks": [{"name": "web", "pid": "scheduler@Agent1:1"}, {"name": "", "pid": "scheduler@nameless:1"},
            {"name": "db", "hostname": "10.0.0.7"}],
        "slaves": [{"id": "S1", "pid": "slave(1)@agent1:5051"}, {"id": "S2", "pid": "slave(1)@[fd00::2]:5051"},
            {"id": "S3", "hostname": "bad host"}, {"id": "S4", "pid": "slave(1)@agent4.example:5051"}]}"#;

    fn masters(list: &[&str]) -> Vec<HostPort> {
        list.iter().map(|m| HostPort::parse(m).unwrap()).collect()
    }

    #[test]
    fn names_are_listed_once_in_the_order_generation_meets_them() {
        let state = parse(DOC).unwrap();
        let masters = masters(&["10.0.0.1:5050", "leader.example:5050", "M2.Example:5050"]);
        let names = names_to_resolve(&state, &masters, Spec::new(false));
        assert_eq!(names, ["Agent1", "agent4.example", "Leader.Example", "m2.example"]);
    }

    #[test]
    fn without_a_readable_leader_no_master_is_looked_up() {
        let doc = br#"{"leader": "nobody", "slaves": [{"id": "S1", "pid": "slave(1)@agent1:5051"}]}"#;
        let state = parse(doc).unwrap();
        let masters = masters(&["m1.example:5050"]);
        assert_eq!(names_to_resolve(&state, &masters, Spec::new(false)), ["agent1"]);
    }

    #[test]
    fn addresses_come_from_the_one_resolution_step() {
        let asked = std::cell::RefCell::new(Vec::new());
        let resolve = |name: &str| {
            asked.borrow_mut().push(name.to_owned());
            match name {
                "Agent1" => vec!["10.1.0.1".parse().unwrap(), "10.1.0.1".parse().unwrap()],
                _ => Vec::new(),
            }
        };
        let hosts = HostAddrs::resolve(&["Agent1", "gone.example"], &resolve);
        assert_eq!(*asked.borrow(), ["Agent1", "gone.example"]);
        let one: Vec<IpAddr> = vec!["10.1.0.1".parse().unwrap()];
        assert_eq!(hosts.of("agent1"), one, "any case, each address once");
        assert_eq!(hosts.of("AGENT1"), one);
        assert_eq!(hosts.of_host(&Host::Name("agent1".into())), one);
        assert!(hosts.of("gone.example").is_empty());
        assert!(hosts.of("never-listed").is_empty());
        assert!(hosts.of("bad host").is_empty());
        assert_eq!(hosts.of("[fd00::2]"), vec!["fd00::2".parse::<IpAddr>().unwrap()]);
        assert_eq!(hosts.of("10.0.0.7"), vec!["10.0.0.7".parse::<IpAddr>().unwrap()]);
        assert_eq!(asked.borrow().len(), 2, "reading addresses looks nothing up");
    }
}
