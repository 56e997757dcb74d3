//! Which resolvers a name outside the domain goes to: `zoneResolvers` for the longest matching zone,
//! else `resolvers`, else the nameservers of `/etc/resolv.conf` (never ourselves).

use std::net::{IpAddr, SocketAddr};

use crate::config::Config;
use crate::wire::text_to_wire;
use crate::wire::LowerName;

/// The resolver lists, each zone's name in lower-case wire form.
#[derive(Debug, Clone, Default)]
pub struct Upstreams {
    default: Vec<SocketAddr>,
    zones: Vec<(Vec<u8>, Vec<SocketAddr>)>,
}

/// Identifies one resolver list of an [`Upstreams`] (0: the default list, i + 1: zone i).
pub(crate) type ListId = usize;

impl Upstreams {
    /// Builds the lists from the config. When `resolvers` is empty, the nameservers of `resolv_conf` (the
    /// text of `/etc/resolv.conf`) are used. Resolvers that are `own` (our DNS address) are left out:
    /// asking ourselves would loop. Returns the lists and warnings to log.
    #[cfg(any(test, feature = "internals"))]
    pub fn new(config: &Config, resolv_conf: Option<&str>, own: SocketAddr) -> (Upstreams, Vec<String>) {
        Upstreams::new_with_local(config, resolv_conf, own, &[])
    }

    /// [`Upstreams::new`], knowing the host's own addresses: when `own` is the unspecified address (we
    /// listen on every interface), a resolver on our port at the unspecified address or at one of
    /// `local_ips` (the addresses configured on the interfaces, loopback's `127.0.0.1` and `::1`
    /// included) is ourselves too. Other loopback addresses are not: they may be redirected elsewhere
    /// by the host's NAT rules (Docker's embedded DNS `127.0.0.11:53` is a DNAT to another port), and
    /// one that does reach us is caught at run time by the loop detection (`Table::is_own_query`).
    pub fn new_with_local(
        config: &Config,
        resolv_conf: Option<&str>,
        own: SocketAddr,
        local_ips: &[IpAddr],
    ) -> (Upstreams, Vec<String>) {
        let own_ip = own.ip().to_canonical();
        let is_own = |r: SocketAddr| {
            let ip = r.ip().to_canonical();
            r.port() == own.port()
                && (ip == own_ip
                    || (own_ip.is_unspecified()
                        && (ip.is_unspecified() || local_ips.iter().any(|l| l.to_canonical() == ip))))
        };
        let mut warnings = Vec::new();
        let mut keep = |list: &[SocketAddr], what: &str| -> Vec<SocketAddr> {
            list.iter()
                .copied()
                .filter(|r| {
                    let ours = is_own(*r);
                    if ours {
                        warnings.push(format!(
                            "{what} {r} is this server's own address: not used (it would loop)"
                        ));
                    }
                    !ours
                })
                .collect()
        };
        let configured = if config.resolvers.is_empty() {
            resolv_conf.map(parse_resolv_conf).unwrap_or_default()
        } else {
            config.resolvers.clone()
        };
        let default = keep(&configured, "resolver");
        let mut zones = Vec::new();
        for (zone, list) in &config.zone_resolvers {
            let mut wire = Vec::new();
            if text_to_wire(zone, &mut wire).is_some() {
                zones.push((wire, keep(list, "zone resolver")));
            }
        }
        // Longest zone first, so the first match is the longest.
        zones.sort_by_key(|z| std::cmp::Reverse(z.0.len()));
        (Upstreams { default, zones }, warnings)
    }

    /// The list for `name`: the longest matching zone's, else the default.
    pub fn select(&self, name: &LowerName) -> ListId {
        let wire = name.as_wire();
        for (i, (zone, _)) in self.zones.iter().enumerate() {
            let skip = name.label_count().saturating_sub(label_count(zone));
            if wire.len() >= zone.len() && name.suffix(skip) == &zone[..] {
                return i + 1;
            }
        }
        0
    }

    /// The resolvers of a list.
    pub fn list(&self, id: ListId) -> &[SocketAddr] {
        match id {
            0 => &self.default,
            i => self.zones.get(i - 1).map_or(&[], |z| &z.1),
        }
    }

    /// Every resolver of every list.
    pub fn all(&self) -> impl Iterator<Item = &SocketAddr> {
        self.default.iter().chain(self.zones.iter().flat_map(|z| z.1.iter()))
    }
}

fn label_count(wire: &[u8]) -> usize {
    let (mut n, mut pos) = (0, 0);
    while let Some(&len) = wire.get(pos) {
        if len == 0 {
            break;
        }
        n += 1;
        pos += usize::from(len) + 1;
    }
    n
}

/// The `nameserver` addresses of a resolv.conf, port 53. Scoped IPv6 (`fe80::1%eth0`) is skipped.
pub fn parse_resolv_conf(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver")).then(|| words.next()).flatten()
        })
        .filter_map(|addr| addr.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{lower_name, NameRef};

    fn lower(name: &str) -> LowerName {
        let mut msg = vec![0u8; 12];
        let mut wire = Vec::new();
        text_to_wire(name, &mut wire).unwrap();
        msg.extend_from_slice(&wire);
        lower_name(&NameRef::parse(&msg, 12).unwrap().0)
    }

    fn config(resolvers: &[&str], zones: &[(&str, &[&str])]) -> Config {
        let mut c = Config {
            resolvers: resolvers.iter().map(|r| r.parse().unwrap()).collect(),
            ..Config::default()
        };
        for (z, list) in zones {
            c.zone_resolvers
                .insert(z.to_string(), list.iter().map(|r| r.parse().unwrap()).collect());
        }
        c
    }

    const OWN: &str = "127.0.0.1:5353";

    #[test]
    fn longest_zone_wins_then_default() {
        let c = config(
            &["127.0.0.2:53"],
            &[
                ("corp", &["127.0.0.3:53"]),
                ("eu.corp", &["127.0.0.4:53"]),
                ("other", &["127.0.0.5:53"]),
            ],
        );
        let (u, w) = Upstreams::new(&c, None, OWN.parse().unwrap());
        assert!(w.is_empty());
        let ip = |name: &str| u.list(u.select(&lower(name)))[0].to_string();
        assert_eq!(ip("a.EU.corp"), "127.0.0.4:53");
        assert_eq!(ip("eu.corp"), "127.0.0.4:53");
        assert_eq!(ip("x.corp"), "127.0.0.3:53");
        assert_eq!(ip("www.google.com"), "127.0.0.2:53");
        assert_eq!(ip("notcorp"), "127.0.0.2:53");
        assert_eq!(ip("xcorp"), "127.0.0.2:53");
        assert_eq!(u.all().count(), 4);
    }

    #[test]
    fn empty_resolvers_read_resolv_conf_without_ourselves() {
        let conf = "# comment\nsearch example.internal\nnameserver 127.0.0.1\nnameserver 127.0.0.53\n\
                    nameserver ::1\nnameserver fe80::1%eth0\nnameserver bogus\noptions ndots:2\n";
        let own = "127.0.0.1:53".parse().unwrap();
        let (u, w) = Upstreams::new(&config(&[], &[]), Some(conf), own);
        let got: Vec<String> = u.list(0).iter().map(|a| a.to_string()).collect();
        assert_eq!(got, ["127.0.0.53:53", "[::1]:53"]);
        assert_eq!(w.len(), 1, "{w:?}");
    }

    #[test]
    fn our_own_address_is_never_a_resolver() {
        let any: SocketAddr = "0.0.0.0:5353".parse().unwrap();
        let loopback = ["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()];
        let c = config(&["127.0.0.1:5353", "127.0.0.1:53", "0.0.0.0:5353"], &[]);
        let (u, _) = Upstreams::new_with_local(&c, None, any, &loopback);
        assert_eq!(u.list(0), &["127.0.0.1:53".parse::<SocketAddr>().unwrap()]);
        // IPv4-mapped forms and the host's own (non-loopback) addresses are ourselves too.
        let c = config(&["[::ffff:127.0.0.1]:5353", "192.0.2.7:5353", "192.0.2.8:5353"], &[]);
        let local = ["127.0.0.1".parse().unwrap(), "192.0.2.7".parse().unwrap()];
        let (u, w) = Upstreams::new_with_local(&c, None, any, &local);
        assert_eq!(u.list(0), &["192.0.2.8:5353".parse::<SocketAddr>().unwrap()]);
        assert_eq!(w.len(), 2);
        assert!(u.list(7).is_empty());
        // A specific listener is only itself: another local address on our port is another server.
        let c = config(&["127.0.0.1:5353", "127.0.0.2:5353"], &[]);
        let (u, _) = Upstreams::new_with_local(&c, None, "127.0.0.2:5353".parse().unwrap(), &loopback);
        assert_eq!(u.list(0), &["127.0.0.1:5353".parse::<SocketAddr>().unwrap()]);
    }

    #[test]
    fn dockers_embedded_dns_stays_a_resolver_on_every_interface() {
        // Docker's resolv.conf names 127.0.0.11, which its NAT rules redirect to the embedded DNS on
        // another port: it is not us, whether we listen on 53 or elsewhere (all of 127/8 is local, but
        // only the interfaces' own addresses are what we answer on for sure).
        let resolv = "nameserver 127.0.0.11\noptions ndots:0\n";
        let local = ["127.0.0.1".parse().unwrap(), "172.17.0.2".parse().unwrap()];
        for own in ["0.0.0.0:53", "0.0.0.0:5353", "[::]:53"] {
            let (u, w) = Upstreams::new_with_local(&config(&[], &[]), Some(resolv), own.parse().unwrap(), &local);
            assert_eq!(u.list(0), &["127.0.0.11:53".parse::<SocketAddr>().unwrap()], "{own}");
            assert!(w.is_empty(), "{own}: {w:?}");
        }
        // The container's own address on our port is still us.
        let c = config(&["172.17.0.2:53", "127.0.0.11:53"], &[]);
        let (u, w) = Upstreams::new_with_local(&c, None, "0.0.0.0:53".parse().unwrap(), &local);
        assert_eq!(u.list(0), &["127.0.0.11:53".parse::<SocketAddr>().unwrap()]);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn empty_or_absent_resolvers_fall_back_to_resolv_conf_nameservers() {
        // What the binary does with /etc/resolv.conf's text when the config leaves `resolvers` empty or
        // out: the list comes from resolv.conf, without our own listen address.
        let resolv = "# test\nsearch example.internal\nnameserver 127.0.0.1\nnameserver 127.0.0.53\n\
                      nameserver ::1\noptions ndots:2\n";
        let own: SocketAddr = "127.0.0.1:53".parse().unwrap();
        for doc in [
            r#"{"masters": ["127.0.0.1:5050"], "resolvers": []}"#,
            r#"{"masters": ["127.0.0.1:5050"]}"#,
        ] {
            let (config, _) = Config::from_json(doc).expect("valid config");
            assert!(config.resolvers.is_empty(), "{doc}");
            let (upstreams, warnings) = Upstreams::new(&config, Some(resolv), own);
            let got: Vec<String> = upstreams.list(0).iter().map(ToString::to_string).collect();
            assert_eq!(got, ["127.0.0.53:53", "[::1]:53"], "{doc}");
            assert!(
                warnings.iter().any(|w| w.contains("127.0.0.1:53")),
                "our own address is left out with a warning: {warnings:?}"
            );
        }
        // Configured resolvers win over resolv.conf.
        let (config, _) =
            Config::from_json(r#"{"masters": ["127.0.0.1:5050"], "resolvers": ["127.0.0.9:5300"]}"#).expect("valid");
        let (upstreams, _) = Upstreams::new(&config, Some(resolv), own);
        assert_eq!(upstreams.list(0), ["127.0.0.9:5300".parse::<SocketAddr>().unwrap()]);
    }
}
